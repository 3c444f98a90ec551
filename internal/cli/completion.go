package cli

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

const completionLong = `Print a shell completion script for sluice.

Load it into the current shell, or install it where your shell looks:

  bash:        source <(sluice completion bash)
               sluice completion bash > /etc/bash_completion.d/sluice
  zsh:         sluice completion zsh > "${fpath[1]}/_sluice"
  fish:        sluice completion fish > ~/.config/fish/completions/sluice.fish
  powershell:  sluice completion powershell | Out-String | Invoke-Expression

Release archives ship the same scripts in completions/.`

func newCompletionCmd(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:                   "completion bash|zsh|fish|powershell",
		Short:                 "Print a shell completion script",
		Long:                  completionLong,
		Args:                  cmdutil.ExactArgs(1, "SHELL"),
		ValidArgs:             []string{"bash", "zsh", "fish", "powershell"},
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return WriteCompletion(cmd.Root(), args[0], f.IO.Out)
		},
	}
}

// Shells lists the shells completion scripts exist for.
var Shells = []string{"bash", "zsh", "fish", "powershell"}

// WriteCompletion writes root's completion script for shell to w. The
// generator in internal/cli/docgen uses it for completions/.
func WriteCompletion(root *cobra.Command, shell string, w io.Writer) error {
	switch shell {
	case "bash":
		return root.GenBashCompletionV2(w, true)
	case "zsh":
		return root.GenZshCompletion(w)
	case "fish":
		return root.GenFishCompletion(w, true)
	case "powershell":
		return root.GenPowerShellCompletionWithDesc(w)
	}
	return cmdutil.FlagErrorf("unknown shell %q: choose bash, zsh, fish or powershell", shell)
}
