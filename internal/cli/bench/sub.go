package benchcmd

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// SubOptions are the inputs of `bench sub`.
type SubOptions struct {
	Common
	MultiSubject bool
}

// NewCmdSub builds `bench sub`. runF replaces the run function in tests.
func NewCmdSub(f *cmdutil.Factory, runF func(*SubOptions) error) *cobra.Command {
	o := &SubOptions{Common: Common{f: f}}
	cmd := &cobra.Command{
		Use:   "sub SUBJECT",
		Short: "Receive messages and measure the rate",
		Long: `Subscribe --clients times to SUBJECT and wait until each subscriber has
received --msgs messages. A subscriber's rate runs from its first message
to its last; the bytes counted are the payloads actually received.

Start the subscribers first, then the publishers ('sluice bench pub'). A
subscriber that misses messages (the server dropped it as a slow
consumer, or fewer were published) waits until interrupted.`,
		Example: `  sluice bench sub demo --msgs 1000000
  sluice bench sub demo --clients 3 --json > sub.json`,
		Args: cmdutil.RangeArgs(0, 1, "SUBJECT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				o.Subject = args[0]
			}
			if runF != nil {
				return runF(o)
			}
			return runSub(cmd.Context(), o)
		},
	}
	addCommon(cmd, &o.Common, 100000, "number of messages each subscriber waits for",
		"accepted for nats bench compatibility; received bytes are counted instead")
	cmd.Flags().BoolVar(&o.MultiSubject, "multisubject", false, "subscribe to SUBJECT.*, as 'bench pub --multisubject' publishes")
	return cmd
}

func runSub(ctx context.Context, o *SubOptions) error {
	if err := o.check(true, 1); err != nil {
		return err
	}
	subject := o.Subject
	if o.MultiSubject {
		subject += ".*"
	}
	o.Size = "" // not a figure of ours; keep it out of the banner
	o.banner(kindSub, map[string]string{"multisubject": strconv.FormatBool(o.MultiSubject)})
	each := make([]int64, o.Clients)
	for i := range each {
		each[i] = o.Msgs
	}
	samples, err := o.runClients(ctx, each, nil, func(ctx context.Context, c *client, ready func()) (*Sample, error) {
		var bytes atomic.Int64
		var first, last time.Time
		finished := make(chan struct{})
		// The handler runs on one goroutine per subscription; first and
		// last are read only after finished is closed.
		sub, err := c.nc.Subscribe(subject, func(m *nats.Msg) {
			n := c.done.Load()
			if n >= c.msgs {
				return
			}
			if n == 0 {
				first = time.Now()
			}
			bytes.Add(int64(len(m.Data)))
			if c.done.Add(1) == c.msgs {
				last = time.Now()
				close(finished)
			}
		})
		if err != nil {
			return nil, fmt.Errorf("cannot subscribe to %q: %w", subject, err)
		}
		defer sub.Unsubscribe()
		// Never drop messages in the client: a drop would stall the count.
		if err := sub.SetPendingLimits(-1, -1); err != nil {
			return nil, err
		}
		if err := c.nc.FlushTimeout(o.f.Timeout()); err != nil {
			return nil, fmt.Errorf("the server did not confirm the subscription: %w", err)
		}
		fmt.Fprintf(o.f.IO.ErrOut, "[%d] Starting %s, expecting %s messages\n", c.n, label(kindSub), cmdutil.Comma(c.msgs))
		ready()
		select {
		case <-finished:
		case <-ctx.Done():
			return nil, fmt.Errorf("stopped after receiving %s of %s messages: %w",
				cmdutil.Comma(c.done.Load()), cmdutil.Comma(c.msgs), ctx.Err())
		}
		return c.sample(c.msgs, bytes.Load(), first, last, nil), nil
	})
	if err != nil {
		return err
	}
	return o.report(NewResult(kindSub, subject, samples))
}
