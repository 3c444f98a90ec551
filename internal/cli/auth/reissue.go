package authcmd

import (
	"fmt"

	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// NewCmdReissue builds `auth reissue operator`.
func NewCmdReissue(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "reissue",
		Short: "Give the operator a new identity key",
	}
	var name string
	var convert bool
	cmd.AddCommand(&cobra.Command{
		Use:   "operator",
		Short: "Give the operator a new key and re-sign its accounts",
		Long: `Give the operator a new identity key. With --convert-to-signing-key the
old key becomes a signing key, so JWTs it signed stay valid; otherwise the
accounts it signed are re-signed with the new key. Servers must get the
new operator JWT (regenerate their configuration) and the accounts
(push).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := authutil.Open(f, cmd)
			if err != nil {
				return err
			}
			op, oc, err := st.Operator(name)
			if err != nil {
				return err
			}
			// Only the holder of the operator's key may reissue it.
			if _, err := st.OperatorIdentity(op, oc, ""); err != nil {
				return err
			}
			oldPub := oc.Subject
			kp, _ := nkeys.CreateOperator()
			pub, _ := kp.PublicKey()
			if _, err := st.Env.Keys.Store(kp); err != nil {
				return err
			}
			oc.Subject = pub
			if convert {
				oc.SigningKeys.Add(oldPub)
			}
			if err := authutil.ValidateClaims(oc); err != nil {
				return err
			}
			tok, err := oc.Encode(kp)
			if err != nil {
				return err
			}
			// Re-sign the accounts before the operator changes, so a
			// failure leaves a consistent store.
			accs, err := op.Accounts()
			if err != nil {
				return err
			}
			var toks []string
			for _, a := range accs {
				ac, _, err := op.Account(a)
				if err != nil {
					return err
				}
				if ac.Issuer != oldPub || convert {
					continue
				}
				atok, err := ac.Encode(kp)
				if err != nil {
					return err
				}
				toks = append(toks, atok)
			}
			if err := op.SaveJWT(tok); err != nil {
				return err
			}
			for _, t := range toks {
				if _, err := op.SaveAccount(t); err != nil {
					return err
				}
			}
			fmt.Fprintf(f.IO.ErrOut, "Reissued operator %q: %s (was %s); re-signed %d accounts\n", op.Name, pub, oldPub, len(toks))
			return nil
		},
	})
	cmd.PersistentFlags().StringVarP(&name, "name", "n", "", "operator (default: the current one)")
	cmd.PersistentFlags().BoolVar(&convert, "convert-to-signing-key", false, "keep the old key as a signing key")
	return cmd
}
