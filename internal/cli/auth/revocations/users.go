package revocations

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

func newAddUser(f *cmdutil.Factory) *cobra.Command {
	var c common
	var name, pub, when string
	cmd := &cobra.Command{
		Use:   "add-user",
		Short: "Revoke a user: JWTs of its key issued before --at (default now) are refused",
		Example: `  sluice auth revocations add-user -a orders --name app
  sluice auth revocations add-user -a orders --user-public-key '*' --at 2026-01-01`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := c.load(f, cmd)
			if err != nil {
				return err
			}
			key, err := l.userKey(name, pub)
			if err != nil {
				return err
			}
			t, err := at(when)
			if err != nil {
				return err
			}
			l.ac.RevokeAt(key, t)
			if err := l.save(&c); err != nil {
				return err
			}
			fmt.Fprintf(f.IO.ErrOut, "Revoked user %s in account %q before %s\n", key, l.acc, t.UTC().Format("2006-01-02 15:04:05 UTC"))
			return nil
		},
	}
	cmd.Flags().StringVarP(&name, "name", "n", "", "user name")
	cmd.Flags().StringVarP(&pub, "user-public-key", "u", "", "user public key, or * for every user")
	cmd.Flags().StringVar(&when, "at", "", "revoke JWTs issued before this time (default now)")
	c.add(cmd)
	return cmd
}

func newDeleteUser(f *cmdutil.Factory) *cobra.Command {
	var c common
	var name, pub string
	cmd := &cobra.Command{
		Use:   "delete-user",
		Short: "Undo a user's revocation",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := c.load(f, cmd)
			if err != nil {
				return err
			}
			key, err := l.userKey(name, pub)
			if err != nil {
				return err
			}
			if _, ok := l.ac.Revocations[key]; !ok {
				return cmdutil.NotFound("revocation of user", key, "list them with 'sluice auth revocations list-users'")
			}
			l.ac.ClearRevocation(key)
			if err := l.save(&c); err != nil {
				return err
			}
			fmt.Fprintf(f.IO.ErrOut, "Cleared the revocation of user %s in account %q\n", key, l.acc)
			return nil
		},
	}
	cmd.Flags().StringVarP(&name, "name", "n", "", "user name")
	cmd.Flags().StringVarP(&pub, "user-public-key", "u", "", "user public key, or *")
	c.add(cmd)
	return cmd
}

func newListUsers(f *cmdutil.Factory) *cobra.Command {
	var c common
	cmd := &cobra.Command{
		Use:   "list-users",
		Short: "List an account's revoked users",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := c.load(f, cmd)
			if err != nil {
				return err
			}
			names := map[string]string{}
			users, _ := l.op.Users(l.acc)
			for _, u := range users {
				if uc, _, err := l.op.User(l.acc, u); err == nil {
					names[uc.Subject] = u
				}
			}
			return writeList(f, c.json, "Revoked users of "+l.acc, l.ac.Revocations, names)
		},
	}
	c.add(cmd)
	cmdutil.AddJSONFlag(cmd, &c.json)
	return cmd
}
