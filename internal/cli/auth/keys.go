package authcmd

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// NewCmdKeys builds `auth keys migrate`.
func NewCmdKeys(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage the keystore",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "migrate",
		Short: "Move a keystore of nsc's old layout to the current one",
		Long: `Move a keystore of nsc's old layout (seeds and creds beside the operators'
names) to the current one (keys/K/XX/PUB.nk, creds/OP/ACC/USER.creds).
The old directory is kept beside it with a suffix.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := authutil.Open(f, cmd)
			if err != nil {
				return err
			}
			need, err := st.Env.Keys.NeedsMigration()
			if err != nil {
				return err
			}
			if !need {
				fmt.Fprintf(f.IO.ErrOut, "The keystore %s needs no migration\n", st.Env.Keys.Dir)
				return nil
			}
			old, err := st.Env.Keys.Migrate(time.Now().UTC().Format("20060102T150405"))
			if err != nil {
				return err
			}
			fmt.Fprintf(f.IO.ErrOut, "Migrated the keystore %s; the old one is in %s\n", st.Env.Keys.Dir, old)
			return nil
		},
	})
	return cmd
}
