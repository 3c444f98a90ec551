// Package describe is `sluice auth describe`: an operator, account, user
// or any JWT as a table, as JSON (--json), as the token (--raw) or one
// field of it (--field with a dotted JSON path).
package describe

import (
	"fmt"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// New returns `auth describe` and its objects.
func New(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "describe",
		Short: "Show an operator, account, user or JWT",
	}
	cmd.AddCommand(newOperator(f), newAccount(f), newUser(f), newJWT(f))
	return cmd
}

func addFlags(cmd *cobra.Command, d *authutil.DescribeFlags) {
	cmdutil.AddJSONFlag(cmd, &d.JSON)
	cmd.Flags().BoolVarP(&d.Raw, "raw", "R", false, "print the encoded JWT")
	cmd.Flags().StringVarP(&d.Field, "field", "F", "", "print one field of the claims, by dotted JSON path (nats.limits.conn)")
}

// common adds the rows every claim has.
func common(kv *cmdutil.KV, name, sub string, c *jwt.ClaimsData, tags jwt.TagList) {
	kv.Add("Name", name)
	kv.Add("Public Key", sub)
	kv.Add("Issuer", c.Issuer)
	kv.Add("Issued", authutil.UnixDate(c.IssuedAt))
	kv.Add("Expires", orNever(authutil.UnixDate(c.Expires)))
	kv.AddIf("Not Before", authutil.UnixDate(c.NotBefore))
	if len(tags) > 0 {
		kv.Add("Tags", strings.Join(tags, ", "))
	}
}

func orNever(s string) string {
	if s == "" {
		return "never"
	}
	return s
}

func limit(n int64) string {
	if n < 0 {
		return "unlimited"
	}
	return fmt.Sprint(n)
}

func list(l []string) string {
	if len(l) == 0 {
		return "-"
	}
	return strings.Join(l, ", ")
}
