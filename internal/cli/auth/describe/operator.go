package describe

import (
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

func newOperator(f *cmdutil.Factory) *cobra.Command {
	var d authutil.DescribeFlags
	var name string
	cmd := &cobra.Command{
		Use:   "operator [NAME]",
		Short: "Show an operator (default: the current one)",
		Args:  cmdutil.RangeArgs(0, 1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				name = args[0]
			}
			st, err := authutil.Open(f, cmd)
			if err != nil {
				return err
			}
			op, oc, err := st.Operator(name)
			if err != nil {
				return err
			}
			_, tok, _ := op.Claims()
			if done, err := d.Write(f.IO.Out, tok); done {
				return err
			}
			kv := cmdutil.NewKV("Operator " + op.Name)
			common(kv, oc.Name, oc.Subject, &oc.ClaimsData, oc.Tags)
			kv.Add("Operator Service URLs", list(oc.OperatorServiceURLs))
			kv.AddIf("Account JWT Server", oc.AccountServerURL)
			sys := oc.SystemAccount
			if sys != "" {
				if n, _, err := op.AccountByKey(sys); err == nil {
					sys = n + " (" + sys + ")"
				}
			}
			kv.Add("System Account", orDash(sys))
			kv.Add("Require Signing Keys", oc.StrictSigningKeyUsage)
			kv.Add("Signing Keys", list(oc.SigningKeys))
			kv.Write(f.IO.Out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&name, "name", "n", "", "operator name")
	addFlags(cmd, &d)
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
