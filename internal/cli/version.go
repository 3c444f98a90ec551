package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/version"
)

func newVersionCmd(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print sluice's version and build information",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(f.IO.Out, "sluice %s\n", version.Version)
			if c := version.CommitOrVCS(); c != "" {
				fmt.Fprintf(f.IO.Out, "commit:      %s\n", c)
			}
			if version.Date != "" {
				fmt.Fprintf(f.IO.Out, "built:       %s\n", version.Date)
			}
			fmt.Fprintf(f.IO.Out, "go:          %s\n", version.GoVersion())
			fmt.Fprintf(f.IO.Out, "nats-server: %s (compatibility level)\n", version.NATSCompat)
			return nil
		},
	}
}
