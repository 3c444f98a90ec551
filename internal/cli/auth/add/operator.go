package add

import (
	"os"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

type operatorOptions struct {
	name, importJWT, asu string
	serviceURLs          []string
	genSK, sys, force    bool
	dates                authutil.DateFlags
	json                 bool
}

func newOperator(f *cmdutil.Factory) *cobra.Command {
	o := &operatorOptions{}
	cmd := &cobra.Command{
		Use:   "operator [NAME]",
		Short: "Add an operator and make it current",
		Example: `  sluice auth add operator acme --sys --generate-signing-key
  sluice auth add operator acme --service-url nats://n1:4222 --account-jwt-server-url nats://n1:4222
  sluice auth add operator --url ./acme.jwt   # import an operator JWT`,
		Args: cmdutil.RangeArgs(0, 1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error { return runOperator(f, cmd, args, o) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.name, "name", "n", "", "operator name")
	fl.StringVarP(&o.importJWT, "url", "u", "", "import the operator from a JWT file instead of creating one")
	fl.BoolVar(&o.genSK, "generate-signing-key", false, "add a signing key to the operator, for signing accounts")
	fl.BoolVar(&o.sys, "sys", false, "add a system account SYS with user \"sys\"")
	fl.StringSliceVar(&o.serviceURLs, "service-url", nil, "URLs of the operator's servers (nats://host:4222)")
	fl.StringVar(&o.asu, "account-jwt-server-url", "", "URL of the account JWT server (nats://host:4222 for a nats resolver)")
	fl.BoolVar(&o.force, "force", false, "create the operator even if its name is that of another operator's directory")
	o.dates.Add(cmd, "the operator JWT")
	cmdutil.AddJSONFlag(cmd, &o.json)
	return cmd
}

func runOperator(f *cmdutil.Factory, cmd *cobra.Command, args []string, o *operatorOptions) error {
	st, err := authutil.Open(f, cmd)
	if err != nil {
		return err
	}
	if o.importJWT != "" {
		return importOperator(f, st, o)
	}
	if err := nameArg(f, args, &o.name, "operator"); err != nil {
		return err
	}
	if _, err := st.Env.Operator(o.name); err == nil {
		return cmdutil.FlagErrorf("operator %q already exists in %s", o.name, st.Env.Dirs.Data)
	}
	opKP, _ := nkeys.CreateOperator()
	opPub, _ := opKP.PublicKey()
	oc := jwt.NewOperatorClaims(opPub)
	oc.Name = o.name
	oc.OperatorServiceURLs.Add(o.serviceURLs...)
	oc.AccountServerURL = o.asu
	if err := o.dates.Apply(cmd, &oc.ClaimsData); err != nil {
		return err
	}
	keys := []nkeys.KeyPair{opKP}
	made := []authutil.Created{{Kind: "operator", Name: o.name, PublicKey: opPub}}
	if o.genSK {
		sk, _ := nkeys.CreateOperator()
		pub, _ := sk.PublicKey()
		oc.SigningKeys.Add(pub)
		keys = append(keys, sk)
		made = append(made, authutil.Created{Kind: "operator signing key", Name: o.name, PublicKey: pub})
	}
	var sysTok, sysUserTok string
	var sysUserKP nkeys.KeyPair
	if o.sys {
		accKP, _ := nkeys.CreateAccount()
		accPub, _ := accKP.PublicKey()
		skKP, _ := nkeys.CreateAccount()
		skPub, _ := skKP.PublicKey()
		sysUserKP, _ = nkeys.CreateUser()
		uPub, _ := sysUserKP.PublicKey()
		oc.SystemAccount = accPub
		signer := opKP
		if len(keys) > 1 {
			signer = keys[1]
		}
		if sysTok, err = authutil.SysAccountClaims(accPub, skPub).Encode(signer); err != nil {
			return err
		}
		uc := jwt.NewUserClaims(uPub)
		uc.Name = "sys"
		uc.IssuerAccount = accPub
		if sysUserTok, err = uc.Encode(skKP); err != nil {
			return err
		}
		keys = append(keys, accKP, skKP, sysUserKP)
		made = append(made, authutil.Created{Kind: "account", Name: "SYS", PublicKey: accPub},
			authutil.Created{Kind: "user", Name: "sys", PublicKey: uPub})
	}
	if err := validateClaims(oc); err != nil {
		return err
	}
	tok, err := oc.Encode(opKP)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if _, err := st.Env.Keys.Store(k); err != nil {
			return err
		}
	}
	op, err := st.Env.CreateOperator(o.name, tok)
	if err != nil {
		return authutil.Err(err)
	}
	made[0].JWT = op.JWTPath()
	if o.sys {
		if _, err := op.SaveAccount(sysTok); err != nil {
			return err
		}
		if _, err := op.SaveUser("SYS", sysUserTok); err != nil {
			return err
		}
		creds, err := authutil.Creds(sysUserTok, sysUserKP)
		if err != nil {
			return err
		}
		if made[len(made)-1].Creds, err = st.Env.Keys.WriteCreds(o.name, "SYS", "sys", creds); err != nil {
			return err
		}
	}
	st.Env.Config.Operator, st.Env.Config.Account = o.name, ""
	if o.sys {
		st.Env.Config.Account = "SYS"
	}
	if err := st.Env.SaveConfig(); err != nil {
		return err
	}
	return report(f, o.json, made...)
}

func importOperator(f *cmdutil.Factory, st *authutil.Store, o *operatorOptions) error {
	b, err := os.ReadFile(o.importJWT)
	if err != nil {
		return cmdutil.FlagErrorf("--url %s: %v", o.importJWT, err)
	}
	tok := strings.TrimSpace(string(b))
	oc, err := jwt.DecodeOperatorClaims(tok)
	if err != nil {
		return cmdutil.FlagErrorf("--url %s: not a valid operator JWT: %v", o.importJWT, err)
	}
	name := oc.Name
	if o.name != "" {
		name = o.name
	}
	if err := authutil.ValidName("operator", name); err != nil {
		return err
	}
	if _, err := st.Env.Operator(name); err == nil && !o.force {
		return cmdutil.FlagErrorf("operator %q already exists in %s; --force replaces its JWT", name, st.Env.Dirs.Data)
	}
	op, err := st.Env.Operator(name)
	if err != nil {
		if op, err = st.Env.CreateOperator(name, tok); err != nil {
			return authutil.Err(err)
		}
	} else if err := op.SaveJWT(tok); err != nil {
		return err
	}
	st.Env.Config.Operator, st.Env.Config.Account = name, ""
	if err := st.Env.SaveConfig(); err != nil {
		return err
	}
	return report(f, o.json, authutil.Created{Kind: "operator", Name: name, PublicKey: oc.Subject, JWT: op.JWTPath()})
}

// validateClaims runs the claims' own checks and fails on the blocking
// ones as a usage error.
func validateClaims(c jwt.Claims) error {
	var vr jwt.ValidationResults
	c.Validate(&vr)
	if errs := vr.Errors(); len(errs) > 0 {
		return &cmdutil.UsageError{Err: errs[0]}
	}
	return nil
}
