// Package delete is `sluice auth delete`: accounts, users, exports,
// imports and mappings. It asks for confirmation on a terminal; elsewhere
// --force is required.
package delete

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// New returns `auth delete` and its objects.
func New(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "delete",
		Aliases: []string{"rm"},
		Short:   "Delete an account, user, export, import or mapping",
	}
	cmd.AddCommand(newAccount(f), newUser(f), newExport(f), newImport(f), newMapping(f))
	return cmd
}

type common struct {
	operator, account, privKey string
	force                      bool
}

func (c *common) add(cmd *cobra.Command, withAccount bool) {
	fl := cmd.Flags()
	fl.StringVarP(&c.operator, "operator", "o", "", "operator (default: the current one)")
	if withAccount {
		fl.StringVarP(&c.account, "account", "a", "", "account (default: the current one)")
	}
	fl.StringVarP(&c.privKey, "private-key", "K", "", "key to sign the changed JWT with")
	fl.BoolVarP(&c.force, "force", "F", false, "delete without asking")
}

func deleted(f *cmdutil.Factory, what string) error {
	fmt.Fprintf(f.IO.ErrOut, "Deleted %s\n", what)
	return nil
}
