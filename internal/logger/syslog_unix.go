//go:build !windows && !plan9

package logger

import (
	"fmt"
	"log/syslog"
	"net/url"
)

// NewSyslog returns a logger writing to syslog: the local daemon when
// remote is empty, otherwise udp://host:port, tcp://host:port or
// unix:///path as nats-server's remote_syslog accepts.
func NewSyslog(remote, tag string, opts Options) (*Logger, error) {
	var (
		w   *syslog.Writer
		err error
	)
	if remote == "" {
		w, err = syslog.New(syslog.LOG_DAEMON|syslog.LOG_NOTICE, tag)
	} else {
		network, addr, perr := syslogAddr(remote)
		if perr != nil {
			return nil, perr
		}
		w, err = syslog.Dial(network, addr, syslog.LOG_DAEMON|syslog.LOG_DEBUG, tag)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to syslog: %w", err)
	}
	return newLogger(&syslogSink{w: w}, opts), nil
}

func syslogAddr(remote string) (network, addr string, err error) {
	u, err := url.Parse(remote)
	if err != nil {
		return "", "", fmt.Errorf("remote syslog %q: %w", remote, err)
	}
	switch u.Scheme {
	case "udp", "tcp":
		return u.Scheme, u.Host, nil
	case "unix", "unixgram":
		return u.Scheme, u.Path, nil
	}
	return "", "", fmt.Errorf("remote syslog %q: scheme must be udp, tcp or unix", remote)
}

// syslogSink maps levels to syslog severities; syslog adds time and host.
type syslogSink struct{ w *syslog.Writer }

func (s *syslogSink) write(lv Level, _, msg string) {
	switch lv {
	case LevelFatal:
		s.w.Crit(msg)
	case LevelError:
		s.w.Err(msg)
	case LevelWarn:
		s.w.Warning(msg)
	case LevelInfo:
		s.w.Notice(msg)
	case LevelDebug:
		s.w.Debug(msg)
	case LevelTrace:
		s.w.Debug("[TRC] " + msg)
	}
}

func (s *syslogSink) reopen() error { return nil }
func (s *syslogSink) close() error  { return s.w.Close() }
