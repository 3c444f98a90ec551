package jwt

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	njwt "github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

// ReadOperator reads an operator JWT from a file, or takes s as the JWT
// itself when it is no file and looks like one (nats-server accepts both).
// The JWT must be self-signed and valid.
func ReadOperator(s string) (string, *njwt.OperatorClaims, error) {
	raw := s
	if b, err := os.ReadFile(s); err == nil {
		raw = string(b)
	} else if !strings.HasPrefix(strings.TrimSpace(s), "eyJ") {
		return "", nil, fmt.Errorf("reading operator JWT %q: %w", s, err)
	}
	tok, err := njwt.ParseDecoratedJWT([]byte(raw))
	if err != nil {
		return "", nil, fmt.Errorf("operator JWT: %w", err)
	}
	oc, err := njwt.DecodeOperatorClaims(tok)
	if err != nil {
		return "", nil, fmt.Errorf("operator JWT: %w", err)
	}
	if oc.Issuer != oc.Subject {
		return "", nil, errors.New("operator JWT: not self-signed")
	}
	vr := njwt.CreateValidationResults()
	oc.Validate(vr)
	if vr.IsBlocking(true) {
		return "", nil, fmt.Errorf("operator JWT: %v", vr.Errors())
	}
	return tok, oc, nil
}

// Trust is the set of keys allowed to sign account JWTs: the trusted
// operators' identities and signing keys, and trusted_keys.
type Trust struct {
	Operators []*njwt.OperatorClaims
	keys      map[string]bool
	// identities of operators that demand signing keys for accounts
	strict map[string]bool
}

// NewTrust builds the trust from operators and plain trusted keys.
func NewTrust(ops []*njwt.OperatorClaims, trustedKeys []string) (*Trust, error) {
	t := &Trust{Operators: ops, keys: map[string]bool{}, strict: map[string]bool{}}
	for _, k := range trustedKeys {
		if !nkeys.IsValidPublicOperatorKey(k) {
			return nil, fmt.Errorf("trusted key %q is not a valid public operator nkey", k)
		}
		t.keys[k] = true
	}
	for _, oc := range ops {
		t.keys[oc.Subject] = true
		for _, sk := range oc.SigningKeys {
			t.keys[sk] = true
		}
		if oc.StrictSigningKeyUsage {
			t.strict[oc.Subject] = true
		}
	}
	return t, nil
}

// Enabled reports whether the server runs in operator mode.
func (t *Trust) Enabled() bool { return t != nil && len(t.keys) > 0 }

// IsTrusted reports whether issuer may sign account JWTs.
func (t *Trust) IsTrusted(issuer string) bool {
	return t != nil && t.keys[issuer] && !t.strict[issuer]
}

// OperatorKeys are the keys of operators and their signing keys, those
// allowed to sign administrative requests such as CLAIMS.DELETE.
func (t *Trust) OperatorKeys() map[string]bool { return t.keys }

// Errors of account JWT checks; the text is what a pusher sees.
var (
	ErrNotTrusted = errors.New("issuer is not trusted by this server")
	ErrExpired    = errors.New("jwt has expired")
)

// DecodeAccount decodes an account JWT and checks its signature, its
// issuer against the trust and its validity (not its expiry: an expired
// account is known but its users are refused).
func (t *Trust) DecodeAccount(tok string) (*njwt.AccountClaims, error) {
	ac, err := njwt.DecodeAccountClaims(strings.TrimSpace(tok))
	if err != nil {
		return nil, err
	}
	if !t.IsTrusted(ac.Issuer) {
		if t.strict[ac.Issuer] {
			return ac, errors.New("operator requires issuer to be a signing key")
		}
		return ac, ErrNotTrusted
	}
	vr := njwt.CreateValidationResults()
	ac.Validate(vr)
	if errs := blocking(vr); len(errs) > 0 {
		return ac, fmt.Errorf("validation errors: %v", errs)
	}
	return ac, nil
}

// blocking lists the blocking validation errors other than time ones:
// expiry is judged at use, with the caller's clock.
func blocking(vr *njwt.ValidationResults) []error {
	var out []error
	for _, i := range vr.Issues {
		if i.Blocking && !i.TimeCheck {
			out = append(out, errors.New(i.Description))
		}
	}
	return out
}

// Expired reports whether claims with this expiry (unix seconds, 0 =
// never) have expired at now.
func Expired(exp int64, now time.Time) bool { return exp > 0 && now.Unix() >= exp }
