package list

import (
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

func newOperators(f *cmdutil.Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "operators",
		Short: "List the operators (* marks the current one)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := authutil.Open(f, cmd)
			if err != nil {
				return err
			}
			names, err := st.Env.Operators()
			if err != nil {
				return err
			}
			var items []entity
			for _, n := range names {
				e := entity{Name: n, Current: n == st.Env.Config.Operator}
				if op, err := st.Env.Operator(n); err != nil {
					e.Error = err.Error()
				} else if oc, _, err := op.Claims(); err != nil {
					e.Error = err.Error()
				} else {
					e.PublicKey = oc.Subject
				}
				items = append(items, e)
			}
			return write(f, "Operators", asJSON, items)
		},
	}
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

func newAccounts(f *cmdutil.Factory) *cobra.Command {
	var asJSON bool
	var operator string
	cmd := &cobra.Command{
		Use:   "accounts",
		Short: "List the accounts of an operator (* marks the current one)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := authutil.Open(f, cmd)
			if err != nil {
				return err
			}
			op, _, err := st.Operator(operator)
			if err != nil {
				return err
			}
			names, err := op.Accounts()
			if err != nil {
				return err
			}
			var items []entity
			for _, n := range names {
				e := entity{Name: n, Current: op.Name == st.Env.Config.Operator && n == st.Env.Config.Account}
				if ac, _, err := op.Account(n); err != nil {
					e.Error = err.Error()
				} else {
					e.PublicKey = ac.Subject
				}
				items = append(items, e)
			}
			return write(f, "Accounts of "+op.Name, asJSON, items)
		},
	}
	cmd.Flags().StringVarP(&operator, "operator", "o", "", "operator (default: the current one)")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

func newUsers(f *cmdutil.Factory) *cobra.Command {
	var asJSON bool
	var operator, account string
	cmd := &cobra.Command{
		Use:   "users",
		Short: "List the users of an account",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := authutil.Open(f, cmd)
			if err != nil {
				return err
			}
			op, _, err := st.Operator(operator)
			if err != nil {
				return err
			}
			acc, _, err := st.Account(op, account)
			if err != nil {
				return err
			}
			names, err := op.Users(acc)
			if err != nil {
				return err
			}
			var items []entity
			for _, n := range names {
				e := entity{Name: n}
				if uc, _, err := op.User(acc, n); err != nil {
					e.Error = err.Error()
				} else {
					e.PublicKey = uc.Subject
				}
				items = append(items, e)
			}
			return write(f, "Users of "+acc, asJSON, items)
		},
	}
	cmd.Flags().StringVarP(&operator, "operator", "o", "", "operator (default: the current one)")
	cmd.Flags().StringVarP(&account, "account", "a", "", "account (default: the current one)")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}
