package cmdutil

import (
	"time"

	"github.com/jedib0t/go-pretty/v6/progress"
)

// Progress draws progress bars on stderr while long work runs. It is
// only ever made when stderr is a terminal; a nil *Progress and its nil
// trackers do nothing, so callers need no checks.
type Progress struct {
	pw   progress.Writer
	done chan struct{}
}

// NewProgress starts a progress display on stderr, or returns nil when
// stderr is not a terminal.
func (f *Factory) NewProgress() *Progress {
	if !f.IO.IsStderrTTY() {
		return nil
	}
	pw := progress.NewWriter()
	pw.SetOutputWriter(f.IO.ErrOut)
	pw.SetAutoStop(false)
	pw.SetTrackerLength(min(40, max(10, f.IO.TerminalWidth()-50)))
	pw.SetMessageLength(24)
	pw.SetUpdateFrequency(100 * time.Millisecond)
	pw.SetStyle(progress.StyleDefault)
	pw.Style().Visibility.ETA = true
	pw.Style().Visibility.Value = true
	pw.Style().Options.TimeInProgressPrecision = time.Millisecond
	pw.Style().Options.TimeDonePrecision = time.Millisecond
	p := &Progress{pw: pw, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		pw.Render()
	}()
	return p
}

// Tracker is one progress bar.
type Tracker struct{ t *progress.Tracker }

// Track adds a bar counting to total.
func (p *Progress) Track(message string, total int64) *Tracker {
	if p == nil {
		return nil
	}
	t := &progress.Tracker{Message: message, Total: total, Units: progress.UnitsDefault}
	p.pw.AppendTracker(t)
	return &Tracker{t: t}
}

// Increment advances the bar by n.
func (t *Tracker) Increment(n int64) {
	if t != nil {
		t.t.Increment(n)
	}
}

// SetValue moves the bar to n, for work counted elsewhere (bench's
// hot loops count with atomics and a ticker copies the count here).
func (t *Tracker) SetValue(n int64) {
	if t != nil {
		t.t.SetValue(n)
	}
}

// Done marks the bar complete.
func (t *Tracker) Done() {
	if t != nil {
		t.t.MarkAsDone()
	}
}

// Stop draws the final state and waits for the display to finish, so
// that nothing is written to stderr after Stop returns.
func (p *Progress) Stop() {
	if p == nil {
		return
	}
	p.pw.Stop()
	<-p.done
}
