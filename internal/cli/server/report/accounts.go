package reportcmd

import (
	"fmt"
	"sort"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// Account sums the connections of one account; --json prints these.
type Account struct {
	Account     string   `json:"account"`
	Connections int      `json:"connections"`
	InMsgs      int64    `json:"in_msgs"`
	OutMsgs     int64    `json:"out_msgs"`
	InBytes     int64    `json:"in_bytes"`
	OutBytes    int64    `json:"out_bytes"`
	Subs        int64    `json:"subscriptions"`
	Servers     []string `json:"servers"`
	// Conns are listed only when one account is reported.
	Conns []Conn `json:"connection_info,omitempty"`
}

var accountSortKeys = []string{"in-bytes", "out-bytes", "in-msgs", "out-msgs", "conns", "subs"}

func newAccounts(c *Common) *cobra.Command {
	o := &connOptions{Common: c}
	cmd := &cobra.Command{
		Use:     "accounts [ACCOUNT]",
		Aliases: []string{"acct"},
		Short:   "Report the traffic of each account, from its connections",
		Long: `Sum the connections of every server by account: connections, messages,
bytes and subscriptions. With ACCOUNT (or --account), list that
account's connections instead.`,
		Args: cmdutil.RangeArgs(0, 1, "ACCOUNT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if o.Account != "" && o.Account != args[0] {
					return cmdutil.FlagErrorf("give the account once: ACCOUNT %q or --account %q", args[0], o.Account)
				}
				o.Account = args[0]
			}
			if err := o.validate(cmd, accountSortKeys); err != nil {
				return err
			}
			conns, err := o.fetch(cmd.Context())
			if err != nil {
				return err
			}
			accounts := summarize(conns)
			if o.Account != "" {
				return o.one(accounts, conns)
			}
			sortAccounts(accounts, o.Sort, o.Reverse)
			accounts = top(accounts, o.Top)
			if o.JSON {
				return cmdutil.WriteJSON(o.f.IO.Out, accounts)
			}
			o.renderAccounts(accounts)
			return nil
		},
	}
	o.addFlags(cmd, "subs", "sort by `KEY`: in-bytes, out-bytes, in-msgs, out-msgs, conns, subs")
	cmd.Flags().StringVar(&o.Account, "account", "", "report the connections of `ACCOUNT`")
	return cmd
}

// one reports the connections of the one account asked for.
func (o *connOptions) one(accounts []*Account, conns []Conn) error {
	if len(accounts) == 0 {
		return cmdutil.NotFound("account", o.Account, "no connection of it matches; list accounts with 'sluice server report accounts'")
	}
	a := accounts[0]
	if !contains(connSortKeys, o.Sort) {
		o.Sort = "subs"
	}
	sortConns(conns, o.Sort, o.Reverse)
	if o.JSON {
		a.Conns = conns
		return cmdutil.WriteJSON(o.f.IO.Out, a)
	}
	o.render(conns)
	return nil
}

func summarize(conns []Conn) []*Account {
	byName := map[string]*Account{}
	var list []*Account
	for _, c := range conns {
		a := byName[c.Account]
		if a == nil {
			a = &Account{Account: c.Account, Servers: []string{}}
			byName[c.Account] = a
			list = append(list, a)
		}
		a.Connections++
		a.InMsgs += c.InMsgs
		a.OutMsgs += c.OutMsgs
		a.InBytes += c.InBytes
		a.OutBytes += c.OutBytes
		a.Subs += int64(c.NumSubs)
		if !contains(a.Servers, c.Server.Name) {
			a.Servers = append(a.Servers, c.Server.Name)
		}
	}
	return list
}

func sortAccounts(list []*Account, key string, reverse bool) {
	less := func(a, b *Account) bool {
		var x, y int64
		switch key {
		case "in-bytes":
			x, y = a.InBytes, b.InBytes
		case "out-bytes":
			x, y = a.OutBytes, b.OutBytes
		case "in-msgs":
			x, y = a.InMsgs, b.InMsgs
		case "out-msgs":
			x, y = a.OutMsgs, b.OutMsgs
		case "conns":
			x, y = int64(a.Connections), int64(b.Connections)
		default:
			x, y = a.Subs, b.Subs
		}
		if x != y {
			return x > y
		}
		return a.Account < b.Account
	}
	sort.SliceStable(list, func(i, j int) bool {
		if reverse {
			return less(list[j], list[i])
		}
		return less(list[i], list[j])
	})
}

func (o *connOptions) renderAccounts(list []*Account) {
	io := o.f.IO
	if len(list) == 0 {
		fmt.Fprintln(io.ErrOut, "No connections match")
		return
	}
	t := cmdutil.NewTable(io, plural(len(list), "Account")+" Overview")
	t.AddHeader("Account", "Connections", "In Msgs", "Out Msgs", "In Bytes", "Out Bytes", "Subs")
	t.AlignRight(2, 3, 4, 5, 6, 7)
	var tot Account
	for _, a := range list {
		tot.Connections += a.Connections
		tot.InMsgs, tot.OutMsgs, tot.InBytes, tot.OutBytes = tot.InMsgs+a.InMsgs, tot.OutMsgs+a.OutMsgs, tot.InBytes+a.InBytes, tot.OutBytes+a.OutBytes
		tot.Subs += a.Subs
		t.AddRow(a.Account, cmdutil.Comma(int64(a.Connections)), cmdutil.Comma(a.InMsgs), cmdutil.Comma(a.OutMsgs),
			cmdutil.IBytes(uint64(max(a.InBytes, 0))), cmdutil.IBytes(uint64(max(a.OutBytes, 0))), cmdutil.Comma(a.Subs))
	}
	if len(list) > 1 {
		t.AddFooter("Totals", cmdutil.Comma(int64(tot.Connections)), cmdutil.Comma(tot.InMsgs), cmdutil.Comma(tot.OutMsgs),
			cmdutil.IBytes(uint64(max(tot.InBytes, 0))), cmdutil.IBytes(uint64(max(tot.OutBytes, 0))), cmdutil.Comma(tot.Subs))
	}
	t.Render()
}
