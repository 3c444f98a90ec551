package authcmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// NewCmdSelect builds `auth select operator|account NAME`.
func NewCmdSelect(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "select",
		Short: "Set the current operator or account (in nsc.json)",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "operator NAME",
		Short: "Make NAME the current operator",
		Args:  cmdutil.RangeArgs(0, 1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := authutil.Open(f, cmd)
			if err != nil {
				return err
			}
			name := ""
			if len(args) == 1 {
				name = args[0]
			} else {
				st.Env.Config.Operator = ""
			}
			op, _, err := st.Operator(name)
			if err != nil {
				return err
			}
			if op.Name != st.Env.Config.Operator {
				st.Env.Config.Operator, st.Env.Config.Account = op.Name, ""
				if accs, _ := op.Accounts(); len(accs) == 1 {
					st.Env.Config.Account = accs[0]
				}
			}
			if err := st.Env.SaveConfig(); err != nil {
				return err
			}
			fmt.Fprintf(f.IO.ErrOut, "Current operator: %s\n", op.Name)
			return nil
		},
	}, &cobra.Command{
		Use:   "account NAME",
		Short: "Make NAME the current account of the current operator",
		Args:  cmdutil.RangeArgs(0, 1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := authutil.Open(f, cmd)
			if err != nil {
				return err
			}
			op, _, err := st.Operator("")
			if err != nil {
				return err
			}
			name := ""
			if len(args) == 1 {
				name = args[0]
			} else {
				st.Env.Config.Account = ""
			}
			acc, _, err := st.Account(op, name)
			if err != nil {
				return err
			}
			st.Env.Config.Operator, st.Env.Config.Account = op.Name, acc
			if err := st.Env.SaveConfig(); err != nil {
				return err
			}
			fmt.Fprintf(f.IO.ErrOut, "Current account: %s (operator %s)\n", acc, op.Name)
			return nil
		},
	})
	return cmd
}
