package add

import (
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

type skOptions struct {
	operator, account, key, role, description, privKey string
	forOperator                                        bool
	perms                                              authutil.UserFlags
	json                                               bool
}

func newSigningKey(f *cmdutil.Factory) *cobra.Command {
	o := &skOptions{}
	cmd := &cobra.Command{
		Use:   "signing-key",
		Short: "Add a signing key to an account (optionally scoped, with a role) or to the operator",
		Long: `Add a signing key to an account, or with --for-operator to the operator. A
new key is generated and stored unless --sk names an existing one.

With --role the account key is scoped: users it signs get the role's
permissions and limits (the user flags below) and none of their own. The
subjects may hold templates the server fills in at connect time:
{{name()}}, {{subject()}}, {{account-name()}}, {{account-subject()}},
{{tag(NAME)}} and {{account-tag(NAME)}}.`,
		Example: `  sluice auth add signing-key -a orders
  sluice auth add signing-key -a orders --role app --allow-pub 'orders.{{name()}}.>' --allow-sub '_INBOX.>'
  sluice auth add signing-key --for-operator`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSigningKey(f, cmd, o) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.account, "account", "a", "", "account (default: the current one)")
	fl.StringVarP(&o.operator, "operator", "o", "", "operator (default: the current one)")
	fl.BoolVar(&o.forOperator, "for-operator", false, "add the signing key to the operator instead of an account")
	fl.StringVar(&o.key, "sk", "", "an existing public key (or seed file) instead of a new one")
	fl.StringVar(&o.role, "role", "", "scope the key with this role name")
	fl.StringVar(&o.description, "description", "", "description of the role")
	fl.StringVarP(&o.privKey, "private-key", "K", "", "operator key to sign the account with")
	o.perms.Add(cmd)
	cmdutil.AddJSONFlag(cmd, &o.json)
	return cmd
}

func runSigningKey(f *cmdutil.Factory, cmd *cobra.Command, o *skOptions) error {
	st, err := authutil.Open(f, cmd)
	if err != nil {
		return err
	}
	op, oc, err := st.Operator(o.operator)
	if err != nil {
		return err
	}
	kind := nkeys.PrefixByteAccount
	if o.forOperator {
		kind = nkeys.PrefixByteOperator
		if o.role != "" || authutil.UserFlagsGiven(cmd) {
			return cmdutil.FlagErrorf("--role and permissions scope account signing keys only")
		}
	}
	var kp nkeys.KeyPair
	var pub string
	if o.key != "" {
		if pub, err = authutil.PublicKey(o.key, kind, "--sk"); err != nil {
			return err
		}
	} else {
		if o.forOperator {
			kp, _ = nkeys.CreateOperator()
		} else {
			kp, _ = nkeys.CreateAccount()
		}
		pub, _ = kp.PublicKey()
	}
	made := authutil.Created{Kind: "signing key", PublicKey: pub}
	if o.forOperator {
		made.Name = op.Name
		if oc.SigningKeys.Contains(pub) {
			return cmdutil.FlagErrorf("operator %q already has signing key %s", op.Name, pub)
		}
		oc.SigningKeys.Add(pub)
		if kp != nil {
			if made.Key, err = st.Env.Keys.Store(kp); err != nil {
				return err
			}
		}
		if _, err := st.SaveOperator(op, oc, o.privKey); err != nil {
			return err
		}
		return report(f, o.json, made)
	}
	acc, ac, err := st.Account(op, o.account)
	if err != nil {
		return err
	}
	made.Name = acc
	if ac.SigningKeys.Contains(pub) {
		return cmdutil.FlagErrorf("account %q already has signing key %s", acc, pub)
	}
	if o.role != "" || authutil.UserFlagsGiven(cmd) {
		if o.role == "" {
			return cmdutil.FlagErrorf("--role is required to scope a signing key with permissions")
		}
		scope := jwt.NewUserScope()
		scope.Key, scope.Role, scope.Description = pub, o.role, o.description
		if err := o.perms.Apply(cmd, &scope.Template); err != nil {
			return err
		}
		ac.SigningKeys.AddScopedSigner(scope)
	} else {
		ac.SigningKeys.Add(pub)
	}
	if kp != nil {
		if made.Key, err = st.Env.Keys.Store(kp); err != nil {
			return err
		}
	}
	if _, made.JWT, err = st.SaveAccount(op, oc, ac, o.privKey); err != nil {
		return err
	}
	return report(f, o.json, made)
}
