package cmdutil

import (
	"context"
	"errors"
	"fmt"

	"github.com/AlecAivazis/survey/v2/terminal"
	"github.com/nats-io/nats.go"
)

// Exit codes. Scripts may rely on them; add new ones, never renumber.
const (
	ExitOK           = 0   // success
	ExitError        = 1   // any other failure
	ExitUsage        = 2   // bad flags or arguments, or missing input
	ExitConnect      = 3   // could not connect or authenticate
	ExitNotFound     = 4   // a named thing (context, stream, ...) does not exist
	ExitTimeout      = 5   // the server or a responder did not answer in time
	ExitNoResponders = 6   // a request found nobody listening
	ExitConflict     = 7   // a conditional change lost: revision mismatch, already exists
	ExitTooLarge     = 8   // over a limit: value or object too big, bucket full
	ExitCorrupt      = 9   // stored data failed its check (digest mismatch, bad chunk)
	ExitCancelled    = 130 // the user declined or interrupted
)

// ExitCodesHelp documents the exit codes for --help and the man pages.
const ExitCodesHelp = `Exit status:
  0    success
  1    failure
  2    invalid usage: unknown flag, bad argument, missing input
  3    could not connect to or authenticate with the server
  4    not found: the named context, subject or resource does not exist
  5    timed out waiting for the server or a responder
  6    no responders: nobody is listening on the request subject
  7    conflict: the key or bucket changed or exists already (revision mismatch)
  8    too large: a value or object is over the bucket's limit
  9    corrupt: stored data failed its check (digest mismatch, missing chunk)
  130  cancelled at a prompt or interrupted`

// UsageError marks errors in how a command was invoked.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// FlagErrorf returns a UsageError with a formatted message.
func FlagErrorf(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// Error is a failure with an exit code and an optional hint telling the
// user what to do next. It prints as "<err>; <hint>".
type Error struct {
	Code int
	Err  error
	Hint string
}

func (e *Error) Error() string {
	if e.Hint == "" {
		return e.Err.Error()
	}
	return e.Err.Error() + "; " + e.Hint
}

func (e *Error) Unwrap() error { return e.Err }

// WithHint wraps err with exit code code and a hint.
func WithHint(code int, err error, hint string, args ...any) error {
	if len(args) > 0 {
		hint = fmt.Sprintf(hint, args...)
	}
	return &Error{Code: code, Err: err, Hint: hint}
}

// NotFound returns an ExitNotFound error such as
// `context "prod" not found; list contexts with 'sluice context ls'`.
func NotFound(what, name, hint string) error {
	return &Error{Code: ExitNotFound, Err: fmt.Errorf("%s %q not found", what, name), Hint: hint}
}

// ErrCancelled is returned when the user declines a confirmation or
// interrupts a prompt.
var ErrCancelled = errors.New("cancelled")

// SilentError carries an exit code for a failure the command has already
// reported in its output; nothing more is printed.
type SilentError struct{ Code int }

func (e *SilentError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// IsSilent reports whether err should not be printed.
func IsSilent(err error) bool {
	var se *SilentError
	return errors.As(err, &se)
}

// ExitCode maps an error to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var se *SilentError
	if errors.As(err, &se) {
		return se.Code
	}
	var ue *UsageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	var e *Error
	if errors.As(err, &e) && e.Code != 0 {
		return e.Code
	}
	switch {
	case errors.Is(err, ErrCancelled), errors.Is(err, terminal.InterruptErr), errors.Is(err, context.Canceled):
		return ExitCancelled
	case errors.Is(err, nats.ErrNoResponders):
		return ExitNoResponders
	case errors.Is(err, nats.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return ExitTimeout
	case errors.Is(err, nats.ErrNoServers), errors.Is(err, nats.ErrAuthorization):
		return ExitConnect
	}
	return ExitError
}
