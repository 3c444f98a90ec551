package delete

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

func newAccount(f *cmdutil.Factory) *cobra.Command {
	var c common
	var name string
	var rmKeys, rmCreds bool
	cmd := &cobra.Command{
		Use:   "account [NAME]",
		Short: "Delete an account and its users from the store",
		Long: `Delete an account and its users from the store. Servers that already have
the account's JWT keep it: remove it there with 'sluice auth push --prune'
or by the resolver's delete.`,
		Args: cmdutil.RangeArgs(0, 1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				name = args[0]
			}
			if err := c.needName(f, &name, "account"); err != nil {
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
			ac, _, err := op.Account(name)
			if err != nil {
				return authutil.Err(err)
			}
			if ac.Subject == oc.SystemAccount {
				return cmdutil.FlagErrorf("account %q is the operator's system account; set another with 'sluice auth edit operator --system-account' first", name)
			}
			users, _ := op.Users(name)
			if err := f.ConfirmDestructive(c.force, fmt.Sprintf("Delete account %q and its %d users?", name, len(users))); err != nil {
				return err
			}
			var pubs []string
			for _, u := range users {
				if uc, _, err := op.User(name, u); err == nil {
					pubs = append(pubs, uc.Subject)
				}
				if rmCreds {
					st.Env.Keys.RemoveCreds(op.Name, name, u)
				}
			}
			if err := op.DeleteAccount(name); err != nil {
				return err
			}
			if rmKeys {
				for _, k := range append(append(pubs, ac.Subject), ac.SigningKeys.Keys()...) {
					if err := st.Env.Keys.Remove(k); err != nil {
						return err
					}
				}
			}
			if st.Env.Config.Operator == op.Name && st.Env.Config.Account == name {
				st.Env.Config.Account = ""
				st.Env.SaveConfig()
			}
			return deleted(f, fmt.Sprintf("account %q (%s)", name, ac.Subject))
		},
	}
	cmd.Flags().StringVarP(&name, "name", "n", "", "account name")
	cmd.Flags().BoolVarP(&rmKeys, "rm-nkey", "D", false, "also delete the seeds of the account, its signing keys and users")
	cmd.Flags().BoolVarP(&rmCreds, "rm-creds", "C", false, "also delete the users' creds files")
	c.add(cmd, false)
	return cmd
}

// needName asks for a missing name on a terminal or fails naming --name.
func (c *common) needName(f *cmdutil.Factory, name *string, kind string) error {
	if err := f.RequireInput(name, "--name", kind+" to delete:"); err != nil {
		return err
	}
	return authutil.ValidName(kind, *name)
}
