package add

import (
	"github.com/nats-io/jwt/v2"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

func newMapping(f *cmdutil.Factory) *cobra.Command {
	var operator, account, privKey, from, to, cluster string
	var weight uint8
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "mapping",
		Short: "Map a subject of an account to another, optionally weighted",
		Example: `  sluice auth add mapping -a orders --from orders.in --to orders.v2.in
  sluice auth add mapping -a orders --from svc --to svc.canary --weight 10
  sluice auth add mapping -a orders --from svc --to svc.stable --weight 90`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" || to == "" {
				return cmdutil.FlagErrorf("--from and --to are required")
			}
			if weight == 0 || weight > 100 {
				return cmdutil.FlagErrorf("--weight %d: want 1-100", weight)
			}
			st, err := authutil.Open(f, cmd)
			if err != nil {
				return err
			}
			op, oc, err := st.Operator(operator)
			if err != nil {
				return err
			}
			acc, ac, err := st.Account(op, account)
			if err != nil {
				return err
			}
			if ac.Mappings == nil {
				ac.Mappings = jwt.Mapping{}
			}
			list := ac.Mappings[jwt.Subject(from)]
			for i := range list {
				if string(list[i].Subject) == to && list[i].Cluster == cluster {
					list = append(list[:i], list[i+1:]...)
					break
				}
			}
			list = append(list, jwt.WeightedMapping{Subject: jwt.Subject(to), Weight: weight, Cluster: cluster})
			ac.Mappings[jwt.Subject(from)] = list
			if _, _, err := st.SaveAccount(op, oc, ac, privKey); err != nil {
				return err
			}
			return report(f, asJSON, authutil.Created{Kind: "mapping", Name: from + " -> " + to, PublicKey: ac.Subject + " (" + acc + ")"})
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&account, "account", "a", "", "account (default: the current one)")
	fl.StringVarP(&operator, "operator", "o", "", "operator (default: the current one)")
	fl.StringVarP(&privKey, "private-key", "K", "", "operator key to sign the account with")
	fl.StringVarP(&from, "from", "f", "", "subject mapped")
	fl.StringVarP(&to, "to", "t", "", "subject it maps to")
	fl.Uint8Var(&weight, "weight", 100, "share of messages, 1-100")
	fl.StringVar(&cluster, "cluster", "", "only in this cluster")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}
