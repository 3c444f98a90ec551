// Package accountcmd implements `sluice account`: what the connected
// user's account may do and uses: JetStream limits and usage per tier,
// connection and payload limits, API statistics, and reports on the
// account's connections and traffic, as natscli's `nats account` has.
package accountcmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/jsutil"
	"github.com/sluicehq/sluice/internal/cli/server/sysreq"
	"github.com/sluicehq/sluice/pkg/api"
)

// New builds `sluice account` and its verbs.
func New(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "account",
		Aliases: []string{"acct"},
		Short:   "Show the connected account's limits, usage and connections",
		Long: `Show what the account of the connected user may do and uses. Unlike
'sluice server', these commands need no system account user: the servers
answer an account's own questions.`,
	}
	cmdutil.MakeGroup(cmd)
	report := &cobra.Command{Use: "report", Aliases: []string{"rep"}, Short: "Report on the account's connections and traffic"}
	cmdutil.MakeGroup(report)
	report.AddCommand(newConnections(f), newStatistics(f))
	cmd.AddCommand(newInfo(f), report)
	return cmd
}

// Info is `account info --json`: the user as the server knows it, the
// connection, and the JetStream API's account info as the server sent it.
type Info struct {
	User       *api.UserInfo   `json:"user,omitempty"`
	Connection ConnInfo        `json:"connection"`
	JetStream  json.RawMessage `json:"jetstream,omitempty"`
	JSError    string          `json:"jetstream_error,omitempty"`
}

// ConnInfo describes the connection and the limits it was given.
type ConnInfo struct {
	ClientID      uint64 `json:"client_id"`
	ClientIP      string `json:"client_ip,omitempty"`
	RTT           string `json:"rtt"`
	Headers       bool   `json:"headers_supported"`
	MaxPayload    int64  `json:"max_payload"`
	ConnectedURL  string `json:"connected_url"`
	ServerID      string `json:"server_id"`
	ServerName    string `json:"server_name"`
	ServerVersion string `json:"server_version"`
	Cluster       string `json:"cluster,omitempty"`
	TLS           bool   `json:"tls"`
}

func userInfo(ctx context.Context, nc *nats.Conn, timeout time.Duration) *api.UserInfo {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	m, err := nc.RequestWithContext(ctx, "$SYS.REQ.USER.INFO", nil)
	if err != nil {
		return nil
	}
	r, err := sysreq.Decode[api.UserInfo](m)
	if err != nil {
		return nil
	}
	return r.Data
}

func newInfo(f *cmdutil.Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "info",
		Aliases: []string{"nfo"},
		Short:   "Show the account's limits and usage",
		Long: `Show the connected user and account, the connection (payload limit,
headers, server, TLS), and the account's JetStream usage and limits per
tier with its API statistics. --json prints the JetStream part as the
server sent it.`,
		Args: cmdutil.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			nc, err := f.Conn()
			if err != nil {
				return err
			}
			out := Info{User: userInfo(cmd.Context(), nc, f.Timeout())}
			c := &out.Connection
			c.ClientID, _ = nc.GetClientID()
			if ip, err := nc.GetClientIP(); err == nil {
				c.ClientIP = ip.String()
			}
			rtt, _ := nc.RTT()
			c.RTT = rtt.String()
			c.Headers, c.MaxPayload = nc.HeadersSupported(), nc.MaxPayload()
			c.ConnectedURL, c.ServerID, c.ServerName = nc.ConnectedUrlRedacted(), nc.ConnectedServerId(), nc.ConnectedServerName()
			c.ServerVersion, c.Cluster = nc.ConnectedServerVersion(), nc.ConnectedClusterName()
			_, tlsErr := nc.TLSConnectionState()
			c.TLS = tlsErr == nil

			ctx, cancel := jsutil.Ctx(cmd.Context(), f)
			defer cancel()
			var ai jetstream.AccountInfo
			m, err := nc.RequestWithContext(ctx, jsutil.APIPrefix(f)+".INFO", nil)
			switch {
			case errors.Is(err, nats.ErrNoResponders):
				out.JSError = "JetStream is not enabled for this account"
			case err != nil:
				out.JSError = jsutil.Err(err, "", "").Error()
			default:
				var env struct {
					Error *struct {
						Description string `json:"description"`
					} `json:"error"`
				}
				json.Unmarshal(m.Data, &env)
				if env.Error != nil {
					out.JSError = env.Error.Description
				} else if err := json.Unmarshal(m.Data, &ai); err != nil {
					out.JSError = "cannot decode the JetStream account info: " + err.Error()
				} else {
					out.JetStream = m.Data
				}
			}
			if asJSON {
				return cmdutil.WriteJSON(f.IO.Out, out)
			}
			render(f, &out, &ai)
			return nil
		},
	}
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

func render(f *cmdutil.Factory, out *Info, ai *jetstream.AccountInfo) {
	w := f.IO.Out
	s := sysreq.NewSections("Account Information")
	if u := out.User; u != nil {
		if u.UserName != "" && u.UserName != u.UserID {
			s.Addf("User", "%s (%s)", u.UserName, u.UserID)
		} else {
			s.AddIf("User", u.UserID)
		}
		if u.AccountName != "" && u.AccountName != u.Account {
			s.Addf("Account", "%s (%s)", u.AccountName, u.Account)
		} else {
			s.Add("Account", u.Account)
		}
		if u.Expires == 0 {
			s.Add("Expires", "never")
		} else {
			s.Add("Expires", jsutil.HumanDuration(u.Expires))
		}
	}
	c := out.Connection
	s.Add("Client ID", c.ClientID)
	s.AddIf("Client IP", c.ClientIP)
	s.Add("RTT", c.RTT)
	s.Add("Headers Supported", c.Headers)
	s.Add("Maximum Payload", cmdutil.IBytes(uint64(c.MaxPayload)))
	s.AddIf("Connected Cluster", c.Cluster)
	s.Add("Connected URL", c.ConnectedURL)
	s.Add("Connected Server ID", c.ServerID)
	s.Add("Connected Server Version", c.ServerVersion)
	if c.ServerName != c.ServerID {
		s.Add("Connected Server Name", c.ServerName)
	}
	s.Add("TLS Connection", c.TLS)

	if out.JSError != "" {
		s.Section("JetStream Account Usage")
		s.Add("JetStream", out.JSError)
		s.Write(w)
		return
	}
	title := "JetStream Account Usage"
	if ai.Domain != "" {
		title += " in domain " + ai.Domain
	}
	s.Section(title)
	s.Add("Storage", cmdutil.IBytes(ai.Store))
	s.Add("Memory", cmdutil.IBytes(ai.Memory))
	s.Add("Streams", ai.Streams)
	s.Add("Consumers", ai.Consumers)
	s.Section("API Statistics")
	s.Add("API Level", ai.API.Level)
	s.Add("Requests", cmdutil.Comma(int64(ai.API.Total)))
	s.Add("Errors", cmdutil.Comma(int64(ai.API.Errors)))
	if ai.API.Inflight > 0 {
		s.Add("In Flight", cmdutil.Comma(int64(ai.API.Inflight)))
	}
	if len(ai.Tiers) > 0 {
		names := make([]string, 0, len(ai.Tiers))
		for n := range ai.Tiers {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			tier(s, n, ai.Tiers[n])
		}
	} else {
		tier(s, "Default", ai.Tier)
	}
	s.Write(w)
}

func tier(s *sysreq.Sections, name string, t jetstream.Tier) {
	s.Section("Tier: " + name)
	l := t.Limits
	s.Add("Stream Requires Max Bytes Set", l.MaxBytesRequired)
	if l.MaxAckPending <= 0 {
		s.Add("Consumer Maximum Ack Pending", "Unlimited")
	} else {
		s.Add("Consumer Maximum Ack Pending", cmdutil.Comma(int64(l.MaxAckPending)))
	}
	of := func(used uint64, max int64, reserved uint64) string {
		lim := "Unlimited"
		if max >= 0 {
			lim = cmdutil.IBytes(uint64(max))
		}
		out := cmdutil.IBytes(used) + " of " + lim
		if reserved > 0 {
			out += fmt.Sprintf(" (%s reserved)", cmdutil.IBytes(reserved))
		}
		return out
	}
	per := func(n int64) string {
		if n <= 0 {
			return "Unlimited"
		}
		return cmdutil.IBytes(uint64(n))
	}
	s.Add("Memory", of(t.Memory, l.MaxMemory, t.ReservedMemory))
	s.Add("Memory Per Stream", per(l.MemoryMaxStreamBytes))
	s.Add("Storage", of(t.Store, l.MaxStore, t.ReservedStore))
	s.Add("Storage Per Stream", per(l.StoreMaxStreamBytes))
	if l.MaxStreams < 0 {
		s.Addf("Streams", "%s of Unlimited", cmdutil.Comma(int64(t.Streams)))
	} else {
		s.Addf("Streams", "%s of %s", cmdutil.Comma(int64(t.Streams)), cmdutil.Comma(int64(l.MaxStreams)))
	}
	if l.MaxConsumers < 0 {
		s.Add("Consumers", "Unlimited")
	} else {
		s.Addf("Consumers", "Maximum %s per stream", cmdutil.Comma(int64(l.MaxConsumers)))
	}
}

var sortKeys = map[string]api.SortOpt{
	"in-bytes": api.ByInBytes, "out-bytes": api.ByOutBytes, "in-msgs": api.ByInMsgs, "out-msgs": api.ByOutMsgs,
	"uptime": api.ByUptime, "cid": api.ByCid, "subs": api.BySubs,
}

func newConnections(f *cmdutil.Factory) *cobra.Command {
	var (
		sortBy, subject, user, state string
		top                          int
		reverse, asJSON              bool
	)
	cmd := &cobra.Command{
		Use:     "connections",
		Aliases: []string{"conn", "connz", "conns"},
		Short:   "Report on the account's connections on every server",
		Args:    cmdutil.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, ok := sortKeys[sortBy]
			if !ok {
				return cmdutil.FlagErrorf("--sort must be one of in-bytes, out-bytes, in-msgs, out-msgs, uptime, cid, subs; not %q", sortBy)
			}
			states := map[string]api.ConnState{"open": api.ConnOpen, "closed": api.ConnClosed, "all": api.ConnAll}
			st, ok := states[state]
			if !ok {
				return cmdutil.FlagErrorf("--state must be open, closed or all, not %q", state)
			}
			if top < 1 {
				return cmdutil.FlagErrorf("--top must be at least 1, not %d", top)
			}
			nc, err := f.Conn()
			if err != nil {
				return err
			}
			body := api.ConnzEventOptions{ConnzOptions: api.ConnzOptions{Sort: key, Username: true, State: st,
				User: user, FilterSubject: subject, Limit: top}}
			replies, err := sysreq.Collect(cmd.Context(), nc, sysreq.Request{Subject: "$SYS.REQ.ACCOUNT.PING.CONNZ", Body: body, Timeout: f.Timeout()})
			if err != nil {
				return err
			}
			type row struct {
				*api.ConnInfo
				Server string `json:"server_name"`
			}
			var rows []row
			for _, r := range replies {
				resp, err := sysreq.Decode[api.Connz](r.Msg)
				if err != nil {
					return err
				}
				for _, c := range resp.Data.Conns {
					rows = append(rows, row{ConnInfo: c, Server: resp.Server.Name})
				}
			}
			less := func(a, b *api.ConnInfo) bool {
				switch key {
				case api.ByInBytes:
					return a.InBytes > b.InBytes
				case api.ByOutBytes:
					return a.OutBytes > b.OutBytes
				case api.ByInMsgs:
					return a.InMsgs > b.InMsgs
				case api.ByOutMsgs:
					return a.OutMsgs > b.OutMsgs
				case api.ByUptime:
					return a.Start.Before(b.Start)
				case api.ByCid:
					return a.Cid < b.Cid
				}
				return a.NumSubs > b.NumSubs
			}
			sort.SliceStable(rows, func(i, j int) bool { return less(rows[i].ConnInfo, rows[j].ConnInfo) != reverse })
			if len(rows) > top {
				rows = rows[:top]
			}
			if asJSON {
				if rows == nil {
					rows = []row{}
				}
				return cmdutil.WriteJSON(f.IO.Out, rows)
			}
			t := cmdutil.NewTable(f.IO, fmt.Sprintf("%d connections", len(rows)))
			t.AddHeader("CID", "Name", "Server", "User", "Address", "RTT", "Uptime", "In Msgs", "Out Msgs", "In Bytes", "Out Bytes", "Subs")
			for _, r := range rows {
				t.AddRow(r.Cid, r.Name, r.Server, r.AuthorizedUser, fmt.Sprintf("%s:%d", r.IP, r.Port), r.RTT, r.Uptime,
					cmdutil.Comma(r.InMsgs), cmdutil.Comma(r.OutMsgs), cmdutil.IBytes(uint64(r.InBytes)), cmdutil.IBytes(uint64(r.OutBytes)), r.NumSubs)
			}
			t.AlignRight(1, 8, 9, 10, 11, 12)
			t.Render()
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&sortBy, "sort", "subs", "sort by in-bytes, out-bytes, in-msgs, out-msgs, uptime, cid or subs")
	fl.IntVar(&top, "top", 1000, "show at most `N` connections")
	fl.StringVar(&subject, "subject", "", "only connections with interest in `SUBJECT`")
	fl.StringVar(&user, "username", "", "only connections of `USER`")
	fl.BoolVarP(&reverse, "reverse", "R", false, "reverse the order")
	fl.StringVar(&state, "state", "open", "open, closed or all connections")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

func newStatistics(f *cmdutil.Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "statistics",
		Aliases: []string{"stats", "statsz"},
		Short:   "Report the account's traffic on every server",
		Args:    cmdutil.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			nc, err := f.Conn()
			if err != nil {
				return err
			}
			replies, err := sysreq.Collect(cmd.Context(), nc, sysreq.Request{Subject: "$SYS.REQ.ACCOUNT.PING.STATZ",
				Body: api.AccountStatzEventOptions{AccountStatzOptions: api.AccountStatzOptions{IncludeUnused: true}}, Timeout: f.Timeout()})
			if err != nil {
				return err
			}
			type row struct {
				Server  string `json:"server"`
				Cluster string `json:"cluster,omitempty"`
				Version string `json:"version"`
				*api.AccountStat
			}
			var rows []row
			for _, r := range replies {
				resp, err := sysreq.Decode[api.AccountStatz](r.Msg)
				if err != nil {
					return err
				}
				for _, a := range resp.Data.Accounts {
					rows = append(rows, row{Server: resp.Server.Name, Cluster: resp.Server.Cluster, Version: resp.Server.Version, AccountStat: a})
				}
			}
			sort.Slice(rows, func(i, j int) bool { return rows[i].Server < rows[j].Server })
			if asJSON {
				if rows == nil {
					rows = []row{}
				}
				return cmdutil.WriteJSON(f.IO.Out, rows)
			}
			if len(rows) == 0 {
				return errors.New("no server reported statistics for this account")
			}
			t := cmdutil.NewTable(f.IO, "Server Statistics")
			t.AddHeader("Server", "Cluster", "Version", "Connections", "Subscriptions", "Leafnodes", "Sent Bytes", "Sent Messages", "Received Bytes", "Received Messages", "Slow Consumers")
			var conns, subs, leafs int64
			var sb, sm, rb, rm, sc int64
			for _, r := range rows {
				conns += int64(r.Conns)
				subs += int64(r.NumSubs)
				leafs += int64(r.LeafNodes)
				sb, sm, rb, rm, sc = sb+r.Sent.Bytes, sm+r.Sent.Msgs, rb+r.Received.Bytes, rm+r.Received.Msgs, sc+r.SlowConsumers
				t.AddRow(r.Server, r.Cluster, r.Version, r.Conns, r.NumSubs, r.LeafNodes, cmdutil.IBytes(uint64(r.Sent.Bytes)),
					cmdutil.Comma(r.Sent.Msgs), cmdutil.IBytes(uint64(r.Received.Bytes)), cmdutil.Comma(r.Received.Msgs), r.SlowConsumers)
			}
			t.AddFooter("", "", "", conns, subs, leafs, cmdutil.IBytes(uint64(sb)), cmdutil.Comma(sm), cmdutil.IBytes(uint64(rb)), cmdutil.Comma(rm), sc)
			t.AlignRight(4, 5, 6, 7, 8, 9, 10, 11)
			t.Render()
			return nil
		},
	}
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}
