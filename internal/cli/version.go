package cli

import (
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/version"
)

func newVersionCmd(f *cmdutil.Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print sluice's version and build information",
		Long: `Print sluice's version and how the binary was built: the commit, the
build date, the Go toolchain, the platform, and the nats-server version
it is compatible with. Release builds are stamped at link time; others
report what the Go toolchain recorded from the checkout.`,
		Args: cmdutil.ExactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := version.Get()
			if asJSON {
				return cmdutil.WriteJSON(f.IO.Out, v)
			}
			commit := v.Commit
			if v.Modified && commit != "" {
				commit += " (with uncommitted changes)"
			}
			kv := cmdutil.NewKV("")
			kv.Add("sluice", v.Version)
			kv.AddIf("commit", commit)
			kv.AddIf("built", v.Date)
			kv.Add("go", v.Go)
			kv.Add("platform", v.Platform)
			kv.Add("nats-server", v.NATSServer+" (compatibility level)")
			kv.Write(f.IO.Out)
			return nil
		},
	}
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}
