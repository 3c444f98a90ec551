package authcmd

import (
	"fmt"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

type initOptions struct {
	f          *cmdutil.Factory
	name       string
	serviceURL []string
	json       bool
}

// NewCmdInit builds `auth init`.
func NewCmdInit(f *cmdutil.Factory) *cobra.Command {
	o := &initOptions{f: f}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create an operator, its system account and an account and user of the same name",
		Long: `Create, in one step, an operator NAME with a system account SYS (with a
signing key and user "sys"), an account NAME and a user NAME, with creds
files for both users, and make NAME the current operator and account.`,
		Example: `  sluice auth init --name acme
  sluice auth generate config --nats-resolver > server.conf`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runInit(cmd, o) },
	}
	cmd.Flags().StringVarP(&o.name, "name", "n", "", "name of the operator, account and user")
	cmd.Flags().StringSliceVar(&o.serviceURL, "service-url", []string{"nats://localhost:4222"}, "operator service URLs")
	cmdutil.AddJSONFlag(cmd, &o.json)
	return cmd
}

type newKey struct {
	kp  nkeys.KeyPair
	pub string
}

func create(fn func() (nkeys.KeyPair, error)) (newKey, error) {
	kp, err := fn()
	if err != nil {
		return newKey{}, err
	}
	pub, _ := kp.PublicKey()
	return newKey{kp, pub}, nil
}

func runInit(cmd *cobra.Command, o *initOptions) error {
	f := o.f
	if err := f.RequireInput(&o.name, "--name", "Name of the operator, account and user:"); err != nil {
		return err
	}
	if err := authutil.ValidName("operator", o.name); err != nil {
		return err
	}
	if o.name == "SYS" {
		return cmdutil.FlagErrorf("--name SYS is taken by the system account")
	}
	st, err := authutil.Open(f, cmd)
	if err != nil {
		return err
	}
	if _, err := st.Env.Operator(o.name); err == nil {
		return cmdutil.FlagErrorf("operator %q already exists in %s", o.name, st.Env.Dirs.Data)
	}
	var keys [6]newKey
	for i, fn := range []func() (nkeys.KeyPair, error){nkeys.CreateOperator, nkeys.CreateAccount, nkeys.CreateAccount,
		nkeys.CreateUser, nkeys.CreateAccount, nkeys.CreateUser} {
		if keys[i], err = create(fn); err != nil {
			return err
		}
	}
	opk, sysk, syssk, sysuk, acck, userk := keys[0], keys[1], keys[2], keys[3], keys[4], keys[5]

	oc := jwt.NewOperatorClaims(opk.pub)
	oc.Name = o.name
	oc.SystemAccount = sysk.pub
	oc.OperatorServiceURLs.Add(o.serviceURL...)
	if vr := validate(oc); vr != nil {
		return vr
	}
	opTok, err := oc.Encode(opk.kp)
	if err != nil {
		return err
	}
	sysTok, err := authutil.SysAccountClaims(sysk.pub, syssk.pub).Encode(opk.kp)
	if err != nil {
		return err
	}
	suc := jwt.NewUserClaims(sysuk.pub)
	suc.Name = "sys"
	suc.IssuerAccount = sysk.pub
	sysUserTok, err := suc.Encode(syssk.kp)
	if err != nil {
		return err
	}
	ac := jwt.NewAccountClaims(acck.pub)
	ac.Name = o.name
	accTok, err := ac.Encode(opk.kp)
	if err != nil {
		return err
	}
	uc := jwt.NewUserClaims(userk.pub)
	uc.Name = o.name
	userTok, err := uc.Encode(acck.kp)
	if err != nil {
		return err
	}
	sysCreds, err := authutil.Creds(sysUserTok, sysuk.kp)
	if err != nil {
		return err
	}
	userCreds, err := authutil.Creds(userTok, userk.kp)
	if err != nil {
		return err
	}

	// Keys first: a store whose JWTs exist without their keys is worse
	// than stray keys.
	ks := st.Env.Keys
	var paths [6]string
	for i, k := range keys {
		if paths[i], err = ks.Store(k.kp); err != nil {
			return err
		}
	}
	op, err := st.Env.CreateOperator(o.name, opTok)
	if err != nil {
		return err
	}
	sysPath, err := op.SaveAccount(sysTok)
	if err != nil {
		return err
	}
	sysUserPath, err := op.SaveUser("SYS", sysUserTok)
	if err != nil {
		return err
	}
	accPath, err := op.SaveAccount(accTok)
	if err != nil {
		return err
	}
	userPath, err := op.SaveUser(o.name, userTok)
	if err != nil {
		return err
	}
	sysCredsPath, err := ks.WriteCreds(o.name, "SYS", "sys", sysCreds)
	if err != nil {
		return err
	}
	userCredsPath, err := ks.WriteCreds(o.name, o.name, o.name, userCreds)
	if err != nil {
		return err
	}
	st.Env.Config.Operator, st.Env.Config.Account = o.name, o.name
	if err := st.Env.SaveConfig(); err != nil {
		return err
	}
	made := []authutil.Created{
		{Kind: "operator", Name: o.name, PublicKey: opk.pub, JWT: op.JWTPath(), Key: paths[0]},
		{Kind: "account", Name: "SYS", PublicKey: sysk.pub, JWT: sysPath, Key: paths[1]},
		{Kind: "signing key", Name: "SYS", PublicKey: syssk.pub, Key: paths[2]},
		{Kind: "user", Name: "sys", PublicKey: sysuk.pub, JWT: sysUserPath, Key: paths[3], Creds: sysCredsPath},
		{Kind: "account", Name: o.name, PublicKey: acck.pub, JWT: accPath, Key: paths[4]},
		{Kind: "user", Name: o.name, PublicKey: userk.pub, JWT: userPath, Key: paths[5], Creds: userCredsPath},
	}
	if o.json {
		return cmdutil.WriteJSON(f.IO.Out, made)
	}
	for _, m := range made {
		fmt.Fprintf(f.IO.ErrOut, "Created %s %q (%s)\n", m.Kind, m.Name, m.PublicKey)
	}
	fmt.Fprintf(f.IO.ErrOut, "Creds for user %q: %s\nCurrent operator and account: %s\n", o.name, userCredsPath, o.name)
	return nil
}

// validate runs the claims' own checks and returns the blocking ones.
func validate(c jwt.Claims) error {
	var vr jwt.ValidationResults
	c.Validate(&vr)
	if errs := vr.Errors(); len(errs) > 0 {
		return &cmdutil.UsageError{Err: errs[0]}
	}
	return nil
}
