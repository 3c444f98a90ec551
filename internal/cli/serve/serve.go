// Package servecmd implements `sluice serve` and the nats-server
// personality. It is the only CLI package that imports internal/server.
package servecmd

import (
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// New returns the `serve` command.
func New(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{Use: "serve", Short: "Run the NATS-compatible broker"}
}

// RunNATSServer runs the nats-server personality with its own flag set.
func RunNATSServer(io *cmdutil.IOStreams, prog string, args []string) int { return 0 }
