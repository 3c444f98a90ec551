package generate

import (
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/keystore"
)

func newConfig(f *cmdutil.Factory) *cobra.Command {
	var operator, sysAccount, out, dir string
	var mem, full, allowDelete bool
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Write an operator-mode server configuration (nats-server and sluice serve)",
		Long: `Write the operator-mode part of a server configuration: the operator JWT,
the system account and the account resolver, preloaded with the accounts'
JWTs. --mem-resolver keeps them in memory (change them by regenerating);
--nats-resolver keeps them in a directory and takes updates pushed with
'sluice auth push'. Include the file from a configuration or run it as is.`,
		Example: `  sluice auth generate config --nats-resolver --config-file server.conf
  nats-server -c server.conf
  sluice serve -c server.conf`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if allowDelete && !full {
				return cmdutil.FlagErrorf("--allow-delete is for --nats-resolver")
			}
			if mem == full {
				return cmdutil.FlagErrorf("choose one of --mem-resolver and --nats-resolver")
			}
			st, err := authutil.Open(f, cmd)
			if err != nil {
				return err
			}
			op, oc, err := st.Operator(operator)
			if err != nil {
				return err
			}
			_, otok, _ := op.Claims()
			sc := &keystore.ServerConfig{OperatorName: op.Name, OperatorJWT: otok, SystemAccount: oc.SystemAccount, Full: full, Dir: dir, AllowDelete: allowDelete}
			accs, err := op.Accounts()
			if err != nil {
				return err
			}
			for _, a := range accs {
				ac, tok, err := op.Account(a)
				if err != nil {
					return err
				}
				sc.Accounts = append(sc.Accounts, keystore.ConfigAccount{Name: a, PublicKey: ac.Subject, JWT: tok})
				if sysAccount == a || sysAccount == ac.Subject {
					sc.SystemAccount = ac.Subject
				}
			}
			if sysAccount != "" && sc.SystemAccount != sysAccount {
				if _, _, err := op.Account(sysAccount); err != nil {
					return authutil.Err(err)
				}
			}
			if sc.SystemAccount == "" {
				return cmdutil.WithHint(cmdutil.ExitUsage, errOpNoSys(op.Name),
					"set one with 'sluice auth edit operator --system-account NAME' or --sys-account")
			}
			return output(f, out, []byte(sc.Render()), "the server configuration")
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&mem, "mem-resolver", false, "accounts preloaded in memory")
	fl.BoolVar(&full, "nats-resolver", false, "accounts kept by the server in a directory, updated by push")
	fl.StringVar(&sysAccount, "sys-account", "", "system account name or key (default: the operator's)")
	fl.BoolVar(&allowDelete, "allow-delete", false, "let 'sluice auth push --prune' delete accounts from the nats resolver")
	fl.StringVar(&dir, "dir", "", "directory of the nats resolver's JWTs (default ./jwt)")
	fl.StringVar(&out, "config-file", "", "write to this file (0600) instead of stdout")
	fl.StringVarP(&operator, "operator", "o", "", "operator (default: the current one)")
	return cmd
}
