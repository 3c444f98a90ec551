package checkcmd

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/server/sysreq"
	"github.com/sluicehq/sluice/pkg/api"
)

type serverOptions struct {
	*Common
	name                       string
	cpuWarn, cpuCrit           int
	memWarn, memCrit           string
	connWarn, connCrit         int
	subsWarn, subsCrit         int
	uptimeWarn, uptimeCrit     time.Duration
	authRequired, tlsRequired  bool
	jsRequired                 bool
	tlsExpireWarn, tlsExpCrit  time.Duration
	memWarnBytes, memCritBytes int64
}

func newServer(c *Common) *cobra.Command {
	o := &serverOptions{Common: c}
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Check a server's health from its VARZ",
		Long: `Check the server named --name: its uptime, CPU, memory, connections and
subscriptions against thresholds, and optionally that it requires
authentication or TLS, runs JetStream, and has TLS certificates that do
not expire soon.

--conn-* and --subs-* may be inverted (critical below warning) to alert
when the figure drops. --uptime-* alert when the server has run for less
than the threshold, so the critical one must not exceed the warning one.

Needs a user of the system account.`,
		Args: cmdutil.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.validate(); err != nil {
				return err
			}
			if o.name == "" {
				return cmdutil.FlagErrorf("--name is required: the name of the server to check")
			}
			var err error
			if o.memWarnBytes, err = optionalSize(o.memWarn, "--mem-warn"); err != nil {
				return err
			}
			if o.memCritBytes, err = optionalSize(o.memCrit, "--mem-critical"); err != nil {
				return err
			}
			return c.finish(o.run(cmd.Context()))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.name, "name", "", "`NAME` of the server to check (required)")
	fl.IntVar(&o.cpuWarn, "cpu-warn", 0, "warn at this CPU use, in percent")
	fl.IntVar(&o.cpuCrit, "cpu-critical", 0, "critical at this CPU use, in percent")
	fl.StringVar(&o.memWarn, "mem-warn", "", "warn at this memory use (bytes, or a `SIZE` like 2GB)")
	fl.StringVar(&o.memCrit, "mem-critical", "", "critical at this memory use (bytes, or a `SIZE` like 3GB)")
	fl.IntVar(&o.connWarn, "conn-warn", 0, "warn at this many connections (invertible)")
	fl.IntVar(&o.connCrit, "conn-critical", 0, "critical at this many connections (invertible)")
	fl.IntVar(&o.subsWarn, "subs-warn", 0, "warn at this many subscriptions (invertible)")
	fl.IntVar(&o.subsCrit, "subs-critical", 0, "critical at this many subscriptions (invertible)")
	fl.DurationVar(&o.uptimeWarn, "uptime-warn", 0, "warn while the server has run for less than this")
	fl.DurationVar(&o.uptimeCrit, "uptime-critical", 0, "critical while the server has run for less than this")
	fl.BoolVar(&o.authRequired, "auth-required", false, "critical unless the server requires authentication")
	fl.BoolVar(&o.tlsRequired, "tls-required", false, "critical unless the server requires TLS")
	fl.BoolVar(&o.jsRequired, "js-required", false, "critical unless JetStream is enabled")
	fl.DurationVar(&o.tlsExpireWarn, "tls-cert-warn", 0, "warn when a TLS certificate expires within this")
	fl.DurationVar(&o.tlsExpCrit, "tls-cert-crit", 0, "critical when a TLS certificate expires within this")
	return cmd
}

func optionalSize(s, flag string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := cmdutil.ParseBytes(s)
	if err != nil {
		return 0, cmdutil.FlagErrorf("%s: %v", flag, err)
	}
	return n, nil
}

func (o *serverOptions) run(ctx context.Context) *Result {
	r := newResult("server", o.name)
	f := o.f
	nc, err := f.Conn()
	if err != nil {
		r.critf("connection failed: %v", err)
		return r
	}
	v, err := fetchVarz(ctx, nc, o.name, f.Timeout())
	if err != nil {
		r.critf("varz failed: %v", err)
		return r
	}
	if v.Name != o.name {
		r.critf("result from the wrong server %q", v.Name)
		return r
	}
	if o.jsRequired {
		if v.JetStream.Config == nil {
			r.critf("JetStream not enabled")
		} else {
			r.okf("JetStream enabled")
		}
	}
	if o.tlsRequired {
		if v.TLSRequired {
			r.okf("TLS required")
		} else {
			r.critf("TLS not required")
		}
	}
	if o.authRequired {
		if v.AuthRequired {
			r.okf("Authentication required")
		} else {
			r.critf("Authentication not required")
		}
	}
	o.checkCerts(r, v)

	up := v.Now.Sub(v.Start)
	if o.uptimeWarn > 0 || o.uptimeCrit > 0 {
		switch {
		case o.uptimeWarn > 0 && o.uptimeCrit > o.uptimeWarn:
			r.unknownf("uptime: the critical threshold %s exceeds the warning one %s", o.uptimeCrit, o.uptimeWarn)
		case up <= o.uptimeCrit:
			r.critf("Up %s", sysreq.Uptime(up))
		case up <= o.uptimeWarn:
			r.warnf("Up %s", sysreq.Uptime(up))
		default:
			r.okf("Up %s", sysreq.Uptime(up))
		}
	}
	r.perf(
		PerfItem{Name: "uptime", Value: up.Seconds(), Warn: o.uptimeWarn.Seconds(), Crit: o.uptimeCrit.Seconds(), Unit: "s", Help: "server uptime in seconds"},
		PerfItem{Name: "cpu", Value: v.CPU, Warn: float64(o.cpuWarn), Crit: float64(o.cpuCrit), Unit: "%", Help: "server CPU use in percent"},
		PerfItem{Name: "mem", Value: float64(v.Mem), Warn: float64(o.memWarnBytes), Crit: float64(o.memCritBytes), Help: "server memory use in bytes"},
		PerfItem{Name: "connections", Value: float64(v.Connections), Warn: float64(o.connWarn), Crit: float64(o.connCrit), Help: "open connections"},
		PerfItem{Name: "subscriptions", Value: float64(v.Subscriptions), Warn: float64(o.subsWarn), Crit: float64(o.subsCrit), Help: "active subscriptions"},
	)
	threshold(r, "CPU", float64(o.cpuWarn), float64(o.cpuCrit), v.CPU, false)
	threshold(r, "Memory", float64(o.memWarnBytes), float64(o.memCritBytes), float64(v.Mem), false)
	threshold(r, "Connections", float64(o.connWarn), float64(o.connCrit), float64(v.Connections), true)
	threshold(r, "Subscriptions", float64(o.subsWarn), float64(o.subsCrit), float64(v.Subscriptions), true)
	return r
}

// checkCerts judges the expiry of every TLS certificate the server
// reports, when thresholds are given.
func (o *serverOptions) checkCerts(r *Result, v *api.Varz) {
	if o.tlsExpireWarn == 0 && o.tlsExpCrit == 0 {
		return
	}
	if o.tlsExpireWarn == 0 || o.tlsExpCrit == 0 || o.tlsExpCrit > o.tlsExpireWarn {
		r.unknownf("TLS certificate expiry needs both thresholds, the critical one not above the warning one")
		return
	}
	certs := []struct {
		what  string
		until time.Time
	}{
		{"server", v.TLSCertNotAfter}, {"cluster", v.Cluster.TLSCertNotAfter}, {"gateway", v.Gateway.TLSCertNotAfter},
		{"leafnode", v.LeafNode.TLSCertNotAfter}, {"mqtt", v.MQTT.TLSCertNotAfter}, {"websocket", v.Websocket.TLSCertNotAfter},
	}
	found := false
	for _, c := range certs {
		if c.until.IsZero() {
			continue
		}
		found = true
		left := c.until.Sub(v.Now).Truncate(time.Second)
		switch {
		case left <= 0:
			r.critf("%s TLS certificate expired at %s", c.what, c.until.Format(time.RFC3339))
		case left <= o.tlsExpCrit:
			r.critf("%s TLS certificate expires in %s (%s)", c.what, left, c.until.Format(time.RFC3339))
		case left <= o.tlsExpireWarn:
			r.warnf("%s TLS certificate expires in %s (%s)", c.what, left, c.until.Format(time.RFC3339))
		default:
			r.okf("%s TLS certificate expires in %s", c.what, left)
		}
	}
	if !found {
		r.critf("TLS certificate expiry thresholds given but the server reports no TLS certificate")
	}
}

// fetchVarz asks the server called name for its VARZ.
func fetchVarz(ctx context.Context, nc *nats.Conn, name string, timeout time.Duration) (*api.Varz, error) {
	body := api.EventFilterOptions{Name: name, Exact: true}
	m, err := sysreq.One(ctx, nc, sysreq.PingAll("VARZ"), body, timeout)
	if err != nil {
		return nil, err
	}
	resp, err := sysreq.Decode[api.Varz](m)
	if err != nil {
		return nil, err
	}
	if resp.Data == nil {
		return nil, fmt.Errorf("no data received for %s", name)
	}
	return resp.Data, nil
}
