package authcmd

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// addCompletions completes --operator and --account values with the
// store's names on every command that has them.
func addCompletions(f *cmdutil.Factory, cmd *cobra.Command) {
	if fl := cmd.Flags().Lookup("operator"); fl != nil && fl.Value.Type() == "string" {
		cmd.RegisterFlagCompletionFunc("operator", func(c *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
			st, err := authutil.Open(f, c)
			if err != nil {
				return nil, cobra.ShellCompDirectiveError
			}
			ops, _ := st.Env.Operators()
			return withPrefix(ops, prefix), cobra.ShellCompDirectiveNoFileComp
		})
	}
	if fl := cmd.Flags().Lookup("account"); fl != nil && fl.Value.Type() == "string" {
		cmd.RegisterFlagCompletionFunc("account", func(c *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
			st, err := authutil.Open(f, c)
			if err != nil {
				return nil, cobra.ShellCompDirectiveError
			}
			name := st.Env.Config.Operator
			if fl := c.Flags().Lookup("operator"); fl != nil && fl.Value.Type() == "string" && fl.Value.String() != "" {
				name = fl.Value.String()
			}
			op, err := st.Env.Operator(name)
			if err != nil {
				return nil, cobra.ShellCompDirectiveError
			}
			accs, _ := op.Accounts()
			return withPrefix(accs, prefix), cobra.ShellCompDirectiveNoFileComp
		})
	}
	for _, c := range cmd.Commands() {
		addCompletions(f, c)
	}
}

func withPrefix(names []string, prefix string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}
