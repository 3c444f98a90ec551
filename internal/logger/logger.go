// Package logger writes server logs in nats-server's line format:
//
//	[pid] 2006/01/02 15:04:05.000000 [INF] message
//
// to standard error, to a file with size-based rotation, or to syslog
// (local or remote). It satisfies server.Logger; the server never logs
// through a global. Options may change at runtime (configuration reload)
// without locking the hot path: they sit behind an atomic pointer.
package logger

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Options shape the log lines.
type Options struct {
	Time  bool // prefix each line with the date and time
	UTC   bool // in UTC rather than local time
	Debug bool
	Trace bool
	PID   bool // prefix with [pid], as nats-server does
}

// Level is a line's severity.
type Level int

// Levels, most severe first.
const (
	LevelFatal Level = iota
	LevelError
	LevelWarn
	LevelInfo
	LevelDebug
	LevelTrace
)

var labels = [...]string{"[FTL] ", "[ERR] ", "[WRN] ", "[INF] ", "[DBG] ", "[TRC] "}

// sink is where finished lines go. Stream sinks take the whole formatted
// line; syslog takes the bare message because syslog adds its own header.
type sink interface {
	write(lv Level, line, msg string)
	reopen() error
	close() error
}

// Logger writes lines to one sink.
type Logger struct {
	opts   atomic.Pointer[Options]
	prefix string
	out    atomic.Pointer[sinkRef]
}

type sinkRef struct{ s sink }

// New returns a logger writing to w.
func New(w io.Writer, opts Options) *Logger {
	return newLogger(&writerSink{w: w}, opts)
}

func newLogger(s sink, opts Options) *Logger {
	l := &Logger{prefix: fmt.Sprintf("[%d] ", os.Getpid())}
	l.opts.Store(&opts)
	l.out.Store(&sinkRef{s})
	return l
}

// SetOptions changes the line shape and levels, e.g. on reload.
func (l *Logger) SetOptions(opts Options) { l.opts.Store(&opts) }

// Options reports the options in force.
func (l *Logger) Options() Options { return *l.opts.Load() }

// Reopen closes and reopens a log file, so that an external tool that
// moved it away (logrotate) sees the server write to a fresh one.
// Sinks other than files have nothing to reopen.
func (l *Logger) Reopen() error { return l.out.Load().s.reopen() }

// Close releases the file or syslog connection.
func (l *Logger) Close() error { return l.out.Load().s.close() }

// Redirect makes l write where next writes, with next's options, and
// closes l's old destination: a reload that moves the log keeps the
// Logger the server holds. next must not be used afterwards.
func (l *Logger) Redirect(next *Logger) error {
	l.opts.Store(next.opts.Load())
	old := l.out.Swap(next.out.Load())
	return old.s.close()
}

func (l *Logger) logf(lv Level, format string, v []any) {
	msg := fmt.Sprintf(format, v...)
	l.out.Load().s.write(lv, l.line(lv, msg), msg)
}

// line formats msg as one complete log line.
func (l *Logger) line(lv Level, msg string) string {
	o := l.opts.Load()
	var b []byte
	if o.PID {
		b = append(b, l.prefix...)
	}
	if o.Time {
		now := time.Now()
		if o.UTC {
			now = now.UTC()
		}
		b = now.AppendFormat(b, "2006/01/02 15:04:05.000000 ")
	}
	b = append(b, labels[lv]...)
	b = append(b, msg...)
	b = append(b, '\n')
	return string(b)
}

// Noticef logs at INF level.
func (l *Logger) Noticef(format string, v ...any) { l.logf(LevelInfo, format, v) }

// Warnf logs at WRN level.
func (l *Logger) Warnf(format string, v ...any) { l.logf(LevelWarn, format, v) }

// Errorf logs at ERR level.
func (l *Logger) Errorf(format string, v ...any) { l.logf(LevelError, format, v) }

// Fatalf logs at FTL level; the caller decides whether to exit.
func (l *Logger) Fatalf(format string, v ...any) { l.logf(LevelFatal, format, v) }

// Debugf logs at DBG level when debugging is on.
func (l *Logger) Debugf(format string, v ...any) {
	if l.opts.Load().Debug {
		l.logf(LevelDebug, format, v)
	}
}

// Tracef logs at TRC level when tracing is on.
func (l *Logger) Tracef(format string, v ...any) {
	if l.opts.Load().Trace {
		l.logf(LevelTrace, format, v)
	}
}

// writerSink serialises whole lines onto a writer such as stderr.
type writerSink struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *writerSink) write(_ Level, line, _ string) {
	s.mu.Lock()
	io.WriteString(s.w, line)
	s.mu.Unlock()
}

func (s *writerSink) reopen() error { return nil }
func (s *writerSink) close() error  { return nil }
