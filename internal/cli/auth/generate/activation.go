package generate

import (
	"fmt"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

func newActivation(f *cmdutil.Factory) *cobra.Command {
	var operator, account, subject, target, out, privKey string
	var dates authutil.DateFlags
	cmd := &cobra.Command{
		Use:   "activation",
		Short: "Generate an activation token letting another account import a private export",
		Example: `  sluice auth generate activation -a orders --subject 'orders.private.*' --target-account billing -o act.jwt
  sluice auth add import -a billing --token act.jwt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if subject == "" || target == "" {
				return cmdutil.FlagErrorf("--subject and --target-account are required")
			}
			st, err := authutil.Open(f, cmd)
			if err != nil {
				return err
			}
			op, oc, err := st.Operator(operator)
			if err != nil {
				return err
			}
			acc, ac, err := st.Account(op, account)
			if err != nil {
				return err
			}
			var ex *jwt.Export
			for _, e := range ac.Exports {
				if string(e.Subject) == subject || jwt.Subject(subject).IsContainedIn(e.Subject) {
					ex = e
					break
				}
			}
			if ex == nil {
				return cmdutil.FlagErrorf("account %q exports nothing matching %q", acc, subject)
			}
			if !ex.TokenReq {
				fmt.Fprintf(f.IO.ErrOut, "Warning: export %q is public; it needs no activation\n", ex.Subject)
			}
			targetPub := target
			if !nkeys.IsValidPublicAccountKey(target) {
				tac, _, err := op.Account(target)
				if err != nil {
					return authutil.Err(err)
				}
				targetPub = tac.Subject
			}
			if ex.AccountTokenPosition > 0 {
				// The importer's key sits in the subject at that position.
				subject = withToken(string(ex.Subject), int(ex.AccountTokenPosition), targetPub)
			}
			kp, isSK, err := st.AccountSigner(acc, ac, privKey, oc.StrictSigningKeyUsage)
			if err != nil {
				return err
			}
			act := jwt.NewActivationClaims(targetPub)
			act.Name = subject
			act.ImportSubject = jwt.Subject(subject)
			act.ImportType = ex.Type
			if isSK {
				act.IssuerAccount = ac.Subject
			}
			if err := dates.Apply(cmd, &act.ClaimsData); err != nil {
				return err
			}
			if err := authutil.ValidateClaims(act); err != nil {
				return err
			}
			tok, err := act.Encode(kp)
			if err != nil {
				return err
			}
			return output(f, out, []byte(tok+"\n"), "the activation token")
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&account, "account", "a", "", "exporting account (default: the current one)")
	fl.StringVarP(&operator, "operator", "o", "", "operator (default: the current one)")
	fl.StringVar(&subject, "subject", "", "the exported subject to activate")
	fl.StringVarP(&target, "target-account", "t", "", "importing account: name in this operator or public key")
	fl.StringVar(&out, "output-file", "", "write the token to this file (0600) instead of stdout")
	fl.StringVarP(&privKey, "private-key", "K", "", "account key or signing key to sign with")
	dates.Add(cmd, "the activation")
	return cmd
}

func withToken(subject string, pos int, key string) string {
	toks := splitSubject(subject)
	if pos >= 1 && pos <= len(toks) && toks[pos-1] == "*" {
		toks[pos-1] = key
	}
	return joinSubject(toks)
}
