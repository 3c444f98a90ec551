// Package reportcmd implements `sluice server report`: tables built from
// the monitoring endpoints of every server — connections, accounts and
// JetStream — gathered over $SYS and paged until complete.
package reportcmd

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/server/sysreq"
	"github.com/sluicehq/sluice/pkg/api"
)

// Common are the inputs every report shares.
type Common struct {
	f *cmdutil.Factory

	Server  string
	Cluster string
	Tags    []string
	Reverse bool
	JSON    bool
	Top     int
}

// Filter is the server filter of the requests.
func (c *Common) Filter() api.EventFilterOptions {
	return api.EventFilterOptions{Name: c.Server, Cluster: c.Cluster, Tags: c.Tags, Exact: true}
}

// New builds `server report` and its reports.
func New(f *cmdutil.Factory) *cobra.Command {
	c := &Common{f: f}
	cmd := &cobra.Command{
		Use:     "report",
		Aliases: []string{"rep"},
		Short:   "Report on connections, accounts and JetStream across servers",
		Long: `Tables built from the monitoring endpoints of every server (or those
--server, --cluster or --tags pick), gathered over $SYS. Connection lists
are paged until every connection of every server is in.

Needs a user of the system account.`,
		Example: `  sluice server report connections --top 10 --sort in-msgs
  sluice server report accounts --json
  sluice server report jetstream --sort mem`,
	}
	cmdutil.MakeGroup(cmd)
	fl := cmd.PersistentFlags()
	fl.StringVar(&c.Server, "server-name", "", "only the server with this `NAME`")
	fl.StringVar(&c.Server, "host", "", "the same as --server-name (natscli's spelling)")
	fl.MarkHidden("host")
	fl.StringVar(&c.Cluster, "cluster", "", "only servers of this `CLUSTER`")
	fl.StringSliceVar(&c.Tags, "tags", nil, "only servers with all these `TAGS`")
	fl.BoolVarP(&c.Reverse, "reverse", "R", false, "reverse the order")
	cmd.AddCommand(newConnections(c), newAccounts(c), newJetStream(c))
	return cmd
}

// addOutputFlags gives a report --json and --top.
func (c *Common) addOutputFlags(cmd *cobra.Command) {
	cmdutil.AddJSONFlag(cmd, &c.JSON)
	cmd.Flags().IntVar(&c.Top, "top", 1000, "show at most this many rows (0: all)")
}

func (c *Common) validate() error {
	if c.Top < 0 {
		return cmdutil.FlagErrorf("--top may not be negative, not %d", c.Top)
	}
	return nil
}

// gather asks every selected server for endpoint and decodes each answer
// as T. Errors from servers fail the report.
func gather[T any](ctx context.Context, c *Common, endpoint string, body any) ([]*sysreq.Response[T], []json.RawMessage, error) {
	f := c.f
	nc, err := f.Conn()
	if err != nil {
		return nil, nil, err
	}
	timeout := f.Timeout()
	expect := 1
	if c.Server == "" {
		if expect, err = sysreq.CountServers(ctx, nc, timeout); err != nil {
			return nil, nil, err
		}
	}
	var mu sync.Mutex
	var out []*sysreq.Response[T]
	var raws []json.RawMessage
	subject := sysreq.PingAll(endpoint)
	_, err = sysreq.Stream(ctx, nc, sysreq.Request{Subject: subject, Body: body, Expect: expect, Timeout: timeout},
		func(r sysreq.Reply) error {
			resp, err := sysreq.Decode[T](r.Msg)
			if err != nil {
				return err
			}
			mu.Lock()
			out = append(out, resp)
			raws = append(raws, r.Msg.Data)
			mu.Unlock()
			return nil
		})
	if err != nil {
		return nil, nil, err
	}
	if len(out) == 0 {
		return nil, nil, cmdutil.WithHint(cmdutil.ExitTimeout, fmt.Errorf("no server answered %s within %s", subject, timeout),
			"check the --server-name, --cluster and --tags filters, or raise --timeout")
	}
	return out, raws, nil
}

// top keeps the first n items (all when n is 0).
func top[T any](items []T, n int) []T {
	if n > 0 && n < len(items) {
		return items[:n]
	}
	return items
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%s %ss", cmdutil.Comma(int64(n)), word)
}
