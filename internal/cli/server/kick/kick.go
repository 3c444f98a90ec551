// Package kickcmd implements `sluice server kick`: disconnect one client
// from one server at once.
package kickcmd

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/server/sysreq"
	"github.com/sluicehq/sluice/pkg/api"
)

// Options are the inputs of `server kick`.
type Options struct {
	f *cmdutil.Factory

	CID    uint64
	Server string
	JSON   bool
}

// New builds `server kick`.
func New(f *cmdutil.Factory) *cobra.Command { return NewCmd(f, nil) }

// NewCmd builds `server kick` with an optional run function for tests.
func NewCmd(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	o := &Options{f: f}
	cmd := &cobra.Command{
		Use:   "kick CLIENT_ID SERVER",
		Short: "Disconnect a client from a server",
		Long: `Disconnect the client with connection id CLIENT_ID (the cid of
'sluice server report connections') from SERVER, a server name or id.
The client may reconnect, to that server or another.

Needs a user of the system account.`,
		Example: `  sluice server kick 42 n1-east`,
		Args:    cmdutil.ExactArgs(2, "CLIENT_ID", "SERVER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cid, err := ParseCID(args[0])
			if err != nil {
				return err
			}
			o.CID, o.Server = cid, args[1]
			if runF != nil {
				return runF(o)
			}
			return run(cmd.Context(), o)
		},
	}
	cmdutil.AddJSONFlag(cmd, &o.JSON)
	return cmd
}

// ParseCID reads a client connection id.
func ParseCID(s string) (uint64, error) {
	cid, err := strconv.ParseUint(s, 10, 64)
	if err != nil || cid == 0 {
		return 0, cmdutil.FlagErrorf("CLIENT_ID must be a connection id (a positive number), not %q", s)
	}
	return cid, nil
}

func run(ctx context.Context, o *Options) error {
	return Act(ctx, o.f, "KICK", o.CID, o.Server, o.JSON, "Kicked client %d from %s")
}

// Act sends a per-client control request (KICK, LDM) to a server and
// reports the outcome with done (a format taking the cid and server).
func Act(ctx context.Context, f *cmdutil.Factory, endpoint string, cid uint64, server string, asJSON bool, done string) error {
	nc, err := f.Conn()
	if err != nil {
		return err
	}
	timeout := f.Timeout()
	target, err := sysreq.ResolveNamed(ctx, nc, server, timeout)
	if err != nil {
		return err
	}
	raw, err := sysreq.Control(ctx, nc, target.ID, endpoint, &api.KickClientReq{CID: cid}, timeout)
	if err != nil {
		return err
	}
	if asJSON {
		return cmdutil.WriteJSON(f.IO.Out, json.RawMessage(raw))
	}
	fmt.Fprintf(f.IO.Out, done+"\n", cid, target)
	return nil
}

// NewCmdLDM builds `server request ldm`: move one client off a server.
func NewCmdLDM(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	o := &Options{f: f}
	cmd := &cobra.Command{
		Use:   "ldm CLIENT_ID SERVER",
		Short: "Ask a client to move to another server",
		Long: `Send the client with connection id CLIENT_ID on SERVER (a server name or
id) the lame-duck notice, so that it reconnects elsewhere, as it would if
the server were shutting down.

Needs a user of the system account.`,
		Args: cmdutil.ExactArgs(2, "CLIENT_ID", "SERVER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cid, err := ParseCID(args[0])
			if err != nil {
				return err
			}
			o.CID, o.Server = cid, args[1]
			if runF != nil {
				return runF(o)
			}
			return Act(cmd.Context(), o.f, "LDM", o.CID, o.Server, o.JSON, "Asked client %d on %s to move to another server")
		},
	}
	cmdutil.AddJSONFlag(cmd, &o.JSON)
	return cmd
}
