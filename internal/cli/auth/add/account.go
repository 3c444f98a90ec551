package add

import (
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

type accountOptions struct {
	operator, name, pubKey, privKey string
	dates                           authutil.DateFlags
	json                            bool
}

func newAccount(f *cmdutil.Factory) *cobra.Command {
	o := &accountOptions{}
	cmd := &cobra.Command{
		Use:   "account [NAME]",
		Short: "Add an account to the current operator and make it current",
		Example: `  sluice auth add account orders
  sluice auth add account billing --expiry 1y --private-key OCZ...   # sign with an operator signing key
  sluice auth add account partner --public-key ADQ...                 # key kept elsewhere`,
		Args: cmdutil.RangeArgs(0, 1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error { return runAccount(f, cmd, args, o) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.name, "name", "n", "", "account name")
	fl.StringVarP(&o.pubKey, "public-key", "k", "", "the account's public key, when its seed is kept elsewhere")
	fl.StringVarP(&o.privKey, "private-key", "K", "", "operator key or signing key to sign with (public key, seed or file)")
	fl.StringVarP(&o.operator, "operator", "o", "", "operator (default: the current one)")
	o.dates.Add(cmd, "the account JWT")
	cmdutil.AddJSONFlag(cmd, &o.json)
	return cmd
}

func runAccount(f *cmdutil.Factory, cmd *cobra.Command, args []string, o *accountOptions) error {
	if err := nameArg(f, args, &o.name, "account"); err != nil {
		return err
	}
	st, err := authutil.Open(f, cmd)
	if err != nil {
		return err
	}
	op, oc, err := st.Operator(o.operator)
	if err != nil {
		return err
	}
	if op.HasAccount(o.name) {
		return cmdutil.FlagErrorf("account %q already exists in operator %q", o.name, op.Name)
	}
	var kp nkeys.KeyPair
	pub := ""
	if o.pubKey != "" {
		if pub, err = authutil.PublicKey(o.pubKey, nkeys.PrefixByteAccount, "--public-key"); err != nil {
			return err
		}
	} else {
		kp, _ = nkeys.CreateAccount()
		pub, _ = kp.PublicKey()
	}
	signer, err := st.OperatorSigner(op, oc, o.privKey, true)
	if err != nil {
		return err
	}
	ac := jwt.NewAccountClaims(pub)
	ac.Name = o.name
	if err := o.dates.Apply(cmd, &ac.ClaimsData); err != nil {
		return err
	}
	if err := validateClaims(ac); err != nil {
		return err
	}
	tok, err := ac.Encode(signer)
	if err != nil {
		return err
	}
	made := authutil.Created{Kind: "account", Name: o.name, PublicKey: pub}
	if kp != nil {
		if made.Key, err = st.Env.Keys.Store(kp); err != nil {
			return err
		}
	}
	if made.JWT, err = op.SaveAccount(tok); err != nil {
		return err
	}
	st.Env.Config.Operator, st.Env.Config.Account = op.Name, o.name
	if err := st.Env.SaveConfig(); err != nil {
		return err
	}
	return report(f, o.json, made)
}
