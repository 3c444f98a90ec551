package revocations

import (
	"fmt"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// export finds the export of subject and resolves --target-account.
func (l *loaded) export(subject, target string) (*jwt.Export, string, error) {
	var ex *jwt.Export
	for _, e := range l.ac.Exports {
		if string(e.Subject) == subject {
			ex = e
		}
	}
	if ex == nil {
		return nil, "", cmdutil.WithHint(cmdutil.ExitNotFound, fmt.Errorf("account %q has no export %q", l.acc, subject),
			"see 'sluice auth describe account %s'", l.acc)
	}
	if target == "" || target == jwt.All || nkeys.IsValidPublicAccountKey(target) {
		return ex, target, nil
	}
	tac, _, err := l.op.Account(target)
	if err != nil {
		return nil, "", authutil.Err(err)
	}
	return ex, tac.Subject, nil
}

func newAddActivation(f *cmdutil.Factory) *cobra.Command {
	var c common
	var subject, target, when string
	cmd := &cobra.Command{
		Use:   "add-activation",
		Short: "Revoke an importer's activation of an export",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if subject == "" || target == "" {
				return cmdutil.FlagErrorf("--subject and --target-account are required")
			}
			l, err := c.load(f, cmd)
			if err != nil {
				return err
			}
			ex, key, err := l.export(subject, target)
			if err != nil {
				return err
			}
			t, err := at(when)
			if err != nil {
				return err
			}
			ex.RevokeAt(key, t)
			if err := l.save(&c); err != nil {
				return err
			}
			fmt.Fprintf(f.IO.ErrOut, "Revoked the activation of %s for export %q of account %q\n", key, subject, l.acc)
			return nil
		},
	}
	cmd.Flags().StringVar(&subject, "subject", "", "the exported subject")
	cmd.Flags().StringVarP(&target, "target-account", "t", "", "importing account: name, public key or *")
	cmd.Flags().StringVar(&when, "at", "", "revoke activations issued before this time (default now)")
	c.add(cmd)
	return cmd
}

func newDeleteActivation(f *cmdutil.Factory) *cobra.Command {
	var c common
	var subject, target string
	cmd := &cobra.Command{
		Use:   "delete-activation",
		Short: "Undo the revocation of an importer's activation",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if subject == "" || target == "" {
				return cmdutil.FlagErrorf("--subject and --target-account are required")
			}
			l, err := c.load(f, cmd)
			if err != nil {
				return err
			}
			ex, key, err := l.export(subject, target)
			if err != nil {
				return err
			}
			if _, ok := ex.Revocations[key]; !ok {
				return cmdutil.NotFound("revocation of activation", key, "list them with 'sluice auth revocations list-activations'")
			}
			ex.ClearRevocation(key)
			if err := l.save(&c); err != nil {
				return err
			}
			fmt.Fprintf(f.IO.ErrOut, "Cleared the revocation of %s for export %q of account %q\n", key, subject, l.acc)
			return nil
		},
	}
	cmd.Flags().StringVar(&subject, "subject", "", "the exported subject")
	cmd.Flags().StringVarP(&target, "target-account", "t", "", "importing account: name, public key or *")
	c.add(cmd)
	return cmd
}

func newListActivations(f *cmdutil.Factory) *cobra.Command {
	var c common
	var subject string
	cmd := &cobra.Command{
		Use:   "list-activations",
		Short: "List the revoked activations of an export",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if subject == "" {
				return cmdutil.FlagErrorf("--subject is required")
			}
			l, err := c.load(f, cmd)
			if err != nil {
				return err
			}
			ex, _, err := l.export(subject, "")
			if err != nil {
				return err
			}
			names := map[string]string{}
			accs, _ := l.op.Accounts()
			for _, a := range accs {
				if ac, _, err := l.op.Account(a); err == nil {
					names[ac.Subject] = a
				}
			}
			return writeList(f, c.json, "Revoked activations of "+subject, ex.Revocations, names)
		},
	}
	cmd.Flags().StringVar(&subject, "subject", "", "the exported subject")
	c.add(cmd)
	cmdutil.AddJSONFlag(cmd, &c.json)
	return cmd
}
