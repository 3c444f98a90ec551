package generate

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/natscontext"
)

func newContext(f *cmdutil.Factory) *cobra.Command {
	var operator, account, name, ctxName string
	var sel bool
	cmd := &cobra.Command{
		Use:   "context",
		Short: "Save a connection context (natscli's) for a user: its creds and the operator's service URLs",
		Example: `  sluice auth generate context -a orders -n app --context-name orders-app --select
  sluice pub orders.new hi`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := authutil.Open(f, cmd)
			if err != nil {
				return err
			}
			op, oc, err := st.Operator(operator)
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
			creds := st.Env.Keys.CredsPath(op.Name, acc, user)
			if _, err := os.Stat(creds); err != nil {
				_, tok, _ := op.User(acc, user)
				kp, err := st.Env.Keys.Get(uc.Subject)
				if err != nil {
					return authutil.Err(err)
				}
				data, err := authutil.Creds(tok, kp)
				if err != nil {
					return err
				}
				if creds, err = st.Env.Keys.WriteCreds(op.Name, acc, user, data); err != nil {
					return err
				}
			}
			if ctxName == "" {
				ctxName = op.Name + "_" + acc + "_" + user
			}
			if err := natscontext.ValidateName(ctxName); err != nil {
				return &cmdutil.UsageError{Err: err}
			}
			store, err := f.Contexts()
			if err != nil {
				return err
			}
			url := strings.Join(oc.OperatorServiceURLs, ",")
			if url == "" {
				url = natscontext.DefaultURL
			}
			c := &natscontext.Context{Name: ctxName, URL: url, Creds: creds,
				Description: fmt.Sprintf("user %s of account %s, operator %s", user, acc, op.Name)}
			if err := store.Save(c); err != nil {
				return err
			}
			fmt.Fprintf(f.IO.ErrOut, "Saved context %q (%s) with creds %s\n", ctxName, url, creds)
			if sel {
				if err := store.Select(ctxName); err != nil {
					return err
				}
				fmt.Fprintf(f.IO.ErrOut, "Selected context %q\n", ctxName)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&name, "name", "n", "", "user name")
	fl.StringVarP(&account, "account", "a", "", "account (default: the current one)")
	fl.StringVarP(&operator, "operator", "o", "", "operator (default: the current one)")
	fl.StringVar(&ctxName, "context-name", "", "context name (default OPERATOR_ACCOUNT_USER)")
	fl.BoolVar(&sel, "select", false, "select the context")
	return cmd
}
