package pubcmd

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/msgutil"
)

// Options are the inputs of `sluice pub`.
type Options struct {
	f *cmdutil.Factory

	Subject    string
	Body       string
	BodySet    bool
	Reply      string
	Headers    []string
	Count      int
	Sleep      time.Duration
	ForceStdin bool
	SendOn     string
	Templates  bool
	Quiet      bool
	JSON       bool
}

// Result is what --json prints.
type Result struct {
	Subject  string        `json:"subject"`
	Messages int           `json:"messages"`
	Bytes    int64         `json:"bytes"`
	Duration time.Duration `json:"duration_ns"`
}

// New builds `sluice pub`. runF replaces the run function in tests.
func New(f *cmdutil.Factory) *cobra.Command { return NewCmd(f, nil) }

// NewCmd builds `sluice pub` with an optional run function for tests.
func NewCmd(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	o := &Options{f: f}
	cmd := &cobra.Command{
		Use:     "pub SUBJECT [BODY]",
		Aliases: []string{"publish"},
		Short:   "Publish messages",
		Long: `Publish a message to SUBJECT. The body is BODY, or else what stdin holds
(one message per line with --send-on newline). --count repeats the message.

` + msgutil.TemplateHelp + `

Templates apply to BODY, the subject and header values, not to stdin.`,
		Example: `  sluice pub orders.new '{"id": 1}'
  sluice pub orders.new --count 10 --sleep 100ms 'order {{Count}} at {{TimeStamp}}'
  sluice pub orders.new -H Nats-Msg-Id:abc -H Source:cli 'hello'
  cat order.json | sluice pub orders.new
  tail -f app.log | sluice pub logs.app --send-on newline`,
		Args: cmdutil.RangeArgs(0, 2, "SUBJECT", "BODY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				o.Subject = args[0]
			}
			if len(args) > 1 {
				o.Body, o.BodySet = args[1], true
			}
			if runF != nil {
				return runF(o)
			}
			return run(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Reply, "reply", "", "reply `SUBJECT` to set on the messages")
	fl.StringArrayVarP(&o.Headers, "header", "H", nil, "add a header, as `Key:Value` (repeatable)")
	fl.IntVar(&o.Count, "count", 1, "publish this many messages")
	fl.DurationVar(&o.Sleep, "sleep", 0, "pause between messages")
	fl.BoolVar(&o.ForceStdin, "force-stdin", false, "read the body from stdin; the default without BODY (kept for natscli scripts)")
	fl.StringVar(&o.SendOn, "send-on", msgutil.SendOnEOF, "with stdin: send one message at `eof`, or one per newline")
	fl.BoolVar(&o.Templates, "templates", true, "expand templates in the body, subject and headers")
	fl.BoolVarP(&o.Quiet, "quiet", "q", false, "print nothing but errors")
	cmdutil.AddJSONFlag(cmd, &o.JSON)
	return cmd
}

type publisher struct {
	o       *Options
	nc      *nats.Conn
	subject *msgutil.Template
	hdrs    *msgutil.Headers
	n       int // messages published
	bytes   int64
	tracker *cmdutil.Tracker
}

func run(ctx context.Context, o *Options) error {
	f := o.f
	if err := f.RequireInput(&o.Subject, "SUBJECT argument", "Subject to publish to:"); err != nil {
		return err
	}
	if o.Count < 1 {
		return cmdutil.FlagErrorf("--count must be at least 1, not %d", o.Count)
	}
	if o.SendOn != msgutil.SendOnEOF && o.SendOn != msgutil.SendOnNewline {
		return cmdutil.FlagErrorf("--send-on must be eof or newline, not %q", o.SendOn)
	}
	subj, err := msgutil.Compile(o.Subject, o.Templates)
	if err != nil {
		return &cmdutil.UsageError{Err: err}
	}
	if subj.IsLiteral() {
		if err := msgutil.ValidateSubject(o.Subject, false); err != nil {
			return &cmdutil.UsageError{Err: err}
		}
	}
	if o.Reply != "" {
		if err := msgutil.ValidateSubject(o.Reply, false); err != nil {
			return cmdutil.FlagErrorf("--reply: %v", err)
		}
	}
	hdrs, err := msgutil.ParseHeaders(o.Headers, o.Templates)
	if err != nil {
		return &cmdutil.UsageError{Err: err}
	}
	var body *msgutil.Template
	if o.BodySet {
		if body, err = msgutil.Compile(o.Body, o.Templates); err != nil {
			return &cmdutil.UsageError{Err: err}
		}
	}
	nc, err := f.Conn()
	if err != nil {
		return err
	}
	p := &publisher{o: o, nc: nc, subject: subj, hdrs: hdrs}
	progress := (*cmdutil.Progress)(nil)
	if o.Count > 20 && !o.Quiet && !o.JSON {
		progress = f.NewProgress()
		p.tracker = progress.Track("Publishing", int64(o.Count))
	}
	start := time.Now()
	if o.BodySet {
		err = p.publishN(ctx, func(n int) ([]byte, error) { return body.Execute(n, nil) })
	} else {
		if f.IO.IsStdinTTY() && !o.Quiet {
			fmt.Fprintln(f.IO.ErrOut, "Reading the message body from stdin; end it with Ctrl-D")
		}
		err = msgutil.ReadBodies(ctx, f.IO.In, o.SendOn, func(b []byte) error {
			return p.publishN(ctx, func(int) ([]byte, error) { return b, nil })
		})
	}
	if err == nil {
		err = nc.FlushTimeout(f.Timeout())
	}
	if err == nil {
		err = nc.LastError()
	}
	p.tracker.Done()
	progress.Stop()
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	if o.JSON {
		return cmdutil.WriteJSON(f.IO.Out, Result{Subject: o.Subject, Messages: p.n, Bytes: p.bytes, Duration: elapsed})
	}
	if !o.Quiet && p.n > 1 {
		fmt.Fprintf(f.IO.ErrOut, "Published %s messages (%s) to %q in %s\n",
			cmdutil.Comma(int64(p.n)), cmdutil.IBytes(uint64(p.bytes)), o.Subject, cmdutil.Duration(elapsed))
	}
	return nil
}

// publishN publishes o.Count messages with bodies from body(n).
func (p *publisher) publishN(ctx context.Context, body func(n int) ([]byte, error)) error {
	o := p.o
	for i := 1; i <= o.Count; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if p.n > 0 && o.Sleep > 0 {
			t := time.NewTimer(o.Sleep)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
		subj, err := p.subject.Execute(i, nil)
		if err != nil {
			return err
		}
		if !p.subject.IsLiteral() {
			if err := msgutil.ValidateSubject(string(subj), false); err != nil {
				return err
			}
		}
		data, err := body(i)
		if err != nil {
			return err
		}
		hdr, err := p.hdrs.Build(i)
		if err != nil {
			return err
		}
		msg := &nats.Msg{Subject: string(subj), Reply: o.Reply, Data: data, Header: hdr}
		if err := p.nc.PublishMsg(msg); err != nil {
			return fmt.Errorf("cannot publish to %q: %w", subj, err)
		}
		p.n++
		p.bytes += int64(len(data))
		p.tracker.Increment(1)
		if p.tracker == nil && !o.Quiet && !o.JSON && o.Count <= 20 {
			fmt.Fprintf(p.o.f.IO.ErrOut, "Published %d bytes to %q\n", len(data), subj)
		}
	}
	return nil
}
