package add

import (
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

type userOptions struct {
	operator, account, name, pubKey, privKey string
	tags                                     []string
	perms                                    authutil.UserFlags
	dates                                    authutil.DateFlags
	json                                     bool
}

func newUser(f *cmdutil.Factory) *cobra.Command {
	o := &userOptions{}
	cmd := &cobra.Command{
		Use:   "user [NAME]",
		Short: "Add a user to an account and write its creds file",
		Example: `  sluice auth add user app --allow-pub 'orders.>' --allow-sub '_INBOX.>' --deny-pub 'orders.admin.>'
  sluice auth add user svc --allow-sub 'svc.req' --allow-pub-response --response-ttl 5s
  sluice auth add user dev --expiry 30d --source-network 10.0.0.0/8 --time 08:00:00-18:00:00 --locale Europe/Berlin
  sluice auth add user web --bearer --conn-type WEBSOCKET --tag team:web
  sluice auth add user worker --private-key AB...   # signed by a (scoped) signing key`,
		Args: cmdutil.RangeArgs(0, 1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error { return runUser(f, cmd, args, o) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.name, "name", "n", "", "user name")
	fl.StringVarP(&o.account, "account", "a", "", "account (default: the current one)")
	fl.StringVarP(&o.operator, "operator", "o", "", "operator (default: the current one)")
	fl.StringVarP(&o.pubKey, "public-key", "k", "", "the user's public key, when its seed is kept elsewhere (no creds are written)")
	fl.StringVarP(&o.privKey, "private-key", "K", "", "account key or signing key to sign with (public key, seed or file)")
	fl.StringSliceVar(&o.tags, "tag", nil, "add tags (comma separated or repeated)")
	o.perms.Add(cmd)
	o.dates.Add(cmd, "the user JWT")
	cmdutil.AddJSONFlag(cmd, &o.json)
	return cmd
}

func runUser(f *cmdutil.Factory, cmd *cobra.Command, args []string, o *userOptions) error {
	if err := nameArg(f, args, &o.name, "user"); err != nil {
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
	accName, ac, err := st.Account(op, o.account)
	if err != nil {
		return err
	}
	if op.HasUser(accName, o.name) {
		return cmdutil.FlagErrorf("user %q already exists in account %q", o.name, accName)
	}
	var kp nkeys.KeyPair
	var pub string
	if o.pubKey != "" {
		if pub, err = authutil.PublicKey(o.pubKey, nkeys.PrefixByteUser, "--public-key"); err != nil {
			return err
		}
	} else {
		kp, _ = nkeys.CreateUser()
		pub, _ = kp.PublicKey()
	}
	signer, isSK, err := st.AccountSigner(accName, ac, o.privKey, oc.StrictSigningKeyUsage)
	if err != nil {
		return err
	}
	uc := jwt.NewUserClaims(pub)
	uc.Name = o.name
	if isSK {
		uc.IssuerAccount = ac.Subject
		skPub, _ := signer.PublicKey()
		if scope, _ := ac.SigningKeys.GetScope(skPub); scope != nil && authutil.UserFlagsGiven(cmd) {
			return cmdutil.FlagErrorf("signing key %s is scoped: its role sets the permissions and limits, so the user cannot have its own", skPub)
		}
	}
	uc.Tags.Add(o.tags...)
	if err := o.perms.Apply(cmd, &uc.UserPermissionLimits); err != nil {
		return err
	}
	if err := o.dates.Apply(cmd, &uc.ClaimsData); err != nil {
		return err
	}
	if isSK {
		skPub, _ := signer.PublicKey()
		if scope, _ := ac.SigningKeys.GetScope(skPub); scope != nil {
			// A scoped key's user carries no limits of its own.
			uc.UserPermissionLimits = jwt.UserPermissionLimits{}
		}
	}
	if err := validateClaims(uc); err != nil {
		return err
	}
	tok, err := uc.Encode(signer)
	if err != nil {
		return err
	}
	made := authutil.Created{Kind: "user", Name: o.name, PublicKey: pub}
	if kp != nil {
		if made.Key, err = st.Env.Keys.Store(kp); err != nil {
			return err
		}
	}
	if made.JWT, err = op.SaveUser(accName, tok); err != nil {
		return err
	}
	if kp != nil {
		creds, err := authutil.Creds(tok, kp)
		if err != nil {
			return err
		}
		if made.Creds, err = st.Env.Keys.WriteCreds(op.Name, accName, o.name, creds); err != nil {
			return err
		}
	}
	return report(f, o.json, made)
}
