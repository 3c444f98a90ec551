package benchcmd

import (
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// New builds `sluice bench` and its verbs.
func New(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure publish, subscribe and request-reply performance",
		Args:  cmdutil.ExactArgs(0),
	}
	return cmd
}
