// Package add is `sluice auth add`: operators, accounts, users, signing
// keys, exports, imports and mappings.
package add

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// New returns `auth add` and its objects.
func New(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "add",
		Short: "Add an operator, account, user, signing key, export, import or mapping",
	}
	cmd.AddCommand(newOperator(f), newAccount(f), newUser(f), newSigningKey(f), newExport(f), newImport(f), newMapping(f))
	return cmd
}

// report prints what was made: JSON, or a line each on stderr.
func report(f *cmdutil.Factory, asJSON bool, made ...authutil.Created) error {
	if asJSON {
		if len(made) == 1 {
			return cmdutil.WriteJSON(f.IO.Out, made[0])
		}
		return cmdutil.WriteJSON(f.IO.Out, made)
	}
	for _, m := range made {
		fmt.Fprintf(f.IO.ErrOut, "Added %s %q (%s)\n", m.Kind, m.Name, m.PublicKey)
		if m.Creds != "" {
			fmt.Fprintf(f.IO.ErrOut, "Creds: %s\n", m.Creds)
		}
	}
	return nil
}

// nameArg takes NAME from the argument or --name, else asks.
func nameArg(f *cmdutil.Factory, args []string, name *string, kind string) error {
	if len(args) == 1 {
		if *name != "" && *name != args[0] {
			return cmdutil.FlagErrorf("the %s is named twice: %q and --name %q", kind, args[0], *name)
		}
		*name = args[0]
	}
	if err := f.RequireInput(name, "--name", strings.ToUpper(kind[:1])+kind[1:]+" name:"); err != nil {
		return err
	}
	return authutil.ValidName(kind, *name)
}
