// Package revocations is `sluice auth revocations`: revoke users'
// keys in their account and importers' activations of an export.
// Revocations are part of the account JWT: push it for servers to know.
package revocations

import (
	"fmt"
	"sort"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/keystore"
)

// New returns `auth revocations` and its verbs.
func New(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "revocations",
		Aliases: []string{"revoke"},
		Short:   "Revoke users and activations, list and undo revocations",
	}
	cmd.AddCommand(newAddUser(f), newDeleteUser(f), newListUsers(f),
		newAddActivation(f), newDeleteActivation(f), newListActivations(f))
	return cmd
}

type common struct {
	operator, account, privKey string
	json                       bool
}

func (c *common) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVarP(&c.operator, "operator", "o", "", "operator (default: the current one)")
	fl.StringVarP(&c.account, "account", "a", "", "account (default: the current one)")
	fl.StringVarP(&c.privKey, "private-key", "K", "", "operator key to sign the account with")
}

type loaded struct {
	st  *authutil.Store
	op  *keystore.Operator
	oc  *jwt.OperatorClaims
	acc string
	ac  *jwt.AccountClaims
}

func (c *common) load(f *cmdutil.Factory, cmd *cobra.Command) (*loaded, error) {
	st, err := authutil.Open(f, cmd)
	if err != nil {
		return nil, err
	}
	op, oc, err := st.Operator(c.operator)
	if err != nil {
		return nil, err
	}
	acc, ac, err := st.Account(op, c.account)
	if err != nil {
		return nil, err
	}
	return &loaded{st, op, oc, acc, ac}, nil
}

func (l *loaded) save(c *common) error {
	_, _, err := l.st.SaveAccount(l.op, l.oc, l.ac, c.privKey)
	return err
}

// userKey is the public key of --name (a user of the account) or
// --user-public-key; "*" revokes every user.
func (l *loaded) userKey(name, pub string) (string, error) {
	if pub != "" {
		if pub == jwt.All {
			return pub, nil
		}
		return authutil.PublicKey(pub, nkeys.PrefixByteUser, "--user-public-key")
	}
	if name == "" {
		return "", cmdutil.FlagErrorf("--name or --user-public-key is required")
	}
	uc, _, err := l.op.User(l.acc, name)
	if err != nil {
		return "", authutil.Err(err)
	}
	return uc.Subject, nil
}

// at reads --at: a time (see ParseDate) or now.
func at(v string) (time.Time, error) {
	if v == "" || v == "0" {
		return time.Now(), nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	n, err := authutil.ParseDate("at", v, time.Now())
	if err != nil {
		return time.Time{}, &cmdutil.UsageError{Err: err}
	}
	return time.Unix(n, 0), nil
}

type revocation struct {
	PublicKey string `json:"public_key"`
	Name      string `json:"name,omitempty"`
	Before    string `json:"revoked_before"`
	Unix      int64  `json:"revoked_before_unix"`
}

func writeList(f *cmdutil.Factory, asJSON bool, title string, revs jwt.RevocationList, names map[string]string) error {
	var out []revocation
	for k, v := range revs {
		out = append(out, revocation{PublicKey: k, Name: names[k], Before: time.Unix(v, 0).UTC().Format(time.RFC3339), Unix: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PublicKey < out[j].PublicKey })
	if asJSON {
		if out == nil {
			out = []revocation{}
		}
		return cmdutil.WriteJSON(f.IO.Out, out)
	}
	if len(out) == 0 {
		fmt.Fprintf(f.IO.ErrOut, "%s: none\n", title)
		return nil
	}
	t := cmdutil.NewTable(f.IO, title)
	t.AddHeader("Public Key", "Name", "Revoked Before")
	for _, r := range out {
		t.AddRow(r.PublicKey, r.Name, r.Before)
	}
	t.Render()
	return nil
}
