package authcmd

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/keystore"
)

type pushResult struct {
	Account   string `json:"account"`
	PublicKey string `json:"public_key"`
	Server    string `json:"server"`
	OK        bool   `json:"ok"`
	Message   string `json:"message"`
}

// NewCmdPush builds `auth push`.
func NewCmdPush(f *cmdutil.Factory) *cobra.Command {
	var operator, account, privKey string
	var all, prune, asJSON bool
	cmd := &cobra.Command{
		Use:   "push",
		Short: "Send account JWTs to the servers' resolver; --prune deletes the ones not in the store",
		Long: `Send account JWTs to a running server's account resolver
($SYS.REQ.CLAIMS.UPDATE) as a system account user: the operator's account
server URL (or --server) and the first system account user with creds in
the keystore (or --creds). --prune lists the server's accounts
($SYS.REQ.CLAIMS.LIST) and deletes those the store does not have
($SYS.REQ.CLAIMS.DELETE, signed by the operator; the resolver needs
allow_delete).`,
		Example: `  sluice auth push -a orders
  sluice auth push -A --server nats://n1:4222
  sluice auth push -A --prune`,
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
			var names []string
			if all || prune {
				if names, err = op.Accounts(); err != nil {
					return err
				}
			} else {
				acc, _, err := st.Account(op, account)
				if err != nil {
					return err
				}
				names = []string{acc}
			}
			nc, timeout, err := resolverConn(f, st, op, oc)
			if err != nil {
				return err
			}
			defer nc.Close()
			var results []pushResult
			failed := false
			var keys []string
			for _, n := range names {
				ac, tok, err := op.Account(n)
				if err != nil {
					return err
				}
				keys = append(keys, ac.Subject)
				replies, err := gather(nc, subjClaimsUpdate, []byte(tok), timeout)
				if err != nil {
					return err
				}
				for _, raw := range replies {
					r := pushResult{Account: n, PublicKey: ac.Subject}
					var rep serverReply
					if err := json.Unmarshal(raw, &rep); err != nil {
						r.Message = fmt.Sprintf("unreadable reply: %q", raw)
					} else {
						r.Server = rep.Server.Name
						var d updateData
						json.Unmarshal(rep.Data, &d)
						r.OK, r.Message = rep.Error == nil && d.Code < 300, d.Message
						if rep.Error != nil {
							r.Message = rep.Error.Description
						}
					}
					failed = failed || !r.OK
					results = append(results, r)
				}
			}
			if prune {
				pruned, err := pruneAccounts(st, op, oc, nc, keys, privKey, timeout)
				if err != nil {
					return err
				}
				results = append(results, pruned...)
				for _, r := range pruned {
					failed = failed || !r.OK
				}
			}
			if asJSON {
				if err := cmdutil.WriteJSON(f.IO.Out, results); err != nil {
					return err
				}
			} else {
				for _, r := range results {
					mark := "OK"
					if !r.OK {
						mark = "FAILED"
					}
					fmt.Fprintf(f.IO.ErrOut, "[%s] %s %q (%s) on %s: %s\n", mark, "account", r.Account, r.PublicKey, r.Server, r.Message)
				}
			}
			if failed {
				return &cmdutil.SilentError{Code: cmdutil.ExitError}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&operator, "operator", "o", "", "operator (default: the current one)")
	fl.StringVarP(&account, "account", "a", "", "account to push (default: the current one)")
	fl.BoolVarP(&all, "all", "A", false, "push every account")
	fl.BoolVarP(&prune, "prune", "P", false, "push every account and delete from the resolver those not in the store")
	fl.StringVarP(&privKey, "private-key", "K", "", "operator key to sign the delete request with")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

func pruneAccounts(st *authutil.Store, op *keystore.Operator, oc *jwt.OperatorClaims, nc *nats.Conn, keep []string, privKey string, timeout time.Duration) ([]pushResult, error) {
	replies, err := gather(nc, subjClaimsList, nil, timeout)
	if err != nil {
		return nil, err
	}
	var remove []string
	for _, raw := range replies {
		var rep serverReply
		var list []string
		if json.Unmarshal(raw, &rep) == nil && json.Unmarshal(rep.Data, &list) == nil {
			for _, k := range list {
				if !slices.Contains(keep, k) && k != oc.SystemAccount && !slices.Contains(remove, k) {
					remove = append(remove, k)
				}
			}
		}
	}
	if len(remove) == 0 {
		return nil, nil
	}
	kp, err := st.OperatorSigner(op, oc, privKey, false)
	if err != nil {
		return nil, err
	}
	pub, _ := kp.PublicKey()
	gc := jwt.NewGenericClaims(pub)
	gc.Data["accounts"] = remove
	tok, err := gc.Encode(kp)
	if err != nil {
		return nil, err
	}
	replies, err = gather(nc, subjClaimsDelete, []byte(tok), timeout)
	if err != nil {
		return nil, err
	}
	var out []pushResult
	for _, raw := range replies {
		var rep serverReply
		r := pushResult{Account: "(prune)", PublicKey: fmt.Sprint(remove)}
		if err := json.Unmarshal(raw, &rep); err != nil {
			r.Message = fmt.Sprintf("unreadable reply: %q", raw)
		} else {
			var d updateData
			json.Unmarshal(rep.Data, &d)
			r.Server, r.OK, r.Message = rep.Server.Name, rep.Error == nil, d.Message
			if rep.Error != nil {
				r.Message = rep.Error.Description
			}
		}
		out = append(out, r)
	}
	return out, nil
}
