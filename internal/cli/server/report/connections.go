package reportcmd

import (
	"context"
	"fmt"
	"regexp"
	"sort"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/server/sysreq"
	"github.com/sluicehq/sluice/pkg/api"
)

// connOptions select connections for the connection and account reports.
type connOptions struct {
	*Common
	Account  string
	Subject  string
	User     string
	State    string
	Reason   string
	Sort     string
	PageSize int

	reason *regexp.Regexp
}

// Conn is one connection with the server it is on; --json prints these.
type Conn struct {
	*api.ConnInfo
	Server *api.EventServer `json:"server"`
}

var connSortKeys = []string{"in-bytes", "out-bytes", "in-msgs", "out-msgs", "uptime", "cid", "subs"}

func newConnections(c *Common) *cobra.Command {
	o := &connOptions{Common: c}
	cmd := &cobra.Command{
		Use:     "connections",
		Aliases: []string{"conn", "conns", "connz"},
		Short:   "Report the connections of every server",
		Long: `List the connections of every server, sorted, the top ones in a table
with totals over all, then the number of connections per server.`,
		Args: cmdutil.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.validate(cmd, connSortKeys); err != nil {
				return err
			}
			conns, err := o.fetch(cmd.Context())
			if err != nil {
				return err
			}
			sortConns(conns, o.Sort, o.Reverse)
			if o.JSON {
				return cmdutil.WriteJSON(o.f.IO.Out, top(conns, o.Top))
			}
			o.render(conns)
			return nil
		},
	}
	o.addFlags(cmd, "subs", "sort by `KEY`: in-bytes, out-bytes, in-msgs, out-msgs, uptime, cid, subs")
	cmd.Flags().StringVar(&o.Account, "account", "", "only connections of `ACCOUNT`")
	return cmd
}

// addFlags adds the connection selection flags.
func (o *connOptions) addFlags(cmd *cobra.Command, sortDefault, sortUsage string) {
	fl := cmd.Flags()
	fl.StringVar(&o.Sort, "sort", sortDefault, sortUsage)
	fl.StringVar(&o.Subject, "subject", "", "only connections with interest in `SUBJECT`")
	fl.StringVar(&o.User, "username", "", "only connections of `USER`")
	fl.StringVar(&o.State, "state", "open", "connections in `STATE`: open, closed or all")
	fl.StringVar(&o.Reason, "closed-reason", "", "only closed connections whose reason matches `REGEXP` (implies --state closed)")
	fl.IntVar(&o.PageSize, "page-size", api.DefaultConnListSize, "connections per request")
	fl.MarkHidden("page-size")
	o.Common.addOutputFlags(cmd)
}

func (o *connOptions) validate(cmd *cobra.Command, keys []string) error {
	if err := o.Common.validate(); err != nil {
		return err
	}
	if !contains(keys, o.Sort) {
		return cmdutil.FlagErrorf("--sort must be one of %v, not %q", keys, o.Sort)
	}
	if o.PageSize < 1 {
		return cmdutil.FlagErrorf("--page-size must be at least 1")
	}
	if o.Reason != "" {
		re, err := regexp.Compile("(?i)" + o.Reason)
		if err != nil {
			return cmdutil.FlagErrorf("--closed-reason: %v", err)
		}
		o.reason = re
		if !cmd.Flags().Changed("state") {
			o.State = "closed"
		}
	}
	switch o.State {
	case "open", "closed", "all":
	default:
		return cmdutil.FlagErrorf("--state must be open, closed or all, not %q", o.State)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (o *connOptions) connzOptions(offset int) api.ConnzOptions {
	state := map[string]api.ConnState{"open": api.ConnOpen, "closed": api.ConnClosed, "all": api.ConnAll}[o.State]
	return api.ConnzOptions{Username: true, User: o.User, Account: o.Account, State: state,
		FilterSubject: o.Subject, Offset: offset, Limit: o.PageSize}
}

// fetch gathers every selected connection of every server: one request
// to all, then, for each server with more, requests to it alone until
// its last page.
func (o *connOptions) fetch(ctx context.Context) ([]Conn, error) {
	body, err := sysreq.WithFilter(o.connzOptions(0), o.Filter())
	if err != nil {
		return nil, err
	}
	first, _, err := gather[api.Connz](ctx, o.Common, "CONNZ", body)
	if err != nil {
		return nil, err
	}
	nc, err := o.f.Conn()
	if err != nil {
		return nil, err
	}
	var conns []Conn
	for _, resp := range first {
		page := resp.Data
		for {
			for _, ci := range page.Conns {
				if o.reason == nil || o.reason.MatchString(ci.Reason) {
					conns = append(conns, Conn{ConnInfo: ci, Server: resp.Server})
				}
			}
			next := page.Offset + len(page.Conns)
			if len(page.Conns) == 0 || next >= page.Total {
				break
			}
			m, err := sysreq.One(ctx, nc, sysreq.ServerSubject(resp.Server.ID, "CONNZ"), o.connzOptions(next), o.f.Timeout())
			if err != nil {
				return nil, err
			}
			r, err := sysreq.Decode[api.Connz](m)
			if err != nil {
				return nil, err
			}
			page = r.Data
		}
	}
	return conns, nil
}

// sortConns orders connections: the most first, the oldest first for
// uptime, the lowest cid first.
func sortConns(conns []Conn, key string, reverse bool) {
	less := func(a, b Conn) bool {
		switch key {
		case "in-bytes":
			return a.InBytes > b.InBytes
		case "out-bytes":
			return a.OutBytes > b.OutBytes
		case "in-msgs":
			return a.InMsgs > b.InMsgs
		case "out-msgs":
			return a.OutMsgs > b.OutMsgs
		case "uptime":
			return a.Start.Before(b.Start)
		case "cid":
			return a.Cid < b.Cid
		}
		return a.NumSubs > b.NumSubs
	}
	sort.SliceStable(conns, func(i, j int) bool {
		if reverse {
			return less(conns[j], conns[i])
		}
		return less(conns[i], conns[j])
	})
}

func (o *connOptions) render(conns []Conn) {
	io := o.f.IO
	if len(conns) == 0 {
		fmt.Fprintln(io.ErrOut, "No connections match")
		return
	}
	shown := top(conns, o.Top)
	t := cmdutil.NewTable(io, fmt.Sprintf("Top %d Connections out of %s by %s", len(shown), cmdutil.Comma(int64(len(conns))), o.Sort))
	showReason := o.State != "open"
	hdr := []any{"CID", "Name", "Server", "Cluster", "IP", "Account", "Uptime", "In Msgs", "Out Msgs", "In Bytes", "Out Bytes", "Subs"}
	if showReason {
		hdr = append(hdr, "Reason")
	}
	t.AddHeader(hdr...)
	t.AlignRight(8, 9, 10, 11, 12)
	var inMsgs, outMsgs, inBytes, outBytes int64
	var subs uint32
	type perServer struct {
		name, cluster string
		conns         int
	}
	servers := map[string]*perServer{}
	for i, c := range conns {
		inMsgs, outMsgs, inBytes, outBytes = inMsgs+c.InMsgs, outMsgs+c.OutMsgs, inBytes+c.InBytes, outBytes+c.OutBytes
		subs += c.NumSubs
		ps := servers[c.Server.ID]
		if ps == nil {
			ps = &perServer{name: c.Server.Name, cluster: c.Server.Cluster}
			servers[c.Server.ID] = ps
		}
		ps.conns++
		if i >= len(shown) {
			continue
		}
		row := []any{cid(c.ConnInfo), clip(connName(c.ConnInfo), 40), c.Server.Name, c.Server.Cluster, fmt.Sprintf("%s:%d", c.IP, c.Port),
			clip(c.Account, 46), c.Uptime, cmdutil.Comma(c.InMsgs), cmdutil.Comma(c.OutMsgs), cmdutil.IBytes(uint64(max(c.InBytes, 0))),
			cmdutil.IBytes(uint64(max(c.OutBytes, 0))), cmdutil.Comma(int64(c.NumSubs))}
		if showReason {
			row = append(row, c.Reason)
		}
		t.AddRow(row...)
	}
	if len(conns) > 1 {
		foot := []any{"", "Totals for " + plural(len(conns), "connection"), "", "", "", "", "", cmdutil.Comma(inMsgs), cmdutil.Comma(outMsgs),
			cmdutil.IBytes(uint64(max(inBytes, 0))), cmdutil.IBytes(uint64(max(outBytes, 0))), cmdutil.Comma(int64(subs))}
		if showReason {
			foot = append(foot, "")
		}
		t.AddFooter(foot...)
	}
	t.Render()

	list := make([]*perServer, 0, len(servers))
	for _, s := range servers {
		list = append(list, s)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].conns != list[j].conns {
			return list[i].conns > list[j].conns
		}
		return list[i].name < list[j].name
	})
	fmt.Fprintln(io.Out)
	st := cmdutil.NewTable(io, "Connections per server")
	st.AddHeader("Server", "Cluster", "Connections")
	st.AlignRight(3)
	for _, s := range list {
		st.AddRow(s.name, s.cluster, cmdutil.Comma(int64(s.conns)))
	}
	st.Render()
}

// cid shows the connection id, prefixed by its kind's initial when it
// is not a client (R7 for a route).
func cid(c *api.ConnInfo) string {
	if c.Kind != "" && c.Kind != "Client" {
		return fmt.Sprintf("%c%d", c.Kind[0], c.Cid)
	}
	return fmt.Sprint(c.Cid)
}

func connName(c *api.ConnInfo) string {
	if c.Name == "" && c.MQTTClient != "" {
		return c.MQTTClient
	}
	return c.Name
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + " .."
	}
	return s
}
