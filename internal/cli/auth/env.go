package authcmd

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/keystore"
)

type envReport struct {
	ConfigDir   string `json:"config_dir"`
	ConfigFrom  string `json:"config_dir_from"`
	DataDir     string `json:"data_dir"`
	DataFrom    string `json:"data_dir_from"`
	KeysDir     string `json:"keystore_dir"`
	KeysFrom    string `json:"keystore_dir_from"`
	Operator    string `json:"operator"`
	Account     string `json:"account"`
	NSCHome     string `json:"nsc_home,omitempty"`
	NKeysPath   string `json:"nkeys_path,omitempty"`
	NeedMigrate bool   `json:"keys_need_migration,omitempty"`
}

// NewCmdEnv builds `auth env`.
func NewCmdEnv(f *cmdutil.Factory) *cobra.Command {
	var asJSON bool
	var operator, account string
	cmd := &cobra.Command{
		Use:   "env",
		Short: "Show the store's directories and the current operator and account",
		Long: `Show where the store is and which operator and account commands use when
not told; --operator and --account change them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := authutil.Open(f, cmd)
			if err != nil {
				return err
			}
			if operator != "" || account != "" {
				op, _, err := st.Operator(operator)
				if err != nil {
					return err
				}
				if op.Name != st.Env.Config.Operator {
					st.Env.Config.Account = ""
				}
				st.Env.Config.Operator = op.Name
				if account != "" {
					if _, _, err := st.Account(op, account); err != nil {
						return err
					}
					st.Env.Config.Account = account
				}
				if err := st.Env.SaveConfig(); err != nil {
					return err
				}
			}
			d := st.Env.Dirs
			r := envReport{ConfigDir: d.Config, ConfigFrom: st.Where.Config, DataDir: d.Data, DataFrom: st.Where.Data,
				KeysDir: d.Keys, KeysFrom: st.Where.Keys, Operator: st.Env.Config.Operator, Account: st.Env.Config.Account,
				NSCHome: os.Getenv(keystore.EnvHome), NKeysPath: os.Getenv(keystore.EnvNKeys)}
			r.NeedMigrate, _ = st.Env.Keys.NeedsMigration()
			if asJSON {
				return cmdutil.WriteJSON(f.IO.Out, r)
			}
			kv := cmdutil.NewKV("sluice auth environment")
			kv.Add("Config directory", fmt.Sprintf("%s (%s)", r.ConfigDir, r.ConfigFrom))
			kv.Add("Stores directory", fmt.Sprintf("%s (%s)", r.DataDir, r.DataFrom))
			kv.Add("Keys directory", fmt.Sprintf("%s (%s)", r.KeysDir, r.KeysFrom))
			kv.Add("$NSC_HOME", orUnset(r.NSCHome))
			kv.Add("$NKEYS_PATH", orUnset(r.NKeysPath))
			kv.Add("Current operator", orUnset(r.Operator))
			kv.Add("Current account", orUnset(r.Account))
			if r.NeedMigrate {
				kv.Add("Keys", "old layout: run 'sluice auth keys migrate'")
			}
			kv.Write(f.IO.Out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&operator, "operator", "o", "", "make this the current operator")
	cmd.Flags().StringVarP(&account, "account", "a", "", "make this the current account")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

func orUnset(s string) string {
	if s == "" {
		return "(not set)"
	}
	return s
}
