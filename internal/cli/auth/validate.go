package authcmd

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/keystore"
)

type issue struct {
	Entity  string `json:"entity"`
	Name    string `json:"name"`
	File    string `json:"file,omitempty"`
	Blocker bool   `json:"blocking"`
	Message string `json:"message"`
}

// NewCmdValidate builds `auth validate`.
func NewCmdValidate(f *cmdutil.Factory) *cobra.Command {
	var operator, account, file string
	var all, asJSON bool
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the operator, accounts and users: signatures, signers, expiry, claims",
		Long: `Check the current operator and account (-A: every account) and their
users: each JWT decodes and its signature holds, it is signed by its
parent's key or one of its signing keys, it has not expired, and its
claims pass their own checks. --file checks one JWT file instead. Exits
1 when a blocking issue is found.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var issues []issue
			if file != "" {
				issues = validateFile(file)
			} else {
				st, err := authutil.Open(f, cmd)
				if err != nil {
					return err
				}
				name := operator
				if name == "" {
					name = st.Env.Config.Operator
				}
				op, err := st.Env.Operator(name)
				if err != nil {
					return authutil.Err(err)
				}
				if !all && account == "" {
					account = st.Env.Config.Account
				}
				if !all && account == "" {
					all = true
				}
				issues = validateStore(op, account, all)
			}
			blocking := 0
			for _, i := range issues {
				if i.Blocker {
					blocking++
				}
			}
			if asJSON {
				if issues == nil {
					issues = []issue{}
				}
				if err := cmdutil.WriteJSON(f.IO.Out, issues); err != nil {
					return err
				}
			} else if len(issues) == 0 {
				fmt.Fprintln(f.IO.ErrOut, "No issues found")
			} else {
				t := cmdutil.NewTable(f.IO, "Issues")
				t.AddHeader("Entity", "Name", "Blocking", "Issue")
				for _, i := range issues {
					msg := i.Message
					if i.File != "" {
						msg = i.File + ": " + msg
					}
					t.AddRow(i.Entity, i.Name, yesNo(i.Blocker), msg)
				}
				t.Render()
			}
			if blocking > 0 {
				return &cmdutil.SilentError{Code: cmdutil.ExitError}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&operator, "operator", "o", "", "operator (default: the current one)")
	fl.StringVarP(&account, "account", "a", "", "account (default: the current one)")
	fl.BoolVarP(&all, "all-accounts", "A", false, "every account")
	fl.StringVarP(&file, "file", "f", "", "check this JWT file only")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func validateFile(path string) []issue {
	b, err := os.ReadFile(path)
	if err != nil {
		return []issue{{Entity: "file", Name: path, Blocker: true, Message: err.Error()}}
	}
	c, err := jwt.Decode(strings.TrimSpace(string(b)))
	if err != nil {
		return []issue{{Entity: "file", Name: path, File: path, Blocker: true, Message: err.Error()}}
	}
	return claimIssues(string(c.ClaimType()), c.Claims().Name, path, c)
}

// claimIssues runs the claims' own checks and the expiry check.
func claimIssues(entity, name, path string, c jwt.Claims) []issue {
	var out []issue
	var vr jwt.ValidationResults
	c.Validate(&vr)
	for _, i := range vr.Issues {
		out = append(out, issue{Entity: entity, Name: name, File: path, Blocker: i.Blocking || (i.TimeCheck && strings.Contains(i.Description, "expired")), Message: i.Description})
	}
	cd := c.Claims()
	if cd.Expires > 0 && cd.Expires < time.Now().Unix() && !hasMsg(out, "expired") {
		out = append(out, issue{Entity: entity, Name: name, File: path, Blocker: true, Message: "expired on " + authutil.UnixDate(cd.Expires)})
	}
	return out
}

func hasMsg(list []issue, s string) bool {
	for _, i := range list {
		if strings.Contains(strings.ToLower(i.Message), s) {
			return true
		}
	}
	return false
}

func validateStore(op *keystore.Operator, only string, all bool) []issue {
	oc, _, err := op.Claims()
	if err != nil {
		return []issue{{Entity: "operator", Name: op.Name, Blocker: true, Message: err.Error()}}
	}
	out := claimIssues("operator", op.Name, op.JWTPath(), oc)
	if oc.Issuer != oc.Subject {
		out = append(out, issue{Entity: "operator", Name: op.Name, File: op.JWTPath(), Blocker: true, Message: "not self-signed"})
	}
	accs, err := op.Accounts()
	if err != nil {
		return append(out, issue{Entity: "operator", Name: op.Name, Blocker: true, Message: err.Error()})
	}
	sysFound := oc.SystemAccount == ""
	for _, a := range accs {
		ac, _, err := op.Account(a)
		if err != nil {
			if all || a == only {
				out = append(out, issue{Entity: "account", Name: a, Blocker: true, Message: err.Error()})
			}
			continue
		}
		if ac.Subject == oc.SystemAccount {
			sysFound = true
		}
		if !all && a != only {
			continue
		}
		out = append(out, claimIssues("account", a, op.AccountPath(a), ac)...)
		if !oc.DidSign(ac) {
			out = append(out, issue{Entity: "account", Name: a, File: op.AccountPath(a), Blocker: true,
				Message: fmt.Sprintf("signed by %s, which is neither operator %q's key nor a signing key of it", ac.Issuer, op.Name)})
		} else if oc.StrictSigningKeyUsage && ac.Issuer == oc.Subject {
			out = append(out, issue{Entity: "account", Name: a, File: op.AccountPath(a), Blocker: true,
				Message: "signed by the operator's key but the operator requires signing keys"})
		}
		users, _ := op.Users(a)
		for _, u := range users {
			path := op.UserPath(a, u)
			uc, _, err := op.User(a, u)
			if err != nil {
				out = append(out, issue{Entity: "user", Name: u, Blocker: true, Message: err.Error()})
				continue
			}
			out = append(out, claimIssues("user", u, path, uc)...)
			if !ac.DidSign(uc) {
				out = append(out, issue{Entity: "user", Name: u, File: path, Blocker: true,
					Message: fmt.Sprintf("signed by %s, which is neither account %q's key nor a signing key of it", uc.Issuer, a)})
			}
			if oc.StrictSigningKeyUsage && uc.Issuer == ac.Subject {
				out = append(out, issue{Entity: "user", Name: u, File: path, Blocker: true,
					Message: "signed by the account's key but the operator requires signing keys"})
			}
			if ac.IsClaimRevoked(uc) {
				out = append(out, issue{Entity: "user", Name: u, File: path, Blocker: false, Message: "revoked in the account"})
			}
		}
	}
	if !sysFound {
		out = append(out, issue{Entity: "operator", Name: op.Name, File: op.JWTPath(), Blocker: false,
			Message: "the system account " + oc.SystemAccount + " is not in the store"})
	}
	return out
}
