package edit

import (
	"github.com/nats-io/jwt/v2"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

func newSigningKey(f *cmdutil.Factory) *cobra.Command {
	var c common
	var sk, role, description string
	var unscope bool
	var perms authutil.UserFlags
	cmd := &cobra.Command{
		Use:   "signing-key",
		Short: "Scope an account signing key with a role, or change its role's permissions",
		Long: `Scope an account's signing key: users it signs get the role's permissions
and limits. Subjects may hold templates filled in when a user connects:
{{name()}}, {{subject()}}, {{account-name()}}, {{account-subject()}},
{{tag(NAME)}}, {{account-tag(NAME)}}.`,
		Example: `  sluice auth edit signing-key -a orders --sk AB... --role app --allow-pub 'orders.{{name()}}.>'
  sluice auth edit signing-key -a orders --sk AB... --allow-sub '{{account-name()}}.{{tag(team)}}.>'
  sluice auth edit signing-key -a orders --sk AB... --unscope`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if sk == "" {
				return cmdutil.FlagErrorf("--sk is required: the signing key to edit")
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
			if !ac.SigningKeys.Contains(sk) {
				return cmdutil.NotFound("signing key", sk, "list the account's keys with 'sluice auth list keys -a "+acc+"'")
			}
			if unscope {
				ac.SigningKeys.Add(sk)
			} else {
				scope, _ := ac.SigningKeys.GetScope(sk)
				us, ok := scope.(*jwt.UserScope)
				if !ok || us == nil {
					us = jwt.NewUserScope()
					us.Key = sk
				}
				if cmd.Flags().Changed("role") {
					us.Role = role
				}
				if cmd.Flags().Changed("description") {
					us.Description = description
				}
				if us.Role == "" {
					return cmdutil.FlagErrorf("--role is required to scope signing key %s", sk)
				}
				if err := perms.Apply(cmd, &us.Template); err != nil {
					return err
				}
				ac.SigningKeys.AddScopedSigner(us)
			}
			tok, _, err := st.SaveAccount(op, oc, ac, c.privKey)
			if err != nil {
				return err
			}
			return done(f, c.json, "signing key "+sk+" of account "+acc, tok)
		},
	}
	cmd.Flags().StringVar(&sk, "sk", "", "the account signing key (public key)")
	cmd.Flags().StringVar(&role, "role", "", "role name")
	cmd.Flags().StringVar(&description, "description", "", "role description")
	cmd.Flags().BoolVar(&unscope, "unscope", false, "remove the scope: the key signs users with their own permissions")
	perms.Add(cmd)
	c.add(cmd, true)
	return cmd
}
