package authcmd

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

type pullResult struct {
	Account   string `json:"account"`
	PublicKey string `json:"public_key"`
	Action    string `json:"action"`
}

// NewCmdPull builds `auth pull`.
func NewCmdPull(f *cmdutil.Factory) *cobra.Command {
	var operator, account string
	var all, overwrite, asJSON bool
	cmd := &cobra.Command{
		Use:   "pull",
		Short: "Fetch account JWTs from the servers' resolver into the store",
		Long: `Fetch account JWTs from a running server's resolver: the current account,
or with -A every account the resolver holds ($SYS.REQ.CLAIMS.LIST, then
$SYS.REQ.ACCOUNT.<key>.CLAIMS.LOOKUP). A JWT older than the store's copy is
kept out unless --overwrite-newer.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := authutil.Open(f, cmd)
			if err != nil {
				return err
			}
			op, oc, err := st.Operator(operator)
			if err != nil {
				return err
			}
			nc, timeout, err := resolverConn(f, st, op, oc)
			if err != nil {
				return err
			}
			defer nc.Close()
			var keys []string
			if all {
				replies, err := gather(nc, subjClaimsList, nil, timeout)
				if err != nil {
					return err
				}
				seen := map[string]bool{}
				for _, raw := range replies {
					var rep serverReply
					var list []string
					if json.Unmarshal(raw, &rep) == nil && json.Unmarshal(rep.Data, &list) == nil {
						for _, k := range list {
							if !seen[k] {
								seen[k] = true
								keys = append(keys, k)
							}
						}
					}
				}
			} else {
				_, ac, err := st.Account(op, account)
				if err != nil {
					return err
				}
				keys = []string{ac.Subject}
			}
			var results []pullResult
			for _, k := range keys {
				msg, err := nc.Request(fmt.Sprintf(subjClaimsLookup, k), nil, timeout)
				if err != nil {
					return fmt.Errorf("look up account %s: %w", k, err)
				}
				tok := strings.TrimSpace(string(msg.Data))
				ac, err := jwt.DecodeAccountClaims(tok)
				if err != nil {
					results = append(results, pullResult{PublicKey: k, Action: "skipped: not a valid account JWT: " + err.Error()})
					continue
				}
				if !oc.DidSign(ac) {
					results = append(results, pullResult{Account: ac.Name, PublicKey: k, Action: "skipped: not signed by operator " + op.Name})
					continue
				}
				r := pullResult{Account: ac.Name, PublicKey: k, Action: "stored"}
				if name, local, err := op.AccountByKey(k); err == nil {
					if name != ac.Name {
						r.Action = "stored under the local name " + name
					}
					r.Account = name
					if local.IssuedAt > ac.IssuedAt && !overwrite {
						r.Action = "kept the store's newer JWT"
						results = append(results, r)
						continue
					}
				} else if op.HasAccount(ac.Name) {
					r.Action = fmt.Sprintf("skipped: the store has another account named %q", ac.Name)
					results = append(results, r)
					continue
				}
				if err := authutil.ValidName("account", r.Account); err != nil {
					return err
				}
				if err := saveRaw(op, r.Account, tok); err != nil {
					return err
				}
				results = append(results, r)
			}
			if asJSON {
				return cmdutil.WriteJSON(f.IO.Out, results)
			}
			for _, r := range results {
				fmt.Fprintf(f.IO.ErrOut, "account %q (%s): %s\n", r.Account, r.PublicKey, r.Action)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&operator, "operator", "o", "", "operator (default: the current one)")
	fl.StringVarP(&account, "account", "a", "", "account to pull (default: the current one)")
	fl.BoolVarP(&all, "all", "A", false, "pull every account the resolver holds")
	fl.BoolVar(&overwrite, "overwrite-newer", false, "replace the store's JWT even when it is newer")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}
