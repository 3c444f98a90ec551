package cli

import (
	"github.com/spf13/cobra"

	accountcmd "github.com/sluicehq/sluice/internal/cli/account"
	authcmd "github.com/sluicehq/sluice/internal/cli/auth"
	benchcmd "github.com/sluicehq/sluice/internal/cli/bench"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	consumercmd "github.com/sluicehq/sluice/internal/cli/consumer"
	contextcmd "github.com/sluicehq/sluice/internal/cli/context"
	kvcmd "github.com/sluicehq/sluice/internal/cli/kv"
	objcmd "github.com/sluicehq/sluice/internal/cli/obj"
	pubcmd "github.com/sluicehq/sluice/internal/cli/pub"
	replycmd "github.com/sluicehq/sluice/internal/cli/reply"
	requestcmd "github.com/sluicehq/sluice/internal/cli/request"
	servecmd "github.com/sluicehq/sluice/internal/cli/serve"
	servercmd "github.com/sluicehq/sluice/internal/cli/server"
	streamcmd "github.com/sluicehq/sluice/internal/cli/stream"
	subcmd "github.com/sluicehq/sluice/internal/cli/sub"
	"github.com/sluicehq/sluice/internal/version"
)

// Help groups, in the order they are shown.
const (
	GroupMessaging = "messaging"
	GroupConfig    = "config"
	GroupJS        = "jetstream"
	GroupTools     = "tools"
	GroupServer    = "server"
)

const rootLong = `sluice is a NATS-compatible message broker and the toolkit around it.

'sluice serve' runs the broker. The other commands are clients: they work
against sluice or any nats-server, and share natscli's stored contexts
(~/.config/nats/context), so 'nats context' and 'sluice context' see the
same settings.

Connection settings are taken, strongest first, from flags, from NATS_*
environment variables, from the selected context, and from defaults.
Setting any credential by flag or environment replaces the context's
credentials as a whole.

` + cmdutil.ExitCodesHelp

// NewRoot builds the whole command tree.
func NewRoot(f *cmdutil.Factory) *cobra.Command {
	root := &cobra.Command{
		Use:           "sluice",
		Short:         "A NATS-compatible message broker and the toolkit to run it",
		Long:          rootLong,
		SilenceUsage:  true,
		SilenceErrors: true,
		// --version, as nats and nats-server accept it ('sluice version'
		// says more).
		Version: version.Get().Version,
	}
	root.SetVersionTemplate("sluice version {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &cmdutil.UsageError{Err: err}
	})
	root.CompletionOptions.DisableDefaultCmd = true
	f.AddConnectionFlags(root)

	root.AddGroup(
		&cobra.Group{ID: GroupMessaging, Title: "Messaging:"},
		&cobra.Group{ID: GroupConfig, Title: "Configuration:"},
		&cobra.Group{ID: GroupJS, Title: "JetStream:"},
		&cobra.Group{ID: GroupTools, Title: "Tools:"},
		&cobra.Group{ID: GroupServer, Title: "Server:"},
	)
	add := func(group string, cmds ...*cobra.Command) {
		for _, c := range cmds {
			c.GroupID = group
			root.AddCommand(c)
		}
	}
	add(GroupMessaging, pubcmd.New(f), subcmd.New(f), requestcmd.New(f), replycmd.New(f))
	add(GroupConfig, contextcmd.New(f), authcmd.New(f))
	add(GroupJS, streamcmd.New(f))
	add(GroupJS, consumercmd.New(f))
	add(GroupJS, kvcmd.New(f))
	add(GroupJS, objcmd.New(f))
	add(GroupJS, accountcmd.New(f))
	add(GroupTools, benchcmd.New(f))
	add(GroupServer, servecmd.New(f), servercmd.New(f))
	root.AddCommand(newCompletionCmd(f), newVersionCmd(f))
	return root
}
