package authcmd

import (
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/add"
	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/auth/delete"
	"github.com/sluicehq/sluice/internal/cli/auth/describe"
	"github.com/sluicehq/sluice/internal/cli/auth/edit"
	"github.com/sluicehq/sluice/internal/cli/auth/generate"
	"github.com/sluicehq/sluice/internal/cli/auth/list"
	"github.com/sluicehq/sluice/internal/cli/auth/revocations"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

const authLong = `Manage operators, accounts, users, keys and JWTs: what nsc does.

The store is nsc's, so 'nsc' and 'sluice auth' work on the same data:
  nsc.json   the current operator and account, in $NSC_HOME
             (default ~/.config/nats/nsc)
  stores     one directory per operator with its JWT, accounts/<name>/<name>.jwt
             and accounts/<name>/users/<user>.jwt
             (default ~/.local/share/nats/nsc/stores)
  keys       seeds as keys/<K>/<XX>/<public key>.nk and creds files as
             creds/<operator>/<account>/<user>.creds, in $NKEYS_PATH
             (default ~/.local/share/nats/nsc/keys)

Seeds and creds files are written 0600 and directories 0700. Seeds are
never printed unless --show-seeds asks for them.`

// New returns the `auth` command and its verbs.
func New(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth",
		Short: "Manage operators, accounts, users and their keys (nsc)",
		Long:  authLong,
	}
	authutil.AddDirFlags(cmd)
	cmd.AddCommand(
		NewCmdInit(f),
		NewCmdEnv(f),
		NewCmdSelect(f),
		add.New(f),
		edit.New(f),
		delete.New(f),
		describe.New(f),
		list.New(f),
		generate.New(f),
		revocations.New(f),
		NewCmdValidate(f),
		NewCmdExpirations(f),
		NewCmdReissue(f),
		NewCmdKeys(f),
		NewCmdPush(f),
		NewCmdPull(f),
	)
	addCompletions(f, cmd)
	return cmd
}
