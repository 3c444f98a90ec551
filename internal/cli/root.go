package cli

import (
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	servecmd "github.com/sluicehq/sluice/internal/cli/serve"
)

// NewRoot builds the whole command tree.
func NewRoot(f *cmdutil.Factory) *cobra.Command {
	root := &cobra.Command{
		Use:           "sluice",
		Short:         "A NATS-compatible message broker and the toolkit to run it",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &cmdutil.UsageError{Err: err}
	})
	root.AddGroup(&cobra.Group{ID: "server", Title: "Server:"})
	srv := servecmd.New(f)
	srv.GroupID = "server"
	root.AddCommand(srv, newVersionCmd(f))
	return root
}
