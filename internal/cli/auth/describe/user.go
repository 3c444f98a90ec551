package describe

import (
	"fmt"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

func newUser(f *cmdutil.Factory) *cobra.Command {
	var d authutil.DescribeFlags
	var name, account, operator string
	cmd := &cobra.Command{
		Use:   "user [NAME]",
		Short: "Show a user",
		Args:  cmdutil.RangeArgs(0, 1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				name = args[0]
			}
			st, err := authutil.Open(f, cmd)
			if err != nil {
				return err
			}
			op, _, err := st.Operator(operator)
			if err != nil {
				return err
			}
			acc, _, err := st.Account(op, account)
			if err != nil {
				return err
			}
			user, uc, err := st.User(op, acc, name)
			if err != nil {
				return err
			}
			_, tok, _ := op.User(acc, user)
			if done, err := d.Write(f.IO.Out, tok); done {
				return err
			}
			writeUser(f, "User "+user, uc)
			return nil
		},
	}
	cmd.Flags().StringVarP(&name, "name", "n", "", "user name")
	cmd.Flags().StringVarP(&account, "account", "a", "", "account (default: the current one)")
	cmd.Flags().StringVarP(&operator, "operator", "o", "", "operator (default: the current one)")
	addFlags(cmd, &d)
	return cmd
}

func writeUser(f *cmdutil.Factory, title string, uc *jwt.UserClaims) {
	kv := cmdutil.NewKV(title)
	common(kv, uc.Name, uc.Subject, &uc.ClaimsData, uc.Tags)
	kv.AddIf("Issuer Account", uc.IssuerAccount)
	p := uc.UserPermissionLimits
	kv.Add("Pub Allow", list(p.Pub.Allow))
	kv.Add("Pub Deny", list(p.Pub.Deny))
	kv.Add("Sub Allow", list(p.Sub.Allow))
	kv.Add("Sub Deny", list(p.Sub.Deny))
	if p.Resp != nil {
		kv.Add("Response Permissions", fmt.Sprintf("%d messages, %s", p.Resp.MaxMsgs, p.Resp.Expires))
	}
	kv.Add("Bearer Token", p.BearerToken)
	kv.Add("Max Subscriptions", limit(p.Subs))
	kv.Add("Max Data", limit(p.Data))
	kv.Add("Max Msg Payload", limit(p.Payload))
	kv.Add("Source Networks", list(p.Src))
	var times []string
	for _, t := range p.Times {
		times = append(times, t.Start+"-"+t.End)
	}
	kv.Add("Time Windows", list(times))
	kv.AddIf("Locale", p.Locale)
	kv.Add("Connection Types", list(p.AllowedConnectionTypes))
	kv.Write(f.IO.Out)
}

// jwtKind names a claim type for titles.
func jwtKind(t jwt.ClaimType) string {
	s := string(t)
	return strings.ToUpper(s[:1]) + s[1:]
}
