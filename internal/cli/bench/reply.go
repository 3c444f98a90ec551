package benchcmd

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// DefaultQueue is the queue group bench responders share.
const DefaultQueue = "sluice-bench"

// replyBody is what responders answer; nats bench's requester takes any
// non-empty body that does not look like an error as success.
var replyBody = []byte("ok")

// ReplyOptions are the inputs of `bench reply`.
type ReplyOptions struct {
	Common
	Sleep time.Duration
	Queue string
}

// NewCmdReply builds `bench reply`. runF replaces the run function in
// tests.
func NewCmdReply(f *cmdutil.Factory, runF func(*ReplyOptions) error) *cobra.Command {
	o := &ReplyOptions{Common: Common{f: f}}
	cmd := &cobra.Command{
		Use:     "reply SUBJECT",
		Aliases: []string{"serve"},
		Short:   "Answer requests as fast as possible",
		Long: `Answer requests on SUBJECT with --clients responders in one queue group,
until interrupted or, with --msgs, until that many requests have been
answered in all. Each answer is "ok", after --sleep. Then report how many
requests each responder answered and at what rate.`,
		Example: `  sluice bench reply svc --clients 4
  sluice bench reply svc --msgs 100000 --json`,
		Args: cmdutil.RangeArgs(0, 1, "SUBJECT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				o.Subject = args[0]
			}
			if runF != nil {
				return runF(o)
			}
			return runReply(cmd.Context(), o)
		},
	}
	addCommon(cmd, &o.Common, 0, "stop after answering this many requests in all (0: when interrupted)", "")
	fl := cmd.Flags()
	fl.DurationVar(&o.Sleep, "sleep", 0, "wait this long before each answer")
	fl.StringVar(&o.Queue, "queue", DefaultQueue, "queue `GROUP` the responders join")
	return cmd
}

func runReply(ctx context.Context, o *ReplyOptions) error {
	if err := o.check(true, 0); err != nil {
		return err
	}
	if o.Sleep < 0 {
		return cmdutil.FlagErrorf("--sleep must not be negative")
	}
	extra := map[string]string{"sleep": o.Sleep.String(), "queue": o.Queue}
	if o.Msgs == 0 {
		extra["msgs"] = "until interrupted"
	}
	o.banner(kindReply, extra)
	var total atomic.Int64
	allDone := make(chan struct{})
	samples, err := o.runClients(ctx, nil, nil, func(ctx context.Context, c *client, ready func()) (*Sample, error) {
		var bytes, first, last atomic.Int64
		sub, err := c.nc.QueueSubscribe(o.Subject, o.Queue, func(m *nats.Msg) {
			if m.Reply == "" {
				return
			}
			if o.Sleep > 0 {
				time.Sleep(o.Sleep)
			}
			if err := m.Respond(replyBody); err != nil {
				return
			}
			now := time.Now().UnixNano()
			first.CompareAndSwap(0, now)
			last.Store(now)
			bytes.Add(int64(len(m.Data)))
			c.done.Add(1)
			if total.Add(1) == o.Msgs {
				close(allDone)
			}
		})
		if err != nil {
			return nil, fmt.Errorf("cannot subscribe to %q: %w", o.Subject, err)
		}
		defer sub.Unsubscribe()
		if err := sub.SetPendingLimits(-1, -1); err != nil {
			return nil, err
		}
		if err := c.nc.FlushTimeout(o.f.Timeout()); err != nil {
			return nil, fmt.Errorf("the server did not confirm the subscription: %w", err)
		}
		until := "until interrupted"
		if o.Msgs > 0 {
			until = "until " + cmdutil.Comma(o.Msgs) + " requests are answered"
		}
		fmt.Fprintf(o.f.IO.ErrOut, "[%d] Starting %s on %q, %s\n", c.n, label(kindReply), o.Subject, until)
		ready()
		select {
		case <-allDone:
		case <-ctx.Done():
		}
		if err := c.nc.FlushTimeout(o.f.Timeout()); err != nil && ctx.Err() == nil {
			return nil, err
		}
		return c.sample(c.done.Load(), bytes.Load(), time.Unix(0, first.Load()), time.Unix(0, last.Load()), nil), nil
	})
	if err != nil {
		return err
	}
	return o.report(NewResult(kindReply, o.Subject, samples))
}
