package describe

import (
	"fmt"
	"sort"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

func newAccount(f *cmdutil.Factory) *cobra.Command {
	var d authutil.DescribeFlags
	var name, operator string
	cmd := &cobra.Command{
		Use:   "account [NAME]",
		Short: "Show an account (default: the current one)",
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
			acc, ac, err := st.Account(op, name)
			if err != nil {
				return err
			}
			_, tok, _ := op.Account(acc)
			if done, err := d.Write(f.IO.Out, tok); done {
				return err
			}
			writeAccount(f, acc, ac)
			return nil
		},
	}
	cmd.Flags().StringVarP(&name, "name", "n", "", "account name")
	cmd.Flags().StringVarP(&operator, "operator", "o", "", "operator (default: the current one)")
	addFlags(cmd, &d)
	return cmd
}

func writeAccount(f *cmdutil.Factory, name string, ac *jwt.AccountClaims) {
	kv := cmdutil.NewKV("Account " + name)
	common(kv, ac.Name, ac.Subject, &ac.ClaimsData, ac.Tags)
	kv.AddIf("Description", ac.Description)
	kv.AddIf("Info URL", ac.InfoURL)
	l := ac.Limits
	kv.Add("Max Connections", limit(l.Conn))
	kv.Add("Max Leaf Node Connections", limit(l.LeafNodeConn))
	kv.Add("Max Data", limit(l.Data))
	kv.Add("Max Exports", limit(l.Exports))
	kv.Add("Max Imports", limit(l.Imports))
	kv.Add("Max Msg Payload", limit(l.Payload))
	kv.Add("Max Subscriptions", limit(l.Subs))
	kv.Add("Exports Allows Wildcards", l.WildcardExports)
	kv.Add("Disallow Bearer Token", l.DisallowBearer)
	if len(l.JetStreamTieredLimits) > 0 {
		kv.Add("JetStream", "tiered")
	} else if l.IsJSEnabled() {
		kv.Add("JetStream", fmt.Sprintf("mem %s, disk %s, streams %s, consumers %s", limit(l.MemoryStorage),
			limit(l.DiskStorage), limit(l.Streams), limit(l.Consumer)))
	} else {
		kv.Add("JetStream", "disabled")
	}
	for tier, jl := range l.JetStreamTieredLimits {
		kv.Add("JetStream "+tier, fmt.Sprintf("mem %s, disk %s, streams %s, consumers %s", limit(jl.MemoryStorage),
			limit(jl.DiskStorage), limit(jl.Streams), limit(jl.Consumer)))
	}
	var sks []string
	for k, scope := range ac.SigningKeys {
		if us, ok := scope.(*jwt.UserScope); ok && us != nil {
			sks = append(sks, fmt.Sprintf("%s (role %q)", k, us.Role))
		} else {
			sks = append(sks, k)
		}
	}
	sort.Strings(sks)
	kv.Add("Signing Keys", list(sks))
	kv.Add("Revocations", len(ac.Revocations))
	for _, e := range ac.Exports {
		kv.Add("Export", fmt.Sprintf("%s %s%s%s", e.Type, e.Subject, nameIfOther(e.Name, string(e.Subject)), exportFlags(e)))
	}
	for _, i := range ac.Imports {
		kv.Add("Import", fmt.Sprintf("%s %s%s from %s%s", i.Type, i.Subject, nameIfOther(i.Name, string(i.Subject)), i.Account, localSubject(i)))
	}
	for from, to := range ac.Mappings {
		var dests []string
		for _, m := range to {
			dests = append(dests, fmt.Sprintf("%s %d%%", m.Subject, m.GetWeight()))
		}
		kv.Add("Mapping", fmt.Sprintf("%s -> %s", from, strings.Join(dests, ", ")))
	}
	kv.Write(f.IO.Out)
}

func exportFlags(e *jwt.Export) string {
	var fl []string
	if e.TokenReq {
		fl = append(fl, "private")
	}
	if e.ResponseType != "" && e.ResponseType != jwt.ResponseTypeSingleton {
		fl = append(fl, "response "+string(e.ResponseType))
	}
	if e.Latency != nil {
		fl = append(fl, fmt.Sprintf("latency %d%% to %s", e.Latency.Sampling, e.Latency.Results))
	}
	if len(e.Revocations) > 0 {
		fl = append(fl, fmt.Sprintf("%d revocations", len(e.Revocations)))
	}
	if len(fl) == 0 {
		return ""
	}
	return " (" + strings.Join(fl, ", ") + ")"
}

func localSubject(i *jwt.Import) string {
	if i.LocalSubject != "" {
		return " as " + string(i.LocalSubject)
	}
	return ""
}

func nameIfOther(name, subject string) string {
	if name == "" || name == subject {
		return ""
	}
	return fmt.Sprintf(" (%q)", name)
}
