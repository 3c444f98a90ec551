package subcmd

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/msgutil"
)

// Options are the inputs of `sluice sub`.
type Options struct {
	f *cmdutil.Factory

	Subjects     []string
	Queue        string
	Count        int
	Raw          bool
	HeadersOnly  bool
	SubjectsOnly bool
	Timestamps   bool
	DeltaTime    bool
	JSON         bool
	Wait         time.Duration
	Ignore       []string
}

// New builds `sluice sub`.
func New(f *cmdutil.Factory) *cobra.Command { return NewCmd(f, nil) }

// NewCmd builds `sluice sub` with an optional run function for tests.
func NewCmd(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	o := &Options{f: f}
	cmd := &cobra.Command{
		Use:     "sub SUBJECT...",
		Aliases: []string{"subscribe"},
		Short:   "Subscribe to subjects and show the messages",
		Long: `Subscribe to one or more subjects and print the messages that arrive,
until interrupted, --count messages have arrived, or nothing has arrived
for --wait. Subjects may hold the wildcards * (one token) and > (the rest).

--json prints one JSON object per message and line: seq, subject, reply,
headers, data (or data_base64 when the body is not UTF-8), size, received.`,
		Example: `  sluice sub 'orders.>'
  sluice sub orders.new orders.cancelled --count 10
  sluice sub 'orders.*' --queue workers --raw
  sluice sub 'logs.>' --json | jq -r .data`,
		Args: cmdutil.RangeArgs(0, -1, "SUBJECT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Subjects = args
			if runF != nil {
				return runF(o)
			}
			return run(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Queue, "queue", "", "join queue `GROUP`: each message goes to one member")
	fl.IntVar(&o.Count, "count", 0, "stop after this many messages")
	fl.BoolVarP(&o.Raw, "raw", "r", false, "print only the message bodies")
	fl.BoolVar(&o.HeadersOnly, "headers-only", false, "print the headers but not the bodies")
	fl.BoolVar(&o.SubjectsOnly, "subjects-only", false, "print only the subjects")
	fl.BoolVarP(&o.Timestamps, "timestamp", "t", false, "show when each message arrived")
	fl.BoolVarP(&o.DeltaTime, "delta-time", "d", false, "show the time since the subscription started")
	fl.DurationVar(&o.Wait, "wait", 0, "stop when no message arrived for this long")
	fl.StringArrayVarP(&o.Ignore, "ignore-subject", "I", nil, "skip messages on subjects matching `SUBJECT` (repeatable)")
	cmdutil.AddJSONFlag(cmd, &o.JSON)
	return cmd
}

func run(ctx context.Context, o *Options) error {
	f := o.f
	if len(o.Subjects) == 0 {
		var s string
		if err := f.RequireInput(&s, "SUBJECT argument", "Subject to subscribe to:"); err != nil {
			return err
		}
		o.Subjects = []string{s}
	}
	for _, s := range o.Subjects {
		if err := msgutil.ValidateSubject(s, true); err != nil {
			return &cmdutil.UsageError{Err: err}
		}
	}
	if o.Count < 0 {
		return cmdutil.FlagErrorf("--count must not be negative")
	}
	if n := countTrue(o.Raw, o.JSON, o.HeadersOnly, o.SubjectsOnly); n > 1 {
		return cmdutil.FlagErrorf("choose one of --raw, --json, --headers-only and --subjects-only")
	}
	nc, err := f.Conn()
	if err != nil {
		return err
	}

	// One channel for all subscriptions keeps the server's order across
	// subjects; separate handlers would each run on their own goroutine.
	ch := make(chan *nats.Msg, msgBuffer)
	var subs []*nats.Subscription
	defer func() {
		for _, s := range subs {
			s.Unsubscribe()
		}
	}()
	for _, s := range o.Subjects {
		var sub *nats.Subscription
		if o.Queue != "" {
			sub, err = nc.ChanQueueSubscribe(s, o.Queue, ch)
		} else {
			sub, err = nc.ChanSubscribe(s, ch)
		}
		if err != nil {
			return fmt.Errorf("cannot subscribe to %q: %w", s, err)
		}
		subs = append(subs, sub)
	}
	if err := nc.FlushTimeout(f.Timeout()); err != nil {
		return err
	}
	if err := nc.LastError(); err != nil {
		return err
	}
	// Always announced on stderr: scripts wait for it before publishing.
	what := strings.Join(o.Subjects, ", ")
	if o.Queue != "" {
		what += fmt.Sprintf(" in queue group %q", o.Queue)
	}
	if o.Count > 0 {
		what += fmt.Sprintf(", stopping after %d message(s)", o.Count)
	}
	fmt.Fprintf(f.IO.ErrOut, "Subscribing on %s\n", what)

	p := &printer{o: o, start: time.Now(), jl: cmdutil.NewJSONLines(f.IO.Out)}
	var idle <-chan time.Time
	var timer *time.Timer
	if o.Wait > 0 {
		timer = time.NewTimer(o.Wait)
		defer timer.Stop()
		idle = timer.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-idle:
			return nil
		case m := <-ch:
			if !p.handle(m) {
				continue
			}
			if timer != nil {
				timer.Reset(o.Wait)
			}
			if o.Count > 0 && p.n >= o.Count {
				return nil
			}
		}
	}
}

// msgBuffer is how many messages may wait to be printed before the
// client drops them as a slow consumer and says so on stderr.
const msgBuffer = 64 * 1024

func countTrue(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// printer shows messages, one at a time from the run loop.
type printer struct {
	o     *Options
	start time.Time
	jl    *cmdutil.JSONLines
	n     int
}

// handle prints m and reports whether it counted.
func (p *printer) handle(m *nats.Msg) bool {
	o := p.o
	for _, ig := range o.Ignore {
		if msgutil.SubjectMatches(ig, m.Subject) {
			return false
		}
	}
	now := time.Now()
	p.n++
	w := o.f.IO.Out
	switch {
	case o.JSON:
		p.jl.Write(msgutil.NewMessage(m, uint64(p.n), now))
	case o.Raw:
		w.Write(m.Data)
		if len(m.Data) == 0 || m.Data[len(m.Data)-1] != '\n' {
			fmt.Fprintln(w)
		}
	default:
		ts := ""
		if o.Timestamps {
			ts = " @ " + now.Format(time.StampMicro)
		} else if o.DeltaTime {
			ts = " @ " + now.Sub(p.start).String()
		}
		fmt.Fprintf(w, "[#%d]%s Received on %q", p.n, ts, m.Subject)
		if m.Reply != "" {
			fmt.Fprintf(w, " with reply %q", m.Reply)
		}
		fmt.Fprintln(w)
		if o.SubjectsOnly {
			return true
		}
		msgutil.WriteHeaders(w, m.Header)
		if !o.HeadersOnly {
			msgutil.WriteBody(w, m.Data)
			fmt.Fprintln(w)
		}
	}
	return true
}
