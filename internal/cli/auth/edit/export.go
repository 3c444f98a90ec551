package edit

import (
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

func newExport(f *cmdutil.Factory) *cobra.Command {
	var c common
	var ex authutil.ExportFlags
	var newSubject string
	var rmLatency bool
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Change an export, named by --subject",
		Example: `  sluice auth edit export -a orders --subject orders.api --response-type Chunked --latency orders.lat --sampling 20
  sluice auth edit export -a orders --subject 'orders.events.>' --private`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ex.Subject == "" {
				return cmdutil.FlagErrorf("--subject is required: the exported subject to edit")
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
			for _, e := range ac.Exports {
				if string(e.Subject) != ex.Subject {
					continue
				}
				cmd.Flags().Set("subject", ex.Subject)
				if newSubject != "" {
					ex.Subject = newSubject
				}
				if err := ex.Apply(cmd, e); err != nil {
					return err
				}
				if rmLatency {
					e.Latency = nil
				}
				tok, _, err := st.SaveAccount(op, oc, ac, c.privKey)
				if err != nil {
					return err
				}
				return done(f, c.json, "export "+string(e.Subject)+" of account "+acc, tok)
			}
			return cmdutil.NotFound("export", ex.Subject, "list them with 'sluice auth describe account "+acc+"'")
		},
	}
	ex.AddFlags(cmd)
	cmd.Flags().StringVar(&newSubject, "new-subject", "", "change the exported subject")
	cmd.Flags().BoolVar(&rmLatency, "rm-latency-sampling", false, "stop latency tracking")
	c.add(cmd, true)
	return cmd
}
