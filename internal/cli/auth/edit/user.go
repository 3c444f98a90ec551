package edit

import (
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

func newUser(f *cmdutil.Factory) *cobra.Command {
	var c common
	var name string
	var tags, rmTags []string
	var perms authutil.UserFlags
	var dates authutil.DateFlags
	cmd := &cobra.Command{
		Use:   "user [NAME]",
		Short: "Change a user's permissions, limits, tags or dates, and rewrite its creds",
		Example: `  sluice auth edit user app --allow-pub 'orders.>' --rm 'orders.secret'
  sluice auth edit user app --subs 100 --payload 64K --data 1GB --conn-type STANDARD,WEBSOCKET
  sluice auth edit user app --expiry 0 --rm-response-perms`,
		Args: cmdutil.RangeArgs(0, 1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				name = args[0]
			}
			if err := nothingChanged(cmd); err != nil {
				return err
			}
			st, err := authutil.Open(f, cmd)
			if err != nil {
				return err
			}
			op, oc, err := st.Operator(c.operator)
			if err != nil {
				return err
			}
			acc, ac, err := st.Account(op, c.account)
			if err != nil {
				return err
			}
			user, uc, err := st.User(op, acc, name)
			if err != nil {
				return err
			}
			if scope, _ := ac.SigningKeys.GetScope(uc.Issuer); scope != nil && authutil.UserFlagsGiven(cmd) {
				return cmdutil.FlagErrorf("user %q is signed by scoped signing key %s: its role sets the permissions; edit the role with 'sluice auth edit signing-key'", user, uc.Issuer)
			}
			if err := perms.Apply(cmd, &uc.UserPermissionLimits); err != nil {
				return err
			}
			uc.Tags.Add(tags...)
			uc.Tags.Remove(rmTags...)
			if err := dates.Apply(cmd, &uc.ClaimsData); err != nil {
				return err
			}
			tok, err := st.SaveUser(op, oc.StrictSigningKeyUsage, acc, ac, uc, c.privKey)
			if err != nil {
				return err
			}
			if kp, err := st.Env.Keys.Get(uc.Subject); err == nil {
				creds, err := authutil.Creds(tok, kp)
				if err != nil {
					return err
				}
				if _, err := st.Env.Keys.WriteCreds(op.Name, acc, user, creds); err != nil {
					return err
				}
			}
			return done(f, c.json, "user "+user, tok)
		},
	}
	cmd.Flags().StringVarP(&name, "name", "n", "", "user name")
	cmd.Flags().StringSliceVar(&tags, "tag", nil, "add tags")
	cmd.Flags().StringSliceVar(&rmTags, "rm-tag", nil, "remove tags")
	perms.Add(cmd)
	dates.Add(cmd, "the user JWT")
	c.add(cmd, true)
	return cmd
}
