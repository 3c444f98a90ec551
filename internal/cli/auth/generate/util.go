package generate

import (
	"strings"

	"github.com/nats-io/jwt/v2"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/keystore"
)

func splitSubject(s string) []string   { return strings.Split(s, ".") }
func joinSubject(toks []string) string { return strings.Join(toks, ".") }

func accountByName(st *authutil.Store, op *keystore.Operator, name string) (string, *jwt.AccountClaims, string, error) {
	ac, tok, err := op.Account(name)
	if err != nil {
		return "", nil, "", authutil.Err(err)
	}
	return name, ac, tok, nil
}
