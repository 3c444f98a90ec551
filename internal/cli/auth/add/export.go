package add

import (
	"github.com/nats-io/jwt/v2"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

type exportOptions struct {
	operator, account, privKey string
	ex                         authutil.ExportFlags
	json                       bool
}

func newExport(f *cmdutil.Factory) *cobra.Command {
	o := &exportOptions{}
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export a stream or service from an account",
		Example: `  sluice auth add export -a orders --subject 'orders.events.>'
  sluice auth add export -a orders --subject 'orders.api' --service --response-type Stream --latency orders.lat --sampling 50
  sluice auth add export -a orders --subject 'orders.private.*' --private --account-token-position 3`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := authutil.Open(f, cmd)
			if err != nil {
				return err
			}
			if err := f.RequireInput(&o.ex.Subject, "--subject", "Subject to export:"); err != nil {
				return err
			}
			cmd.Flags().Set("subject", o.ex.Subject)
			op, oc, err := st.Operator(o.operator)
			if err != nil {
				return err
			}
			acc, ac, err := st.Account(op, o.account)
			if err != nil {
				return err
			}
			ex := &jwt.Export{Type: jwt.Stream}
			if err := o.ex.Apply(cmd, ex); err != nil {
				return err
			}
			for _, e := range ac.Exports {
				if e.Subject == ex.Subject {
					return cmdutil.FlagErrorf("account %q already exports %q", acc, ex.Subject)
				}
			}
			ac.Exports.Add(ex)
			if _, _, err := st.SaveAccount(op, oc, ac, o.privKey); err != nil {
				return err
			}
			return report(f, o.json, authutil.Created{Kind: ex.Type.String() + " export", Name: ex.Name, PublicKey: ac.Subject})
		},
	}
	cmd.Flags().StringVarP(&o.account, "account", "a", "", "account (default: the current one)")
	cmd.Flags().StringVarP(&o.operator, "operator", "o", "", "operator (default: the current one)")
	cmd.Flags().StringVarP(&o.privKey, "private-key", "K", "", "operator key to sign the account with")
	o.ex.AddFlags(cmd)
	cmdutil.AddJSONFlag(cmd, &o.json)
	return cmd
}
