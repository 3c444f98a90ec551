package servercmd

import (
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	checkcmd "github.com/sluicehq/sluice/internal/cli/server/check"
	configcmd "github.com/sluicehq/sluice/internal/cli/server/config"
	infocmd "github.com/sluicehq/sluice/internal/cli/server/info"
	kickcmd "github.com/sluicehq/sluice/internal/cli/server/kick"
	listcmd "github.com/sluicehq/sluice/internal/cli/server/list"
	mappingscmd "github.com/sluicehq/sluice/internal/cli/server/mappings"
	passwdcmd "github.com/sluicehq/sluice/internal/cli/server/passwd"
	pingcmd "github.com/sluicehq/sluice/internal/cli/server/ping"
	raftcmd "github.com/sluicehq/sluice/internal/cli/server/raft"
	reportcmd "github.com/sluicehq/sluice/internal/cli/server/report"
	requestcmd "github.com/sluicehq/sluice/internal/cli/server/request"
)

// New builds `sluice server` and its verbs.
func New(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "server",
		Aliases: []string{"srv", "sys"},
		Short:   "Inspect and manage running servers",
		Long: `Inspect and manage running servers through their $SYS services.

Most of these commands need a user of the system account: the servers
answer $SYS requests only for it. 'passwd' and 'mappings' work offline.`,
	}
	cmdutil.MakeGroup(cmd)
	cmd.AddCommand(
		checkcmd.New(f),
		configcmd.New(f),
		infocmd.New(f),
		kickcmd.New(f),
		listcmd.New(f),
		mappingscmd.New(f),
		passwdcmd.New(f),
		pingcmd.New(f),
		raftcmd.New(f),
		reportcmd.New(f),
		requestcmd.New(f),
	)
	return cmd
}
