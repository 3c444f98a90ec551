package edit

import (
	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

func newOperator(f *cmdutil.Factory) *cobra.Command {
	var c common
	var name, asu, sysAcc string
	var urls, rmURLs, sks, rmSKs, tags, rmTags []string
	var reqSK, rmASU bool
	var dates authutil.DateFlags
	cmd := &cobra.Command{
		Use:   "operator",
		Short: "Change the operator: service URLs, system account, signing keys, tags, dates",
		Example: `  sluice auth edit operator --service-url nats://n1:4222 --account-jwt-server-url nats://n1:4222
  sluice auth edit operator --system-account SYS --require-signing-keys --sk generate`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := nothingChanged(cmd); err != nil {
				return err
			}
			st, err := authutil.Open(f, cmd)
			if err != nil {
				return err
			}
			if name != "" {
				c.operator = name
			}
			op, oc, err := st.Operator(c.operator)
			if err != nil {
				return err
			}
			oc.OperatorServiceURLs.Add(urls...)
			oc.OperatorServiceURLs.Remove(rmURLs...)
			if cmd.Flags().Changed("account-jwt-server-url") {
				oc.AccountServerURL = asu
			}
			if rmASU {
				oc.AccountServerURL = ""
			}
			if cmd.Flags().Changed("system-account") {
				if nkeys.IsValidPublicAccountKey(sysAcc) {
					oc.SystemAccount = sysAcc
				} else {
					ac, _, err := op.Account(sysAcc)
					if err != nil {
						return authutil.Err(err)
					}
					oc.SystemAccount = ac.Subject
				}
			}
			if cmd.Flags().Changed("require-signing-keys") {
				oc.StrictSigningKeyUsage = reqSK
			}
			for _, sk := range sks {
				if sk == "generate" {
					kp, _ := nkeys.CreateOperator()
					if _, err := st.Env.Keys.Store(kp); err != nil {
						return err
					}
					sk, _ = kp.PublicKey()
				} else if sk, err = authutil.PublicKey(sk, nkeys.PrefixByteOperator, "--sk"); err != nil {
					return err
				}
				oc.SigningKeys.Add(sk)
			}
			oc.SigningKeys.Remove(rmSKs...)
			if oc.StrictSigningKeyUsage && len(oc.SigningKeys) == 0 {
				return cmdutil.FlagErrorf("--require-signing-keys needs a signing key: add one with --sk generate")
			}
			oc.Tags.Add(tags...)
			oc.Tags.Remove(rmTags...)
			if err := dates.Apply(cmd, &oc.ClaimsData); err != nil {
				return err
			}
			tok, err := st.SaveOperator(op, oc, c.privKey)
			if err != nil {
				return err
			}
			return done(f, c.json, "operator "+op.Name, tok)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&name, "name", "n", "", "operator (default: the current one)")
	fl.StringSliceVar(&urls, "service-url", nil, "add operator service URLs")
	fl.StringSliceVar(&rmURLs, "rm-service-url", nil, "remove operator service URLs")
	fl.StringVarP(&asu, "account-jwt-server-url", "u", "", "set the account JWT server URL")
	fl.BoolVar(&rmASU, "rm-account-jwt-server-url", false, "remove the account JWT server URL")
	fl.StringVar(&sysAcc, "system-account", "", "set the system account: name or public key")
	fl.BoolVar(&reqSK, "require-signing-keys", false, "accounts must be signed by signing keys, not the operator's key")
	fl.StringSliceVar(&sks, "sk", nil, "add signing keys: public keys, or \"generate\"")
	fl.StringSliceVar(&rmSKs, "rm-sk", nil, "remove signing keys")
	fl.StringSliceVar(&tags, "tag", nil, "add tags")
	fl.StringSliceVar(&rmTags, "rm-tag", nil, "remove tags")
	dates.Add(cmd, "the operator JWT")
	c.add(cmd, false)
	return cmd
}
