package edit

import (
	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

func newAuthorization(f *cmdutil.Factory) *cobra.Command {
	var c common
	var users, rmUsers, accounts, rmAccounts []string
	var curve string
	var rmCurve, disable bool
	cmd := &cobra.Command{
		Use:     "authorization",
		Aliases: []string{"authcallout"},
		Short:   "Make an account an auth callout service: its users, allowed accounts, encryption key",
		Example: `  sluice auth edit authorization -a AUTH --auth-user UD... --allowed-account '*'
  sluice auth edit authorization -a AUTH --curve generate
  sluice auth edit authorization -a AUTH --disable`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := nothingChanged(cmd); err != nil {
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
			a := &ac.Authorization
			if disable {
				a.AuthUsers, a.AllowedAccounts, a.XKey = nil, nil, ""
			}
			for _, u := range users {
				if !nkeys.IsValidPublicUserKey(u) {
					if _, uc, err := st.User(op, acc, u); err == nil {
						u = uc.Subject
					} else {
						return cmdutil.FlagErrorf("--auth-user %q is neither a user public key nor a user of account %q", u, acc)
					}
				}
				a.AuthUsers.Add(u)
			}
			a.AuthUsers.Remove(rmUsers...)
			for _, k := range accounts {
				if k != "*" && !nkeys.IsValidPublicAccountKey(k) {
					other, _, err := op.Account(k)
					if err != nil {
						return authutil.Err(err)
					}
					k = other.Subject
				}
				a.AllowedAccounts.Add(k)
			}
			a.AllowedAccounts.Remove(rmAccounts...)
			if curve != "" {
				if curve == "generate" {
					kp, _ := nkeys.CreateCurveKeys()
					if _, err := st.Env.Keys.Store(kp); err != nil {
						return err
					}
					curve, _ = kp.PublicKey()
				} else if curve, err = authutil.PublicKey(curve, nkeys.PrefixByteCurve, "--curve"); err != nil {
					return err
				}
				a.XKey = curve
			}
			if rmCurve {
				a.XKey = ""
			}
			tok, _, err := st.SaveAccount(op, oc, ac, c.privKey)
			if err != nil {
				return err
			}
			return done(f, c.json, "authorization of account "+acc, tok)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&users, "auth-user", nil, "add users (public keys or names) that run the callout service")
	fl.StringSliceVar(&rmUsers, "rm-auth-user", nil, "remove callout users")
	fl.StringSliceVar(&accounts, "allowed-account", nil, "add accounts (names, keys or *) the callout may place users in")
	fl.StringSliceVar(&rmAccounts, "rm-allowed-account", nil, "remove allowed accounts")
	fl.StringVar(&curve, "curve", "", "encrypt callout requests to this curve key, or \"generate\"")
	fl.BoolVar(&rmCurve, "rm-curve", false, "stop encrypting callout requests")
	fl.BoolVar(&disable, "disable", false, "remove the callout configuration")
	c.add(cmd, true)
	return cmd
}
