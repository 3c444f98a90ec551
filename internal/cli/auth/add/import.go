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

type importOptions struct {
	operator, account, privKey         string
	name, src, remote, local, token    string
	service, share, allowTrace, asJSON bool
}

func newImport(f *cmdutil.Factory) *cobra.Command {
	o := &importOptions{}
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Import a stream or service another account exports",
		Long: `Import a public export by naming the exporting account (--src-account, a
name in this operator or a public key) and its subject (--remote-subject),
or a private export with the activation token its owner generated
(--token, a file or the JWT itself).`,
		Example: `  sluice auth add import -a billing --src-account orders --remote-subject 'orders.events.>'
  sluice auth add import -a billing --src-account orders --remote-subject orders.api --service --local-subject api.orders
  sluice auth add import -a billing --token ./activation.jwt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runImport(f, cmd, o) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.account, "account", "a", "", "importing account (default: the current one)")
	fl.StringVarP(&o.operator, "operator", "o", "", "operator (default: the current one)")
	fl.StringVarP(&o.privKey, "private-key", "K", "", "operator key to sign the account with")
	fl.StringVarP(&o.name, "name", "n", "", "import name (default: the remote subject)")
	fl.StringVar(&o.src, "src-account", "", "exporting account: name in this operator or public key")
	fl.StringVar(&o.remote, "remote-subject", "", "the exported subject")
	fl.StringVar(&o.local, "local-subject", "", "subject it appears under in this account")
	fl.StringVarP(&o.token, "token", "u", "", "activation token for a private export: file or JWT")
	fl.BoolVar(&o.service, "service", false, "import a service, not a stream")
	fl.BoolVar(&o.share, "share", false, "share the importer's connection details with the service for latency tracking")
	fl.BoolVar(&o.allowTrace, "allow-trace", false, "let message traces cross the import (streams)")
	cmdutil.AddJSONFlag(cmd, &o.asJSON)
	return cmd
}

func runImport(f *cmdutil.Factory, cmd *cobra.Command, o *importOptions) error {
	st, err := authutil.Open(f, cmd)
	if err != nil {
		return err
	}
	op, oc, err := st.Operator(o.operator)
	if err != nil {
		return err
	}
	acc, ac, err := st.Account(op, o.account)
	if err != nil {
		return err
	}
	im := &jwt.Import{Type: jwt.Stream, Share: o.share, AllowTrace: o.allowTrace}
	if o.service {
		im.Type = jwt.Service
	}
	if o.token != "" {
		tok := o.token
		if b, err := os.ReadFile(o.token); err == nil {
			tok = strings.TrimSpace(string(b))
		}
		act, err := jwt.DecodeActivationClaims(tok)
		if err != nil {
			return cmdutil.FlagErrorf("--token %s: not a valid activation token: %v", o.token, err)
		}
		if act.Subject != ac.Subject {
			return cmdutil.FlagErrorf("--token: the activation is for account %s, not %q (%s)", act.Subject, acc, ac.Subject)
		}
		im.Token = tok
		im.Account = act.Issuer
		if act.IssuerAccount != "" {
			im.Account = act.IssuerAccount
		}
		im.Subject = act.ImportSubject
		im.Type = act.ImportType
	} else {
		if o.src == "" || o.remote == "" {
			return cmdutil.FlagErrorf("--src-account and --remote-subject are required (or --token)")
		}
		im.Subject = jwt.Subject(o.remote)
		im.Account = o.src
		if !nkeys.IsValidPublicAccountKey(o.src) {
			sac, _, err := op.Account(o.src)
			if err != nil {
				return authutil.Err(err)
			}
			im.Account = sac.Subject
			if ex := findExport(sac, o.remote); ex == nil {
				return cmdutil.FlagErrorf("account %q exports nothing matching %q", o.src, o.remote)
			} else if ex.TokenReq {
				return cmdutil.FlagErrorf("the export %q of account %q is private: import it with --token from 'sluice auth generate activation'", ex.Subject, o.src)
			} else {
				im.Type = ex.Type
			}
		}
	}
	if o.local != "" {
		im.LocalSubject = jwt.RenamingSubject(o.local)
	}
	im.Name = o.name
	if im.Name == "" {
		im.Name = string(im.Subject)
	}
	if im.Account == ac.Subject {
		return cmdutil.FlagErrorf("an account cannot import from itself")
	}
	ac.Imports.Add(im)
	if _, _, err := st.SaveAccount(op, oc, ac, o.privKey); err != nil {
		return err
	}
	return report(f, o.asJSON, authutil.Created{Kind: im.Type.String() + " import", Name: im.Name, PublicKey: im.Account})
}

// findExport returns the export of ac that holds subject.
func findExport(ac *jwt.AccountClaims, subject string) *jwt.Export {
	for _, e := range ac.Exports {
		if string(e.Subject) == subject || jwt.Subject(subject).IsContainedIn(e.Subject) {
			return e
		}
	}
	return nil
}
