package delete

import (
	"fmt"

	"github.com/nats-io/jwt/v2"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// editAccount loads the account, lets change edit it (reporting what it
// removed, or not found), confirms and saves.
func editAccount(f *cmdutil.Factory, cmd *cobra.Command, c *common, what string, change func(*jwt.AccountClaims) bool) error {
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
	if !change(ac) {
		return cmdutil.WithHint(cmdutil.ExitNotFound, fmt.Errorf("%s not found in account %q", what, acc),
			"see 'sluice auth describe account %s'", acc)
	}
	if err := f.ConfirmDestructive(c.force, fmt.Sprintf("Delete %s from account %q?", what, acc)); err != nil {
		return err
	}
	if _, _, err := st.SaveAccount(op, oc, ac, c.privKey); err != nil {
		return err
	}
	return deleted(f, what+" from account "+acc)
}

func newExport(f *cmdutil.Factory) *cobra.Command {
	var c common
	var subject string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Delete an export, named by --subject",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.RequireInput(&subject, "--subject", "Exported subject to delete:"); err != nil {
				return err
			}
			return editAccount(f, cmd, &c, fmt.Sprintf("export %q", subject), func(ac *jwt.AccountClaims) bool {
				for i, e := range ac.Exports {
					if string(e.Subject) == subject {
						ac.Exports = append(ac.Exports[:i], ac.Exports[i+1:]...)
						return true
					}
				}
				return false
			})
		},
	}
	cmd.Flags().StringVar(&subject, "subject", "", "the exported subject")
	c.add(cmd, true)
	return cmd
}

func newImport(f *cmdutil.Factory) *cobra.Command {
	var c common
	var subject, src string
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Delete an import, named by --subject (remote or local) and optionally --src-account",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.RequireInput(&subject, "--subject", "Imported subject to delete:"); err != nil {
				return err
			}
			return editAccount(f, cmd, &c, fmt.Sprintf("import %q", subject), func(ac *jwt.AccountClaims) bool {
				for i, im := range ac.Imports {
					if (string(im.Subject) == subject || string(im.LocalSubject) == subject) && (src == "" || im.Account == src) {
						ac.Imports = append(ac.Imports[:i], ac.Imports[i+1:]...)
						return true
					}
				}
				return false
			})
		},
	}
	cmd.Flags().StringVar(&subject, "subject", "", "the import's remote or local subject")
	cmd.Flags().StringVar(&src, "src-account", "", "public key of the exporting account, when several match")
	c.add(cmd, true)
	return cmd
}

func newMapping(f *cmdutil.Factory) *cobra.Command {
	var c common
	var from, to, cluster string
	cmd := &cobra.Command{
		Use:   "mapping",
		Short: "Delete a mapping --from a subject, or one of its --to destinations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.RequireInput(&from, "--from", "Mapped subject to delete:"); err != nil {
				return err
			}
			what := fmt.Sprintf("mapping %q", from)
			if to != "" {
				what = fmt.Sprintf("mapping %q -> %q", from, to)
			}
			return editAccount(f, cmd, &c, what, func(ac *jwt.AccountClaims) bool {
				list, ok := ac.Mappings[jwt.Subject(from)]
				if !ok {
					return false
				}
				if to == "" {
					delete(ac.Mappings, jwt.Subject(from))
					return true
				}
				for i, m := range list {
					if string(m.Subject) == to && m.Cluster == cluster {
						list = append(list[:i], list[i+1:]...)
						if len(list) == 0 {
							delete(ac.Mappings, jwt.Subject(from))
						} else {
							ac.Mappings[jwt.Subject(from)] = list
						}
						return true
					}
				}
				return false
			})
		},
	}
	cmd.Flags().StringVarP(&from, "from", "f", "", "the mapped subject")
	cmd.Flags().StringVarP(&to, "to", "t", "", "only this destination")
	cmd.Flags().StringVar(&cluster, "cluster", "", "cluster of the destination")
	c.add(cmd, true)
	return cmd
}
