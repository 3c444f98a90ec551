package reportcmd

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/server/sysreq"
	"github.com/sluicehq/sluice/pkg/api"
)

type jsOptions struct {
	*Common
	Account string
	Sort    string
	Compact bool
}

var jsSortKeys = map[string]string{
	"name": "name", "cluster": "cluster", "streams": "streams", "consumers": "consumers", "msgs": "msgs",
	"bytes": "bytes", "mbytes": "bytes", "mem": "mem", "file": "file", "store": "file", "api": "api", "err": "err",
}

// jsRow is one server's figures, for all accounts or the one asked for.
type jsRow struct {
	srv       *api.EventServer
	info      *api.JSInfo
	raw       json.RawMessage
	streams   int
	consumers int
	msgs      uint64
	bytes     uint64
	stats     api.JetStreamStats
}

func newJetStream(c *Common) *cobra.Command {
	o := &jsOptions{Common: c}
	cmd := &cobra.Command{
		Use:     "jetstream",
		Aliases: []string{"js", "jsz"},
		Short:   "Report JetStream usage per server",
		Long: `Show, for every server running JetStream, its streams, consumers,
messages, storage and API use, with totals, and the state of the
JetStream meta group when clustered. --account narrows the figures to
one account.`,
		Args: cmdutil.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.validate(); err != nil {
				return err
			}
			key, ok := jsSortKeys[o.Sort]
			if !ok {
				return cmdutil.FlagErrorf("--sort must be one of name, cluster, streams, consumers, msgs, bytes, mem, file, api, err; not %q", o.Sort)
			}
			o.Sort = key
			return o.run(cmd)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Account, "account", "", "only the JetStream use of `ACCOUNT`")
	fl.StringVar(&o.Sort, "sort", "cluster", "sort by `KEY`: name, cluster, streams, consumers, msgs, bytes, mem, file, api, err")
	fl.BoolVar(&o.Compact, "compact", true, "drop the domain suffix all server names share")
	c.addOutputFlags(cmd)
	return cmd
}

// streamState is the part of a stream's state the report reads.
type streamState struct {
	Msgs      uint64 `json:"messages"`
	Consumers int    `json:"consumer_count"`
}

func (o *jsOptions) run(cmd *cobra.Command) error {
	opts := api.JSzOptions{Account: o.Account, Limit: 10000}
	if o.Account != "" {
		opts.Streams, opts.Consumer = true, true
	}
	body, err := sysreq.WithFilter(opts, o.Filter())
	if err != nil {
		return err
	}
	resps, raws, err := gather[api.JSInfo](cmd.Context(), o.Common, "JSZ", body)
	if err != nil {
		return err
	}
	var rows []*jsRow
	var disabled []string
	for i, r := range resps {
		if r.Data.Disabled {
			disabled = append(disabled, r.Server.Name)
			continue
		}
		rows = append(rows, o.row(r.Server, r.Data, raws[i]))
	}
	if len(rows) == 0 {
		return fmt.Errorf("JetStream is not enabled on the %s that answered", plural(len(resps), "server"))
	}
	sortJS(rows, o.Sort, o.Reverse)
	rows = top(rows, o.Top)
	if o.JSON {
		out := make([]json.RawMessage, len(rows))
		for i, r := range rows {
			out[i] = r.raw
		}
		return cmdutil.WriteJSON(o.f.IO.Out, out)
	}
	o.render(rows)
	if len(disabled) > 0 {
		fmt.Fprintf(o.f.IO.ErrOut, "Without JetStream: %s\n", strings.Join(disabled, ", "))
	}
	return nil
}

func (o *jsOptions) row(srv *api.EventServer, info *api.JSInfo, raw json.RawMessage) *jsRow {
	r := &jsRow{srv: srv, info: info, raw: raw, stats: info.JetStreamStats}
	if o.Account == "" || len(info.AccountDetails) != 1 {
		r.streams, r.consumers, r.msgs, r.bytes = info.Streams, info.Consumers, info.Messages, info.Bytes
		return r
	}
	acc := info.AccountDetails[0]
	r.stats = acc.JetStreamStats
	r.bytes = acc.Memory + acc.Store
	r.streams = len(acc.Streams)
	for _, sd := range acc.Streams {
		var st streamState
		if len(sd.State) > 0 && json.Unmarshal(sd.State, &st) == nil {
			r.msgs += st.Msgs
			r.consumers += st.Consumers
		}
	}
	return r
}

func sortJS(rows []*jsRow, key string, reverse bool) {
	less := func(a, b *jsRow) bool {
		byName := a.srv.Name < b.srv.Name
		var x, y uint64
		switch key {
		case "name":
			return byName
		case "cluster":
			if a.srv.Cluster != b.srv.Cluster {
				return a.srv.Cluster < b.srv.Cluster
			}
			return byName
		case "streams":
			x, y = uint64(a.streams), uint64(b.streams)
		case "consumers":
			x, y = uint64(a.consumers), uint64(b.consumers)
		case "msgs":
			x, y = a.msgs, b.msgs
		case "bytes":
			x, y = a.bytes, b.bytes
		case "mem":
			x, y = a.stats.Memory, b.stats.Memory
		case "file":
			x, y = a.stats.Store, b.stats.Store
		case "api":
			x, y = a.stats.API.Total, b.stats.API.Total
		case "err":
			x, y = a.stats.API.Errors, b.stats.API.Errors
		}
		if x != y {
			return x > y
		}
		return byName
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if reverse {
			return less(rows[j], rows[i])
		}
		return less(rows[i], rows[j])
	})
}

func (o *jsOptions) render(rows []*jsRow) {
	io := o.f.IO
	names := make([]string, len(rows))
	domains := false
	for i, r := range rows {
		names[i] = r.srv.Name
		domains = domains || r.info.Config.Domain != ""
	}
	if o.Compact {
		names = sysreq.CompactNames(names)
	}
	title := "JetStream Summary"
	if o.Account != "" {
		title += " for Account " + o.Account
	}
	t := cmdutil.NewTable(io, title)
	hdr := []any{"Server", "Cluster"}
	if domains {
		hdr = append(hdr, "Domain")
	}
	hdr = append(hdr, "Streams", "Consumers", "Messages", "Bytes", "Memory", "File", "API Req", "API Err", "Pending")
	t.AddHeader(hdr...)
	var numeric []int
	for c := len(hdr) - 8; c <= len(hdr); c++ {
		numeric = append(numeric, c)
	}
	t.AlignRight(numeric...)
	var streams, consumers, pending int
	var msgs, bytes, mem, file, apiReq, apiErr uint64
	var leaders []*api.MetaClusterInfo
	for i, r := range rows {
		name := names[i]
		p := 0
		if m := r.info.Meta; m != nil {
			p = m.Pending
			if m.Leader == r.srv.Name {
				name += "*"
				leaders = append(leaders, m)
			}
		}
		streams, consumers, pending = streams+r.streams, consumers+r.consumers, pending+p
		msgs, bytes, mem, file = msgs+r.msgs, bytes+r.bytes, mem+r.stats.Memory, file+r.stats.Store
		apiReq, apiErr = apiReq+r.stats.API.Total, apiErr+r.stats.API.Errors
		row := []any{name, r.srv.Cluster}
		if domains {
			row = append(row, r.info.Config.Domain)
		}
		row = append(row, cmdutil.Comma(int64(r.streams)), cmdutil.Comma(int64(r.consumers)), cmdutil.Comma(int64(r.msgs)),
			cmdutil.IBytes(r.bytes), cmdutil.IBytes(r.stats.Memory), cmdutil.IBytes(r.stats.Store),
			cmdutil.Comma(int64(r.stats.API.Total)), cmdutil.Comma(int64(r.stats.API.Errors)), cmdutil.Comma(int64(p)))
		t.AddRow(row...)
	}
	foot := []any{"", ""}
	if domains {
		foot = append(foot, "")
	}
	foot = append(foot, cmdutil.Comma(int64(streams)), cmdutil.Comma(int64(consumers)), cmdutil.Comma(int64(msgs)),
		cmdutil.IBytes(bytes), cmdutil.IBytes(mem), cmdutil.IBytes(file), cmdutil.Comma(int64(apiReq)),
		cmdutil.Comma(int64(apiErr)), cmdutil.Comma(int64(pending)))
	t.AddFooter(foot...)
	t.Render()
	for _, m := range leaders {
		renderMeta(io, m)
	}
}

// renderMeta shows the JetStream meta group as its leader sees it.
func renderMeta(io *cmdutil.IOStreams, m *api.MetaClusterInfo) {
	peers := append([]*api.PeerInfo{{Name: m.Leader, Peer: m.Peer, Current: true}}, m.Replicas...)
	sort.Slice(peers, func(i, j int) bool { return peers[i].Name < peers[j].Name })
	fmt.Fprintln(io.Out)
	t := cmdutil.NewTable(io, "RAFT Meta Group Information - Lead cluster: "+m.Name)
	t.AddHeader("Name", "ID", "Leader", "Current", "Online", "Active", "Lag")
	for _, p := range peers {
		leader := ""
		if p.Name == m.Leader {
			leader = "yes"
		}
		t.AddRow(p.Name, p.Peer, leader, p.Current, !p.Offline, cmdutil.Duration(p.Active), cmdutil.Comma(int64(p.Lag)))
	}
	t.Render()
}
