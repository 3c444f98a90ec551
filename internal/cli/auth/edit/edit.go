// Package edit is `sluice auth edit`: change an operator, account, user,
// signing key, export, import or an account's authorization (callout).
// Only the flags given change anything; the JWT is re-signed and written
// in place of the old one.
package edit

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// New returns `auth edit` and its objects.
func New(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "edit",
		Short: "Change an operator, account, user, signing key, export, import or authorization",
	}
	cmd.AddCommand(newOperator(f), newAccount(f), newUser(f), newSigningKey(f), newExport(f), newImport(f), newAuthorization(f))
	return cmd
}

// common are the flags that pick the operator and account and the key
// to sign with.
type common struct {
	operator, account, privKey string
	json                       bool
}

func (c *common) add(cmd *cobra.Command, withAccount bool) {
	fl := cmd.Flags()
	fl.StringVarP(&c.operator, "operator", "o", "", "operator (default: the current one)")
	if withAccount {
		fl.StringVarP(&c.account, "account", "a", "", "account (default: the current one)")
	}
	fl.StringVarP(&c.privKey, "private-key", "K", "", "key to sign with (public key, seed or file)")
	cmdutil.AddJSONFlag(cmd, &c.json)
}

// done reports the edit: the new claims as JSON, or a line on stderr.
func done(f *cmdutil.Factory, asJSON bool, what, token string) error {
	if asJSON {
		m, err := authutil.Payload(token)
		if err != nil {
			return err
		}
		return cmdutil.WriteJSON(f.IO.Out, m)
	}
	fmt.Fprintf(f.IO.ErrOut, "Edited %s\n", what)
	return nil
}

// nothingChanged fails an edit that was given no change.
func nothingChanged(cmd *cobra.Command, ignore ...string) error {
	skip := map[string]bool{"operator": true, "account": true, "private-key": true, "json": true, "name": true}
	for _, n := range ignore {
		skip[n] = true
	}
	changed := false
	cmd.Flags().Visit(func(fl *pflagFlag) {
		if !skip[fl.Name] {
			changed = true
		}
	})
	if !changed {
		return cmdutil.FlagErrorf("nothing to change: give at least one flag; see '%s --help'", cmd.CommandPath())
	}
	return nil
}
