package benchcmd

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/msgutil"
)

// PubOptions are the inputs of `bench pub`.
type PubOptions struct {
	Common
	Sleep           time.Duration
	Headers         []string
	MultiSubject    bool
	MultiSubjectMax int
}

// NewCmdPub builds `bench pub`. runF replaces the run function in tests.
func NewCmdPub(f *cmdutil.Factory, runF func(*PubOptions) error) *cobra.Command {
	o := &PubOptions{Common: Common{f: f}}
	cmd := &cobra.Command{
		Use:   "pub SUBJECT",
		Short: "Publish messages as fast as possible",
		Long: `Publish --msgs messages of --size bytes to SUBJECT, shared among --clients
publishers that start together. Each publisher's rate runs from its first
publish until the server has confirmed the last (a final flush), so
buffered messages are not counted as sent.

With --multisubject each message goes to SUBJECT.<n>, n the message's
number modulo --multisubject-max; subscribe with 'bench sub --multisubject'.`,
		Example: `  sluice bench pub demo --msgs 1000000 --size 16
  sluice bench pub demo --clients 4 --csv pub.csv
  sluice bench pub demo --msgs 1000 --sleep 10ms -H Source:bench`,
		Args: cmdutil.RangeArgs(0, 1, "SUBJECT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				o.Subject = args[0]
			}
			if runF != nil {
				return runF(o)
			}
			return runPub(cmd.Context(), o)
		},
	}
	addCommon(cmd, &o.Common, 100000, "number of messages to publish, shared among the clients",
		"payload `SIZE` of each message, e.g. 16, 128B, 4KB")
	fl := cmd.Flags()
	fl.DurationVar(&o.Sleep, "sleep", 0, "pause this long between publications")
	fl.StringArrayVarP(&o.Headers, "header", "H", nil, "add a header to every message, as `Key:Value` (repeatable)")
	fl.BoolVar(&o.MultiSubject, "multisubject", false, "publish each message on SUBJECT.<number>")
	fl.IntVar(&o.MultiSubjectMax, "multisubject-max", 100000, "with --multisubject, at most this many subjects (0: no limit)")
	return cmd
}

func runPub(ctx context.Context, o *PubOptions) error {
	if err := o.check(false, 1); err != nil {
		return err
	}
	switch {
	case o.Sleep < 0:
		return cmdutil.FlagErrorf("--sleep must not be negative")
	case o.MultiSubjectMax < 0:
		return cmdutil.FlagErrorf("--multisubject-max must not be negative")
	}
	hdrs, err := msgutil.ParseHeaders(o.Headers, false)
	if err != nil {
		return &cmdutil.UsageError{Err: err}
	}
	hdr, _ := hdrs.Build(0)
	// More clients than messages would leave some with nothing to do.
	o.Clients = int(min(int64(o.Clients), o.Msgs))
	o.banner(kindPub, map[string]string{"sleep": o.Sleep.String(), "multisubject": strconv.FormatBool(o.MultiSubject)})

	payload := make([]byte, o.size)
	shares := shares(o.Msgs, o.Clients)
	offsets := make([]int64, len(shares))
	for i := 1; i < len(shares); i++ {
		offsets[i] = offsets[i-1] + shares[i-1]
	}
	samples, err := o.runClients(ctx, shares, nil, func(ctx context.Context, c *client, ready func()) (*Sample, error) {
		if err := checkPayload(c.nc, o.size); err != nil {
			return nil, err
		}
		fmt.Fprintf(o.f.IO.ErrOut, "[%d] Starting %s, publishing %s messages\n", c.n, label(kindPub), cmdutil.Comma(c.msgs))
		ready()
		// Spread publishers that pause, so they do not publish in step.
		if o.Sleep > 0 && c.n > 1 {
			if err := pause(ctx, rand.N(o.Sleep)); err != nil {
				return nil, err
			}
		}
		msg := &nats.Msg{Subject: o.Subject, Data: payload, Header: hdr}
		start := time.Now()
		for i := int64(0); i < c.msgs; i++ {
			if o.MultiSubject {
				msg.Subject = o.multiSubject(offsets[c.n-1] + i)
			}
			if err := c.nc.PublishMsg(msg); err != nil {
				return nil, fmt.Errorf("cannot publish to %q: %w", msg.Subject, err)
			}
			c.done.Add(1)
			if o.Sleep > 0 {
				if err := pause(ctx, o.Sleep); err != nil {
					return nil, err
				}
			} else if i&1023 == 1023 && ctx.Err() != nil {
				return nil, ctx.Err()
			}
		}
		if err := c.nc.FlushTimeout(o.flushTimeout()); err != nil {
			return nil, fmt.Errorf("the server did not confirm the messages: %w", err)
		}
		if err := c.nc.LastError(); err != nil {
			return nil, err
		}
		return c.sample(c.msgs, c.msgs*int64(o.size), start, time.Now(), nil), nil
	})
	if err != nil {
		return err
	}
	return o.report(NewResult(kindPub, o.Subject, samples))
}

// multiSubject is the subject of message number n with --multisubject.
func (o *PubOptions) multiSubject(n int64) string {
	if o.MultiSubjectMax > 0 {
		n %= int64(o.MultiSubjectMax)
	}
	return o.Subject + "." + strconv.FormatInt(n, 10)
}
