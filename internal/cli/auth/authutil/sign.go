package authutil

import (
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/keystore"
)

// SaveAccount validates ac, signs it with the operator's key or a
// signing key and writes it.
func (s *Store) SaveAccount(op *keystore.Operator, oc *jwt.OperatorClaims, ac *jwt.AccountClaims, keyFlag string) (string, string, error) {
	if err := ValidateClaims(ac); err != nil {
		return "", "", err
	}
	kp, err := s.OperatorSigner(op, oc, keyFlag, true)
	if err != nil {
		return "", "", err
	}
	tok, err := ac.Encode(kp)
	if err != nil {
		return "", "", err
	}
	path, err := op.SaveAccount(tok)
	return tok, path, err
}

// SaveOperator validates oc, signs it with the operator's own key and
// writes it.
func (s *Store) SaveOperator(op *keystore.Operator, oc *jwt.OperatorClaims, keyFlag string) (string, error) {
	if err := ValidateClaims(oc); err != nil {
		return "", err
	}
	kp, err := s.OperatorIdentity(op, oc, keyFlag)
	if err != nil {
		return "", err
	}
	tok, err := oc.Encode(kp)
	if err != nil {
		return "", err
	}
	return tok, op.SaveJWT(tok)
}

// SaveUser validates uc, signs it with the key that signed it before
// when that is still the account's (or a signing key of it), else as
// AccountSigner chooses, and writes it.
func (s *Store) SaveUser(op *keystore.Operator, strict bool, account string, ac *jwt.AccountClaims, uc *jwt.UserClaims, keyFlag string) (string, error) {
	var kp nkeys.KeyPair
	var isSK bool
	var err error
	if keyFlag == "" && uc.Issuer != "" && s.Env.Keys.Has(uc.Issuer) &&
		((uc.Issuer == ac.Subject && !strict) || ac.SigningKeys.Contains(uc.Issuer)) {
		kp, err = s.Env.Keys.Get(uc.Issuer)
		isSK = uc.Issuer != ac.Subject
	} else {
		kp, isSK, err = s.AccountSigner(account, ac, keyFlag, strict)
	}
	if err != nil {
		return "", err
	}
	uc.IssuerAccount = ""
	if isSK {
		uc.IssuerAccount = ac.Subject
	}
	if err := ValidateClaims(uc); err != nil {
		return "", err
	}
	tok, err := uc.Encode(kp)
	if err != nil {
		return "", err
	}
	_, err = op.SaveUser(account, tok)
	return tok, err
}

// ValidateClaims runs the claims' own checks and fails on the blocking
// ones as a usage error.
func ValidateClaims(c jwt.Claims) error {
	var vr jwt.ValidationResults
	c.Validate(&vr)
	if errs := vr.Errors(); len(errs) > 0 {
		return &cmdutil.UsageError{Err: errs[0]}
	}
	return nil
}
