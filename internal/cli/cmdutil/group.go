package cmdutil

import "github.com/spf13/cobra"

// MakeGroup turns cmd into a command that only groups verbs: without
// arguments it shows its help, and an unknown verb is a usage error
// (cobra would print the help and succeed).
func MakeGroup(cmd *cobra.Command) *cobra.Command {
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		return FlagErrorf("unknown command %q for %q; see '%s --help'", args[0], cmd.CommandPath(), cmd.CommandPath())
	}
	return cmd
}
