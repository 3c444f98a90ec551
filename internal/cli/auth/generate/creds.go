package generate

import (
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

func newCreds(f *cmdutil.Factory) *cobra.Command {
	var operator, account, name, out string
	cmd := &cobra.Command{
		Use:   "creds",
		Short: "Print or write a user's creds file (JWT and seed) for clients",
		Example: `  sluice auth generate creds --account orders --name app -o app.creds
  nats --creds app.creds pub orders.new hi`,
		Args: cobra.NoArgs,
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
			user, uc, err := st.User(op, acc, name)
			if err != nil {
				return err
			}
			_, tok, _ := op.User(acc, user)
			kp, err := st.Env.Keys.Get(uc.Subject)
			if err != nil {
				return authutil.Err(err)
			}
			creds, err := authutil.Creds(tok, kp)
			if err != nil {
				return err
			}
			return output(f, out, creds, "creds")
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&name, "name", "n", "", "user name")
	fl.StringVarP(&account, "account", "a", "", "account (default: the current one)")
	fl.StringVarP(&operator, "operator", "o", "", "operator (default: the current one)")
	fl.StringVar(&out, "output-file", "", "write to this file (0600) instead of stdout")
	return cmd
}
