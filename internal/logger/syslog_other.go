//go:build windows || plan9

package logger

import "errors"

// NewSyslog is not available here: Windows has the event log instead.
func NewSyslog(remote, tag string, opts Options) (*Logger, error) {
	return nil, errors.New("syslog is not supported on this platform")
}
