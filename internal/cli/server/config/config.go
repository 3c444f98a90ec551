// Package configcmd implements `sluice server config`: acting on the
// configuration of running servers (for now, reloading it).
package configcmd

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/server/sysreq"
)

// New builds `server config` and its verbs.
func New(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Act on the configuration of running servers",
	}
	cmdutil.MakeGroup(cmd)
	cmd.AddCommand(NewCmdReload(f, nil))
	return cmd
}

// ReloadOptions are the inputs of `server config reload`.
type ReloadOptions struct {
	f *cmdutil.Factory

	Server string
	Force  bool
	JSON   bool
}

// NewCmdReload builds `server config reload`.
func NewCmdReload(f *cmdutil.Factory, runF func(*ReloadOptions) error) *cobra.Command {
	o := &ReloadOptions{f: f}
	cmd := &cobra.Command{
		Use:   "reload SERVER",
		Short: "Make a server reload its configuration file",
		Long: `Make SERVER, a server name or id, read its configuration file again and
apply what may change at run time, as a SIGHUP would.

Asks for confirmation unless --force. Needs a user of the system account.`,
		Example: `  sluice server config reload n1-east --force`,
		Args:    cmdutil.ExactArgs(1, "SERVER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Server = args[0]
			if runF != nil {
				return runF(o)
			}
			return runReload(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVarP(&o.Force, "force", "f", false, "reload without asking")
	cmdutil.AddJSONFlag(cmd, &o.JSON)
	return cmd
}

func runReload(ctx context.Context, o *ReloadOptions) error {
	f := o.f
	nc, err := f.Conn()
	if err != nil {
		return err
	}
	timeout := f.Timeout()
	target, err := sysreq.ResolveNamed(ctx, nc, o.Server, timeout)
	if err != nil {
		return err
	}
	if err := f.ConfirmDestructive(o.Force, fmt.Sprintf("Reload the configuration of %s?", target)); err != nil {
		return err
	}
	raw, err := sysreq.Control(ctx, nc, target.ID, "RELOAD", nil, timeout)
	if err != nil {
		return err
	}
	if o.JSON {
		return cmdutil.WriteJSON(f.IO.Out, json.RawMessage(raw))
	}
	fmt.Fprintf(f.IO.Out, "Reloaded the configuration of %s\n", target)
	return nil
}
