package checkcmd

import (
	"bytes"
	"crypto/rand"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

type connectionOptions struct {
	*Common
	connectWarn, connectCrit time.Duration
	rttWarn, rttCrit         time.Duration
	reqWarn, reqCrit         time.Duration
}

func newConnection(c *Common) *cobra.Command {
	o := &connectionOptions{Common: c}
	cmd := &cobra.Command{
		Use:     "connection",
		Aliases: []string{"conn"},
		Short:   "Check connecting, the round trip and a request through the server",
		Long: `Connect with the usual connection settings and time three things: the
connection itself, a PING round trip, and a message sent to and received
from the server on a private inbox. Any failure is CRITICAL.

Any user may run it.`,
		Args: cmdutil.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.validate(); err != nil {
				return err
			}
			return c.finish(o.run())
		},
	}
	fl := cmd.Flags()
	fl.DurationVar(&o.connectWarn, "connect-warn", 500*time.Millisecond, "warn when connecting takes this long")
	fl.DurationVar(&o.connectCrit, "connect-critical", time.Second, "critical when connecting takes this long")
	fl.DurationVar(&o.rttWarn, "rtt-warn", 500*time.Millisecond, "warn when the PING round trip takes this long")
	fl.DurationVar(&o.rttCrit, "rtt-critical", time.Second, "critical when the PING round trip takes this long")
	fl.DurationVar(&o.reqWarn, "req-warn", 500*time.Millisecond, "warn when the message round trip takes this long")
	fl.DurationVar(&o.reqCrit, "req-critical", time.Second, "critical when the message round trip takes this long")
	return cmd
}

func (o *connectionOptions) run() *Result {
	r := newResult("connections", "Connection")
	f := o.f
	for _, p := range [][2]time.Duration{{o.connectWarn, o.connectCrit}, {o.rttWarn, o.rttCrit}, {o.reqWarn, o.reqCrit}} {
		if p[0] < 0 || p[1] < 0 || (p[0] != 0 && p[1] != 0 && p[1] < p[0]) {
			r.unknownf("invalid thresholds: each critical duration must be at least its warning one, and none negative")
			return r
		}
	}
	start := time.Now()
	nc, err := f.Dial()
	if err != nil {
		r.critf("connection failed: %v", err)
		return r
	}
	defer nc.Close()
	took := time.Since(start)
	r.perf(PerfItem{Name: "connect_time", Value: took.Seconds(), Warn: o.connectWarn.Seconds(), Crit: o.connectCrit.Seconds(), Unit: "s",
		Help: "time taken to connect"})
	switch {
	case o.connectCrit > 0 && took >= o.connectCrit:
		r.critf("connected to %s, connect time exceeded %s", nc.ConnectedUrlRedacted(), o.connectCrit)
	case o.connectWarn > 0 && took >= o.connectWarn:
		r.warnf("connected to %s, connect time exceeded %s", nc.ConnectedUrlRedacted(), o.connectWarn)
	default:
		r.okf("connected to %s in %s", nc.ConnectedUrlRedacted(), cmdutil.Duration(took))
	}

	rtt, err := nc.RTT()
	if err != nil {
		r.critf("rtt failed: %v", err)
		return r
	}
	r.perf(PerfItem{Name: "rtt", Value: rtt.Seconds(), Warn: o.rttWarn.Seconds(), Crit: o.rttCrit.Seconds(), Unit: "s",
		Help: "round trip time of a PING"})
	switch {
	case o.rttCrit > 0 && rtt >= o.rttCrit:
		r.critf("rtt time exceeded %s", o.rttCrit)
	case o.rttWarn > 0 && rtt >= o.rttWarn:
		r.warnf("rtt time exceeded %s", o.rttWarn)
	default:
		r.okf("rtt time %s", cmdutil.Duration(rtt))
	}

	payload := make([]byte, 100)
	rand.Read(payload)
	inbox := nc.NewRespInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		r.critf("could not subscribe to %s: %v", inbox, err)
		return r
	}
	start = time.Now()
	if err := nc.Publish(inbox, payload); err != nil {
		r.critf("could not publish to %s: %v", inbox, err)
		return r
	}
	m, err := sub.NextMsg(f.Timeout())
	if err != nil {
		r.critf("did not receive from %s: %v", inbox, err)
		return r
	}
	took = time.Since(start)
	r.perf(PerfItem{Name: "request_time", Value: took.Seconds(), Warn: o.reqWarn.Seconds(), Crit: o.reqCrit.Seconds(), Unit: "s",
		Help: "time for a message to go to the server and back"})
	if !bytes.Equal(m.Data, payload) {
		r.critf("the message came back changed")
	}
	switch {
	case o.reqCrit > 0 && took >= o.reqCrit:
		r.critf("round trip took %s, over %s", cmdutil.Duration(took), o.reqCrit)
	case o.reqWarn > 0 && took >= o.reqWarn:
		r.warnf("round trip took %s, over %s", cmdutil.Duration(took), o.reqWarn)
	default:
		r.okf("round trip took %s", cmdutil.Duration(took))
	}
	return r
}
