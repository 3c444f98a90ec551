package requestcmd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/msgutil"
)

// Options are the inputs of `sluice request`.
type Options struct {
	f *cmdutil.Factory

	Subject      string
	Body         string
	BodySet      bool
	Headers      []string
	Count        int
	Replies      int
	ReplyTimeout time.Duration
	WaitForEmpty bool
	Raw          bool
	JSON         bool
	Templates    bool
	ForceStdin   bool
	SendOn       string
}

// New builds `sluice request`.
func New(f *cmdutil.Factory) *cobra.Command { return NewCmd(f, nil) }

// NewCmd builds `sluice request` with an optional run function for tests.
func NewCmd(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	o := &Options{f: f}
	cmd := &cobra.Command{
		Use:     "request SUBJECT [BODY]",
		Aliases: []string{"req"},
		Short:   "Send a request and show the replies",
		Long: `Send a request to SUBJECT and print the reply body on stdout; the round
trip time and reply headers go to stderr. The body is BODY, or else stdin.

The first reply is awaited for --timeout. With --replies N the command
waits for N replies (0: as many as arrive within --timeout); after the
first, it stops when none arrives for the average round trip plus
--reply-timeout.

When nobody listens on the subject the server says so at once, and the
command fails with exit status 6. When nobody answers in time it fails
with exit status 5.

` + msgutil.TemplateHelp,
		Example: `  sluice request time.now ''
  sluice request orders.get '{"id": 1}' --raw | jq .
  sluice request svc.ping '' --replies 0 --timeout 2s   # everyone who answers
  sluice request calc.add -H Op:add '1 2'`,
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
	fl.StringArrayVarP(&o.Headers, "header", "H", nil, "add a header, as `Key:Value` (repeatable)")
	fl.IntVar(&o.Count, "count", 1, "send this many requests, one after another")
	fl.IntVar(&o.Replies, "replies", 1, "wait for this many replies per request (0: all within --timeout)")
	fl.DurationVar(&o.ReplyTimeout, "reply-timeout", 300*time.Millisecond, "with --replies, longest extra wait between replies")
	fl.BoolVar(&o.WaitForEmpty, "wait-for-empty", false, "wait for replies until one with an empty body arrives")
	fl.BoolVarP(&o.Raw, "raw", "r", false, "print only the reply bodies")
	fl.BoolVar(&o.Templates, "templates", true, "expand templates in the body, subject and headers")
	fl.BoolVar(&o.ForceStdin, "force-stdin", false, "read the body from stdin; the default without BODY (kept for natscli scripts)")
	fl.StringVar(&o.SendOn, "send-on", msgutil.SendOnEOF, "with stdin: send one request at `eof`, or one per newline")
	cmdutil.AddJSONFlag(cmd, &o.JSON)
	return cmd
}

type requester struct {
	o       *Options
	nc      *nats.Conn
	subject *msgutil.Template
	hdrs    *msgutil.Headers
	jl      *cmdutil.JSONLines
	timeout time.Duration
	sent    int
}

func run(ctx context.Context, o *Options) error {
	f := o.f
	if err := f.RequireInput(&o.Subject, "SUBJECT argument", "Subject to send the request to:"); err != nil {
		return err
	}
	switch {
	case o.Count < 1:
		return cmdutil.FlagErrorf("--count must be at least 1, not %d", o.Count)
	case o.Replies < 0:
		return cmdutil.FlagErrorf("--replies must not be negative")
	case o.Raw && o.JSON:
		return cmdutil.FlagErrorf("choose one of --raw and --json")
	case o.SendOn != msgutil.SendOnEOF && o.SendOn != msgutil.SendOnNewline:
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
	r := &requester{o: o, nc: nc, subject: subj, hdrs: hdrs, jl: cmdutil.NewJSONLines(f.IO.Out), timeout: f.Timeout()}
	if o.BodySet {
		return r.sendN(ctx, func(n int) ([]byte, error) { return body.Execute(n, nil) })
	}
	if f.IO.IsStdinTTY() && !o.Raw && !o.JSON {
		fmt.Fprintln(f.IO.ErrOut, "Reading the request body from stdin; end it with Ctrl-D")
	}
	return msgutil.ReadBodies(ctx, f.IO.In, o.SendOn, func(b []byte) error {
		return r.sendN(ctx, func(int) ([]byte, error) { return b, nil })
	})
}

func (r *requester) sendN(ctx context.Context, body func(int) ([]byte, error)) error {
	for i := 1; i <= r.o.Count; i++ {
		subj, err := r.subject.Execute(i, nil)
		if err != nil {
			return err
		}
		data, err := body(i)
		if err != nil {
			return err
		}
		hdr, err := r.hdrs.Build(i)
		if err != nil {
			return err
		}
		if err := r.one(ctx, &nats.Msg{Subject: string(subj), Data: data, Header: hdr}); err != nil {
			return err
		}
	}
	return nil
}

// one sends a request and prints its replies.
func (r *requester) one(ctx context.Context, msg *nats.Msg) error {
	o, f := r.o, r.o.f
	human := !o.Raw && !o.JSON
	msg.Reply = r.nc.NewRespInbox()
	sub, err := r.nc.SubscribeSync(msg.Reply)
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()
	if human {
		fmt.Fprintf(f.IO.ErrOut, "Sending request on %q\n", msg.Subject)
	}
	start := time.Now()
	if err := r.nc.PublishMsg(msg); err != nil {
		return fmt.Errorf("cannot send the request to %q: %w", msg.Subject, err)
	}
	r.sent++

	want := o.Replies
	if o.WaitForEmpty {
		want = -1 // until an empty body
	}
	deadline := start.Add(r.timeout)
	wait := r.timeout
	got := 0
	var rttSum time.Duration
	for {
		wctx, cancel := context.WithTimeout(ctx, wait)
		m, err := sub.NextMsgWithContext(wctx)
		cancel()
		if err != nil {
			switch {
			case errors.Is(err, nats.ErrNoResponders):
				return cmdutil.WithHint(cmdutil.ExitNoResponders,
					fmt.Errorf("no responders on %q: nobody is subscribed to it", msg.Subject),
					"start one with 'sluice reply %s', or check the subject", msg.Subject)
			case ctx.Err() != nil:
				return nil
			case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout):
				if got == 0 {
					return cmdutil.WithHint(cmdutil.ExitTimeout,
						fmt.Errorf("no reply on %q within %s", msg.Subject, r.timeout),
						"the responder may be slow or stuck; raise --timeout")
				}
				if human && want > 0 && got < want {
					fmt.Fprintf(f.IO.ErrOut, "Received %d of %d replies\n", got, want)
				}
				return nil
			}
			return err
		}
		rtt := time.Since(start)
		got++
		r.print(m, rtt)
		if want > 0 && got >= want {
			return nil
		}
		if o.WaitForEmpty && len(m.Data) == 0 {
			return nil
		}
		switch {
		case want == 0:
			wait = time.Until(deadline)
			if wait <= 0 {
				return nil
			}
		case o.WaitForEmpty:
			// A stream of replies may pause; give each the full timeout.
			wait = r.timeout
		default:
			rttSum += rtt
			wait = rttSum/time.Duration(got) + o.ReplyTimeout
		}
	}
}

func (r *requester) print(m *nats.Msg, rtt time.Duration) {
	o, io := r.o, r.o.f.IO
	switch {
	case o.JSON:
		jm := msgutil.NewMessage(m, 0, time.Now())
		jm.RTT = rtt
		r.jl.Write(jm)
	case o.Raw:
		io.Out.Write(m.Data)
		if len(m.Data) == 0 || m.Data[len(m.Data)-1] != '\n' {
			fmt.Fprintln(io.Out)
		}
	default:
		fmt.Fprintf(io.ErrOut, "Received with rtt %s\n", cmdutil.Duration(rtt))
		msgutil.WriteHeaders(io.ErrOut, m.Header)
		msgutil.WriteBody(io.Out, m.Data)
	}
}
