// Package listcmd implements `sluice server list`: the STATSZ of every
// server in a table, sorted, with totals and a per-cluster summary.
package listcmd

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/server/sysreq"
)

// Options are the inputs of `server list`.
type Options struct {
	f *cmdutil.Factory

	Expect  int
	Sort    string
	Reverse bool
	Compact bool
	JSON    bool
}

// sortKeys are natscli's, with its singular spellings.
var sortKeys = map[string]string{
	"name": "name", "cluster": "cluster", "conns": "conns", "conn": "conns", "subs": "subs", "sub": "subs",
	"routes": "routes", "route": "routes", "gws": "gws", "gw": "gws", "mem": "mem", "cpu": "cpu",
	"slow": "slow", "uptime": "uptime", "rtt": "rtt",
}

// New builds `server list`.
func New(f *cmdutil.Factory) *cobra.Command { return NewCmd(f, nil) }

// NewCmd builds `server list` with an optional run function for tests.
func NewCmd(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	o := &Options{f: f}
	cmd := &cobra.Command{
		Use:     "list [EXPECTED]",
		Aliases: []string{"ls"},
		Short:   "List the servers of the cluster with their statistics",
		Long: `List every server that answers $SYS.REQ.SERVER.PING, one row each, with
totals. Answers are gathered until EXPECTED servers answered, or as many
as the first answer says are active, or until --timeout.

Needs a user of the system account.`,
		Example: `  sluice server list
  sluice server list 3 --sort conns
  sluice server ls --json | jq '.[].server.name'`,
		Args: cmdutil.RangeArgs(0, 1, "EXPECTED"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				n, err := strconv.Atoi(args[0])
				if err != nil || n < 1 {
					return cmdutil.FlagErrorf("EXPECTED must be a positive number of servers, not %q", args[0])
				}
				o.Expect = n
			}
			if _, ok := sortKeys[o.Sort]; !ok {
				return cmdutil.FlagErrorf("--sort must be one of name, cluster, conns, subs, routes, gws, mem, cpu, slow, uptime, rtt; not %q", o.Sort)
			}
			o.Sort = sortKeys[o.Sort]
			if runF != nil {
				return runF(o)
			}
			return run(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Sort, "sort", "rtt", "sort by `KEY`: name, cluster, conns, subs, routes, gws, mem, cpu, slow, uptime, rtt")
	fl.BoolVarP(&o.Reverse, "reverse", "R", false, "reverse the order")
	fl.BoolVar(&o.Compact, "compact", true, "drop the domain suffix all server names share")
	cmdutil.AddJSONFlag(cmd, &o.JSON)
	return cmd
}

type row struct {
	*sysreq.StatsMsg
	raw json.RawMessage
	rtt time.Duration
}

func run(ctx context.Context, o *Options) error {
	f := o.f
	nc, err := f.Conn()
	if err != nil {
		return err
	}
	var mu sync.Mutex
	var rows []*row
	timeout := f.Timeout()
	_, err = sysreq.Stream(ctx, nc, sysreq.Request{Subject: sysreq.PingSubject, Expect: o.Expect, Timeout: timeout, Learn: learn(o)},
		func(r sysreq.Reply) error {
			var s sysreq.StatsMsg
			if err := json.Unmarshal(r.Msg.Data, &s); err != nil {
				return fmt.Errorf("cannot decode a STATSZ answer: %w", err)
			}
			mu.Lock()
			rows = append(rows, &row{StatsMsg: &s, raw: r.Msg.Data, rtt: r.RTT})
			mu.Unlock()
			return nil
		})
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return sysreq.NoAnswer(sysreq.PingSubject, timeout)
	}
	sortRows(rows, o.Sort, o.Reverse)
	if o.JSON {
		raw := make([]json.RawMessage, len(rows))
		for i, r := range rows {
			raw[i] = r.raw
		}
		if err := cmdutil.WriteJSON(f.IO.Out, raw); err != nil {
			return err
		}
	} else {
		render(f.IO, rows, o.Compact)
	}
	if o.Expect > 0 && len(rows) < o.Expect {
		return cmdutil.WithHint(cmdutil.ExitTimeout, fmt.Errorf("%d of %d expected servers answered within %s", len(rows), o.Expect, timeout),
			"check the missing servers, or raise --timeout")
	}
	return nil
}

// learn reads the expected count from the first answer when none was
// given.
func learn(o *Options) func(*nats.Msg) int {
	if o.Expect > 0 {
		return nil
	}
	return sysreq.ActiveServers
}

// sortRows orders rows as natscli does: names and clusters A-Z, the
// fastest round trip and the longest uptime first, other figures largest
// first.
func sortRows(rows []*row, key string, reverse bool) {
	less := func(a, b *row) bool {
		sa, sb := &a.Stats, &b.Stats
		byName := a.Server.Name < b.Server.Name
		switch key {
		case "name":
			return byName
		case "cluster":
			if a.Server.Cluster != b.Server.Cluster {
				return a.Server.Cluster < b.Server.Cluster
			}
			return byName
		case "conns":
			return sa.Connections > sb.Connections
		case "subs":
			return sa.NumSubs > sb.NumSubs
		case "routes":
			if len(sa.Routes) != len(sb.Routes) {
				return len(sa.Routes) > len(sb.Routes)
			}
			return byName
		case "gws":
			if len(sa.Gateways) != len(sb.Gateways) {
				return len(sa.Gateways) > len(sb.Gateways)
			}
			return byName
		case "mem":
			return sa.Mem > sb.Mem
		case "cpu":
			return sa.CPU > sb.CPU
		case "slow":
			return sa.SlowConsumers > sb.SlowConsumers
		case "uptime":
			return sa.Start.Before(sb.Start)
		}
		return a.rtt < b.rtt
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if reverse {
			return less(rows[j], rows[i])
		}
		return less(rows[i], rows[j])
	})
}

type cluster struct {
	name        string
	nodes       int
	gwOut, gwIn int
	conns       int
	routeCounts map[int]bool
}

func render(io *cmdutil.IOStreams, rows []*row, compact bool) {
	names := make([]string, len(rows))
	for i, r := range rows {
		names[i] = r.Server.Name
	}
	if compact {
		names = sysreq.CompactNames(names)
	}
	t := cmdutil.NewTable(io, "Server Overview")
	t.AddHeader("Name", "Cluster", "Host", "Version", "JS", "Conns", "Subs", "Routes", "GWs", "Mem", "CPU %", "Cores", "Slow", "Uptime", "RTT")
	t.AlignRight(6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
	var conns, js int
	var subs uint32
	var mem, slow int64
	clusters := map[string]*cluster{}
	versions, gws := "", ""
	for i, r := range rows {
		s := &r.Stats
		conns += s.Connections
		subs += s.NumSubs
		mem += s.Mem
		slow += s.SlowConsumers
		jsCell := "no"
		if r.Server.JetStream {
			js++
			jsCell = "yes"
			if r.Server.Domain != "" {
				jsCell = r.Server.Domain
			}
		}
		if r.Server.Version != rows[0].Server.Version {
			versions = "X"
		}
		if len(s.Gateways) != len(rows[0].Stats.Gateways) {
			gws = "X"
		}
		if c := r.Server.Cluster; c != "" {
			cl := clusters[c]
			if cl == nil {
				cl = &cluster{name: c, routeCounts: map[int]bool{}}
				clusters[c] = cl
			}
			cl.nodes++
			cl.conns += s.Connections
			cl.gwOut += len(s.Gateways)
			for _, g := range s.Gateways {
				cl.gwIn += g.NumInbound
			}
			cl.routeCounts[len(s.Routes)] = true
		}
		t.AddRow(names[i], r.Server.Cluster, r.Server.Host, r.Server.Version, jsCell,
			cmdutil.Comma(int64(s.Connections)), cmdutil.Comma(int64(s.NumSubs)), len(s.Routes), len(s.Gateways),
			cmdutil.IBytes(uint64(max(s.Mem, 0))), fmt.Sprintf("%.0f", s.CPU), s.Cores, slowCell(s),
			sysreq.Uptime(r.Server.Time.Sub(s.Start)), cmdutil.Duration(r.rtt))
	}
	routes := ""
	for _, c := range clusters {
		if len(c.routeCounts) > 1 {
			routes = "X" // members of one cluster disagree on their routes
		}
	}
	clusterCell := ""
	if len(clusters) > 0 {
		clusterCell = plural(len(clusters), "cluster")
	}
	t.AddFooter(plural(len(rows), "server"), clusterCell, "", versions, js, cmdutil.Comma(int64(conns)), cmdutil.Comma(int64(subs)),
		routes, gws, cmdutil.IBytes(uint64(max(mem, 0))), "", "", cmdutil.Comma(slow), "", "")
	t.Render()
	if len(clusters) > 0 {
		renderClusters(io, clusters)
	}
}

// slowCell shows slow consumers, split by kind when not all are clients.
func slowCell(s *sysreq.Stats) string {
	cell := cmdutil.Comma(s.SlowConsumers)
	d := s.SlowConsumersStats
	if d == nil || (d.Routes == 0 && d.Gateways == 0 && d.Leafs == 0) {
		return cell
	}
	var parts []string
	for _, p := range []struct {
		tag string
		n   uint64
	}{{"c", d.Clients}, {"r", d.Routes}, {"g", d.Gateways}, {"l", d.Leafs}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%s: %d", p.tag, p.n))
		}
	}
	return fmt.Sprintf("%s (%s)", cell, strings.Join(parts, " "))
}

func renderClusters(io *cmdutil.IOStreams, clusters map[string]*cluster) {
	list := make([]*cluster, 0, len(clusters))
	for _, c := range clusters {
		list = append(list, c)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].name < list[j].name })
	fmt.Fprintln(io.Out)
	t := cmdutil.NewTable(io, "Cluster Overview")
	t.AddHeader("Cluster", "Node Count", "Outgoing Gateways", "Incoming Gateways", "Connections")
	t.AlignRight(2, 3, 4, 5)
	var nodes, out, in, conns int
	for _, c := range list {
		nodes, out, in, conns = nodes+c.nodes, out+c.gwOut, in+c.gwIn, conns+c.conns
		t.AddRow(c.name, c.nodes, c.gwOut, c.gwIn, cmdutil.Comma(int64(c.conns)))
	}
	t.AddFooter("", nodes, out, in, cmdutil.Comma(int64(conns)))
	t.Render()
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
