// Package requestcmd implements `sluice server request`: ask every server
// (or those a filter picks) for one of its monitoring endpoints over
// $SYS, and print each answer as one line of JSON, exactly as sent.
package requestcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	configcmd "github.com/sluicehq/sluice/internal/cli/server/config"
	kickcmd "github.com/sluicehq/sluice/internal/cli/server/kick"
	"github.com/sluicehq/sluice/internal/cli/server/sysreq"
	"github.com/sluicehq/sluice/pkg/api"
)

// Common are the inputs every endpoint shares.
type Common struct {
	f *cmdutil.Factory

	Limit, Offset int
	Name, Host    string
	Cluster       string
	Tags          []string
	// Wait is the number of answers to wait for; 0 works it out.
	Wait int
	// extraWait lengthens --timeout for requests that take long (cpu
	// profiles).
	extraWait time.Duration
}

// Filter is the server filter the request carries.
func (c *Common) Filter() api.EventFilterOptions {
	return api.EventFilterOptions{Name: c.Name, Host: c.Host, Cluster: c.Cluster, Tags: c.Tags, Exact: true}
}

const requestLong = `Ask servers for a monitoring endpoint over $SYS and print each answer as
one line of JSON, exactly as the server sent it: the envelope with
"server" (who answered) and "data" (the endpoint's report) or "error".

Every server answers unless --name, --host, --cluster or --tags pick
some. Answers are awaited until WAIT of them arrived, or as many as there
are active servers (or one with --name or --host), or until --timeout.

Needs a user of the system account.`

// New builds `server request` and its endpoints.
func New(f *cmdutil.Factory) *cobra.Command {
	c := &Common{f: f}
	cmd := &cobra.Command{
		Use:     "request",
		Aliases: []string{"req"},
		Short:   "Request monitoring data from servers, as JSON",
		Long:    requestLong,
		Example: `  sluice server request varz
  sluice server request connz --filter-account A --subscriptions | jq .data.connections
  sluice server request jsz 3 --accounts
  sluice server request profile heap ./profiles`,
	}
	cmdutil.MakeGroup(cmd)
	fl := cmd.PersistentFlags()
	fl.IntVar(&c.Limit, "limit", 2048, "at most this many records per server, where the endpoint pages")
	fl.IntVar(&c.Offset, "offset", 0, "skip this many records, where the endpoint pages")
	fl.StringVar(&c.Name, "name", "", "only the server with this `NAME`")
	fl.StringVar(&c.Host, "host", "", "only servers on this `HOST`")
	fl.StringVar(&c.Cluster, "cluster", "", "only servers of this `CLUSTER`")
	fl.StringSliceVar(&c.Tags, "tags", nil, "only servers with all these `TAGS`")
	cmd.AddCommand(endpointCommands(c)...)
	cmd.AddCommand(newProfile(c),
		kickcmd.New(f),
		kickcmd.NewCmdLDM(f, nil),
		configcmd.NewCmdReload(f, nil),
	)
	return cmd
}

// waitArg reads the optional WAIT argument.
func (c *Common) waitArg(args []string) error {
	c.Wait = 0
	if len(args) == 0 {
		return nil
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 {
		return cmdutil.FlagErrorf("WAIT must be a positive number of answers, not %q", args[0])
	}
	c.Wait = n
	return nil
}

// Gather asks every selected server for endpoint with body and calls
// each with every answer. It returns the number of answers.
func (c *Common) Gather(ctx context.Context, endpoint string, body any, each func([]byte) error) (int, error) {
	f := c.f
	if c.Limit < 0 || c.Offset < 0 {
		return 0, cmdutil.FlagErrorf("--limit and --offset may not be negative")
	}
	nc, err := f.Conn()
	if err != nil {
		return 0, err
	}
	timeout := f.Timeout() + c.extraWait
	expect, explicit := c.Wait, c.Wait > 0
	if expect == 0 {
		if c.Name != "" || c.Host != "" {
			expect = 1
		} else if expect, err = sysreq.CountServers(ctx, nc, timeout); err != nil {
			return 0, err
		}
	}
	subject := sysreq.PingAll(endpoint)
	n, err := sysreq.Stream(ctx, nc, sysreq.Request{Subject: subject, Body: body, Expect: expect, Timeout: timeout},
		func(r sysreq.Reply) error { return each(r.Msg.Data) })
	if err != nil {
		return n, err
	}
	if n == 0 {
		return 0, cmdutil.WithHint(cmdutil.ExitTimeout, fmt.Errorf("no server answered %s within %s", subject, timeout),
			"check the --name, --host, --cluster and --tags filters, or raise --timeout")
	}
	if explicit && n < expect {
		return n, cmdutil.WithHint(cmdutil.ExitTimeout, fmt.Errorf("%d of %d expected answers arrived within %s", n, expect, timeout),
			"check the missing servers, or raise --timeout")
	}
	return n, nil
}

// print asks for endpoint and prints every answer as one JSON line;
// skip, when set, drops answers it returns true for.
func (c *Common) print(ctx context.Context, endpoint string, body any, skip func([]byte) bool) error {
	out := c.f.IO.Out
	_, err := c.Gather(ctx, endpoint, body, func(raw []byte) error {
		if skip != nil && skip(raw) {
			return nil
		}
		return writeLine(out, raw)
	})
	return err
}

func writeLine(w interface{ Write([]byte) (int, error) }, raw []byte) error {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return fmt.Errorf("a server sent an answer that is not JSON: %w", err)
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}
