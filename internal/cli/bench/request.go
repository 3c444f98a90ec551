package benchcmd

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/msgutil"
)

// RequestOptions are the inputs of `bench request`.
type RequestOptions struct {
	Common
	Sleep   time.Duration
	Headers []string
}

// NewCmdRequest builds `bench request`. runF replaces the run function
// in tests.
func NewCmdRequest(f *cmdutil.Factory, runF func(*RequestOptions) error) *cobra.Command {
	o := &RequestOptions{Common: Common{f: f}}
	cmd := &cobra.Command{
		Use:     "request SUBJECT",
		Aliases: []string{"req"},
		Short:   "Send requests one after another and measure round trips",
		Long: `Send --msgs requests of --size bytes to SUBJECT, shared among --clients
requesters; each waits for the reply to one request before sending the
next, at most --timeout. Reports requests per second and the latency of
every round trip: minimum, average, maximum, standard deviation and the
50th, 90th, 99th and 99.9th percentiles.

Answer them with 'sluice bench reply SUBJECT', 'sluice reply' or
'nats bench service serve'.`,
		Example: `  sluice bench request svc --msgs 10000
  sluice bench request svc --clients 8 --size 1KB --json`,
		Args: cmdutil.RangeArgs(0, 1, "SUBJECT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				o.Subject = args[0]
			}
			if runF != nil {
				return runF(o)
			}
			return runRequest(cmd.Context(), o)
		},
	}
	addCommon(cmd, &o.Common, 100000, "number of requests to send, shared among the clients",
		"payload `SIZE` of each request, e.g. 16, 128B, 4KB")
	fl := cmd.Flags()
	fl.DurationVar(&o.Sleep, "sleep", 0, "pause this long between requests")
	fl.StringArrayVarP(&o.Headers, "header", "H", nil, "add a header to every request, as `Key:Value` (repeatable)")
	return cmd
}

func runRequest(ctx context.Context, o *RequestOptions) error {
	if err := o.check(false, 1); err != nil {
		return err
	}
	if o.Sleep < 0 {
		return cmdutil.FlagErrorf("--sleep must not be negative")
	}
	hdrs, err := msgutil.ParseHeaders(o.Headers, false)
	if err != nil {
		return &cmdutil.UsageError{Err: err}
	}
	hdr, _ := hdrs.Build(0)
	o.Clients = int(min(int64(o.Clients), o.Msgs))
	o.banner(kindRequest, map[string]string{"sleep": o.Sleep.String()})
	payload := make([]byte, o.size)
	timeout := o.f.Timeout()
	samples, err := o.runClients(ctx, shares(o.Msgs, o.Clients), nil, func(ctx context.Context, c *client, ready func()) (*Sample, error) {
		if err := checkPayload(c.nc, o.size); err != nil {
			return nil, err
		}
		fmt.Fprintf(o.f.IO.ErrOut, "[%d] Starting %s, requesting %s messages\n", c.n, label(kindRequest), cmdutil.Comma(c.msgs))
		ready()
		if o.Sleep > 0 && c.n > 1 {
			if err := pause(ctx, rand.N(o.Sleep)); err != nil {
				return nil, err
			}
		}
		lat := make([]time.Duration, 0, c.msgs)
		start := time.Now()
		for i := int64(0); i < c.msgs; i++ {
			msg := &nats.Msg{Subject: o.Subject, Data: payload, Header: hdr}
			rctx, cancel := context.WithTimeout(ctx, timeout)
			t0 := time.Now()
			m, err := c.nc.RequestMsgWithContext(rctx, msg)
			rtt := time.Since(t0)
			cancel()
			if err != nil {
				return nil, requestError(ctx, err, o.Subject, timeout)
			}
			if e := m.Header.Get("Nats-Service-Error"); e != "" {
				return nil, fmt.Errorf("the responder on %q answered with an error: %s", o.Subject, e)
			}
			lat = append(lat, rtt)
			c.done.Add(1)
			if err := pause(ctx, o.Sleep); err != nil {
				return nil, err
			}
		}
		return c.sample(c.msgs, c.msgs*int64(o.size), start, time.Now(), lat), nil
	})
	if err != nil {
		return err
	}
	return o.report(NewResult(kindRequest, o.Subject, samples))
}

// requestError says why a request failed and what to do about it.
func requestError(ctx context.Context, err error, subject string, timeout time.Duration) error {
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return cmdutil.WithHint(cmdutil.ExitNoResponders,
			fmt.Errorf("no responders on %q: nobody is subscribed to it", subject),
			"start some with 'sluice bench reply %s'", subject)
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return cmdutil.WithHint(cmdutil.ExitTimeout,
			fmt.Errorf("no reply on %q within %s", subject, timeout),
			"the responders may be overloaded; raise --timeout or use fewer --clients")
	}
	return fmt.Errorf("request on %q failed: %w", subject, err)
}
