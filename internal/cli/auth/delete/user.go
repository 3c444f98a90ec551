package delete

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

func newUser(f *cmdutil.Factory) *cobra.Command {
	var c common
	var name string
	var rmKeys, rmCreds, revoke bool
	cmd := &cobra.Command{
		Use:   "user [NAME]",
		Short: "Delete a user; --revoke also revokes its key in the account",
		Args:  cmdutil.RangeArgs(0, 1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				name = args[0]
			}
			if err := c.needName(f, &name, "user"); err != nil {
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
			uc, _, err := op.User(acc, name)
			if err != nil {
				return authutil.Err(err)
			}
			if err := f.ConfirmDestructive(c.force, fmt.Sprintf("Delete user %q of account %q?", name, acc)); err != nil {
				return err
			}
			if revoke {
				ac.RevokeAt(uc.Subject, time.Now())
				if _, _, err := st.SaveAccount(op, oc, ac, c.privKey); err != nil {
					return err
				}
			}
			if err := op.DeleteUser(acc, name); err != nil {
				return err
			}
			if rmCreds {
				st.Env.Keys.RemoveCreds(op.Name, acc, name)
			}
			if rmKeys {
				if err := st.Env.Keys.Remove(uc.Subject); err != nil {
					return err
				}
			}
			return deleted(f, fmt.Sprintf("user %q (%s) of account %q", name, uc.Subject, acc))
		},
	}
	cmd.Flags().StringVarP(&name, "name", "n", "", "user name")
	cmd.Flags().BoolVarP(&revoke, "revoke", "R", false, "revoke the user's key in the account (push the account afterwards)")
	cmd.Flags().BoolVarP(&rmKeys, "rm-nkey", "D", false, "also delete the user's seed")
	cmd.Flags().BoolVarP(&rmCreds, "rm-creds", "C", false, "also delete the user's creds file")
	c.add(cmd, true)
	return cmd
}
