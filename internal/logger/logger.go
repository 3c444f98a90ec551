// Package logger writes server logs in nats-server's line format:
//
//	[pid] 2006/01/02 15:04:05.000000 [INF] message
//
// It satisfies server.Logger; the server never logs through a global.
package logger

import (
	"fmt"
	"io"
	"os"
	"sync"
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

// Logger writes lines to one writer.
type Logger struct {
	opts   Options
	prefix string
	mu     sync.Mutex
	w      io.Writer
}

// New returns a logger writing to w.
func New(w io.Writer, opts Options) *Logger {
	l := &Logger{opts: opts, w: w}
	if opts.PID {
		l.prefix = fmt.Sprintf("[%d] ", os.Getpid())
	}
	return l
}

func (l *Logger) logf(label, format string, v []any) {
	var ts string
	if l.opts.Time {
		now := time.Now()
		if l.opts.UTC {
			now = now.UTC()
		}
		ts = now.Format("2006/01/02 15:04:05.000000 ")
	}
	line := fmt.Sprintf(l.prefix+ts+label+format+"\n", v...)
	l.mu.Lock()
	io.WriteString(l.w, line)
	l.mu.Unlock()
}

// Noticef logs at INF level.
func (l *Logger) Noticef(format string, v ...any) { l.logf("[INF] ", format, v) }

// Warnf logs at WRN level.
func (l *Logger) Warnf(format string, v ...any) { l.logf("[WRN] ", format, v) }

// Errorf logs at ERR level.
func (l *Logger) Errorf(format string, v ...any) { l.logf("[ERR] ", format, v) }

// Fatalf logs at FTL level; the caller decides whether to exit.
func (l *Logger) Fatalf(format string, v ...any) { l.logf("[FTL] ", format, v) }

// Debugf logs at DBG level when debugging is on.
func (l *Logger) Debugf(format string, v ...any) {
	if l.opts.Debug {
		l.logf("[DBG] ", format, v)
	}
}

// Tracef logs at TRC level when tracing is on.
func (l *Logger) Tracef(format string, v ...any) {
	if l.opts.Trace {
		l.logf("[TRC] ", format, v)
	}
}
