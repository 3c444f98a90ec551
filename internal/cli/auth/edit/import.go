package edit

import (
	"os"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

func newImport(f *cmdutil.Factory) *cobra.Command {
	var c common
	var subject, name, local, token string
	var share, allowTrace bool
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Change an import, named by its --subject (remote or local)",
		Example: `  sluice auth edit import -a billing --subject orders.api --local-subject api.orders --share
  sluice auth edit import -a billing --subject 'orders.private.*' --token ./new-activation.jwt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if subject == "" {
				return cmdutil.FlagErrorf("--subject is required: the imported subject to edit")
			}
			if err := nothingChanged(cmd, "subject"); err != nil {
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
			ch := cmd.Flags().Changed
			for _, im := range ac.Imports {
				if string(im.Subject) != subject && string(im.LocalSubject) != subject {
					continue
				}
				if ch("name") {
					im.Name = name
				}
				if ch("local-subject") {
					im.LocalSubject = jwt.RenamingSubject(local)
				}
				if ch("share") {
					im.Share = share
				}
				if ch("allow-trace") {
					im.AllowTrace = allowTrace
				}
				if ch("token") {
					if b, err := os.ReadFile(token); err == nil {
						token = strings.TrimSpace(string(b))
					}
					if _, err := jwt.DecodeActivationClaims(token); err != nil {
						return cmdutil.FlagErrorf("--token: not a valid activation token: %v", err)
					}
					im.Token = token
				}
				tok, _, err := st.SaveAccount(op, oc, ac, c.privKey)
				if err != nil {
					return err
				}
				return done(f, c.json, "import "+subject+" of account "+acc, tok)
			}
			return cmdutil.NotFound("import", subject, "list them with 'sluice auth describe account "+acc+"'")
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&subject, "subject", "", "the import's remote or local subject")
	fl.StringVarP(&name, "name", "n", "", "rename the import")
	fl.StringVar(&local, "local-subject", "", "subject it appears under in this account")
	fl.StringVarP(&token, "token", "u", "", "replace the activation token: file or JWT")
	fl.BoolVar(&share, "share", false, "share connection details with the service")
	fl.BoolVar(&allowTrace, "allow-trace", false, "let message traces cross the import")
	c.add(cmd, true)
	return cmd
}
