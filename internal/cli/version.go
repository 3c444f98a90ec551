package cli

import (
	"runtime"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/version"
)

// versionInfo is what `sluice version --json` prints.
type versionInfo struct {
	Version    string `json:"version"`
	Commit     string `json:"commit,omitempty"`
	Date       string `json:"date,omitempty"`
	Go         string `json:"go"`
	Platform   string `json:"platform"`
	NATSServer string `json:"nats_server_compat"`
}

func newVersionCmd(f *cmdutil.Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print sluice's version and build information",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := versionInfo{
				Version:    version.Version,
				Commit:     version.CommitOrVCS(),
				Date:       version.Date,
				Go:         version.GoVersion(),
				Platform:   runtime.GOOS + "/" + runtime.GOARCH,
				NATSServer: version.NATSCompat,
			}
			if asJSON {
				return cmdutil.WriteJSON(f.IO.Out, v)
			}
			kv := cmdutil.NewKV("")
			kv.Add("sluice", v.Version)
			kv.AddIf("commit", v.Commit)
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
