package authutil

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/keystore"
)

// ResolveKey turns a --private-key value into a key pair: a seed, a file
// holding a seed (or creds), or a public key whose seed is in the store.
func (s *Store) ResolveKey(v string) (nkeys.KeyPair, error) {
	v = strings.TrimSpace(v)
	if kp, err := nkeys.FromSeed([]byte(v)); err == nil {
		return kp, nil
	}
	if nkeys.IsValidPublicKey(v) {
		kp, err := s.Env.Keys.Get(v)
		return kp, Err(err)
	}
	b, err := os.ReadFile(v)
	if err != nil {
		return nil, cmdutil.FlagErrorf("--private-key %q is not a seed, a public key or a readable file", v)
	}
	if kp, err := nkeys.FromSeed(bytes.TrimSpace(b)); err == nil {
		return kp, nil
	}
	if kp, err := nkeys.ParseDecoratedNKey(b); err == nil {
		return kp, nil
	}
	return nil, fmt.Errorf("%s: holds no seed", v)
}

// PublicKey turns a --public-key value into a public key of the given
// kind: a public key, a seed or a file holding either.
func PublicKey(v string, kind nkeys.PrefixByte, flag string) (string, error) {
	v = strings.TrimSpace(v)
	if b, err := os.ReadFile(v); err == nil {
		v = strings.TrimSpace(string(b))
	}
	if kp, err := nkeys.FromSeed([]byte(v)); err == nil {
		v, _ = kp.PublicKey()
	}
	if !nkeys.IsValidPublicKey(v) {
		return "", cmdutil.FlagErrorf("%s: %q is not a public key", flag, v)
	}
	if got := nkeys.Prefix(v); got != kind {
		return "", cmdutil.FlagErrorf("%s: %s is a key of the wrong kind: want %s, got %s", flag, v, kindName(kind), kindName(got))
	}
	return v, nil
}

func kindName(k nkeys.PrefixByte) string {
	switch k {
	case nkeys.PrefixByteOperator:
		return "an operator key (O...)"
	case nkeys.PrefixByteAccount:
		return "an account key (A...)"
	case nkeys.PrefixByteUser:
		return "a user key (U...)"
	case nkeys.PrefixByteServer:
		return "a server key (N...)"
	case nkeys.PrefixByteCluster:
		return "a cluster key (C...)"
	case nkeys.PrefixByteCurve:
		return "a curve key (X...)"
	}
	return k.String()
}

// KeyKind checks that kp is of kind, naming flag in the error.
func KeyKind(kp nkeys.KeyPair, kind nkeys.PrefixByte, flag string) error {
	pub, _ := kp.PublicKey()
	if got := nkeys.Prefix(pub); got != kind {
		return cmdutil.FlagErrorf("%s: %s is a key of the wrong kind: want %s, got %s", flag, pub, kindName(kind), kindName(got))
	}
	return nil
}

// OperatorSigner finds the key to sign an account (or an operator-signed
// token) with: --private-key when given, which must be the operator's
// key or one of its signing keys, else the identity key, else a stored
// signing key. Operators that require signing keys never use the
// identity key for accounts.
func (s *Store) OperatorSigner(op *keystore.Operator, oc *jwt.OperatorClaims, keyFlag string, forAccount bool) (nkeys.KeyPair, error) {
	if keyFlag != "" {
		kp, err := s.ResolveKey(keyFlag)
		if err != nil {
			return nil, err
		}
		pub, _ := kp.PublicKey()
		if pub != oc.Subject && !oc.SigningKeys.Contains(pub) {
			return nil, cmdutil.FlagErrorf("--private-key %s is neither operator %q's key nor one of its signing keys", pub, op.Name)
		}
		return kp, nil
	}
	cands := []string{}
	if !(forAccount && oc.StrictSigningKeyUsage) {
		cands = append(cands, oc.Subject)
	}
	cands = append(cands, oc.SigningKeys...)
	for _, pub := range cands {
		if s.Env.Keys.Has(pub) {
			kp, err := s.Env.Keys.Get(pub)
			if err != nil {
				return nil, err
			}
			return kp, nil
		}
	}
	return nil, cmdutil.WithHint(cmdutil.ExitError,
		fmt.Errorf("no private key of operator %q (%s) in %s", op.Name, strings.Join(cands, ", "), s.Env.Keys.KeyPath(oc.Subject)),
		"import the seed into the keystore or pass --private-key")
}

// OperatorIdentity returns the operator's own key, needed to sign the
// operator JWT itself.
func (s *Store) OperatorIdentity(op *keystore.Operator, oc *jwt.OperatorClaims, keyFlag string) (nkeys.KeyPair, error) {
	if keyFlag != "" {
		kp, err := s.ResolveKey(keyFlag)
		if err != nil {
			return nil, err
		}
		if pub, _ := kp.PublicKey(); pub != oc.Subject {
			return nil, cmdutil.FlagErrorf("--private-key %s is not operator %q's key %s", pub, op.Name, oc.Subject)
		}
		return kp, nil
	}
	kp, err := s.Env.Keys.Get(oc.Subject)
	if err != nil {
		var nf *keystore.NotFoundError
		if errors.As(err, &nf) {
			return nil, cmdutil.WithHint(cmdutil.ExitError,
				fmt.Errorf("operator %q's private key %s is missing: %s", op.Name, oc.Subject, nf.Path),
				"restore it or pass --private-key")
		}
		return nil, err
	}
	return kp, nil
}

// AccountIdentity returns the account's own key, from --private-key or
// the keystore.
func (s *Store) AccountIdentity(name string, ac *jwt.AccountClaims, keyFlag string) (nkeys.KeyPair, error) {
	if keyFlag != "" {
		kp, err := s.ResolveKey(keyFlag)
		if err != nil {
			return nil, err
		}
		if pub, _ := kp.PublicKey(); pub != ac.Subject {
			return nil, cmdutil.FlagErrorf("--private-key %s is not account %q's key %s", pub, name, ac.Subject)
		}
		return kp, nil
	}
	kp, err := s.Env.Keys.Get(ac.Subject)
	if err != nil {
		var nf *keystore.NotFoundError
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("account %q's private key %s is missing: %s", name, ac.Subject, nf.Path)
		}
		return nil, err
	}
	return kp, nil
}

// AccountSigner finds the key to sign a user or activation with:
// --private-key (the account's key or a signing key), else the
// account's key, else a stored signing key. It reports whether the key
// is a signing key, which makes the user carry issuer_account. When the
// operator requires signing keys (strict), the account's own key is not
// used.
func (s *Store) AccountSigner(name string, ac *jwt.AccountClaims, keyFlag string, strict bool) (nkeys.KeyPair, bool, error) {
	if keyFlag != "" {
		kp, err := s.ResolveKey(keyFlag)
		if err != nil {
			return nil, false, err
		}
		pub, _ := kp.PublicKey()
		if pub == ac.Subject {
			if strict {
				return nil, false, cmdutil.FlagErrorf("--private-key %s is account %q's own key, but the operator requires signing keys", pub, name)
			}
			return kp, false, nil
		}
		if _, ok := ac.SigningKeys[pub]; !ok {
			return nil, false, cmdutil.FlagErrorf("--private-key %s is neither account %q's key nor one of its signing keys", pub, name)
		}
		return kp, true, nil
	}
	if s.Env.Keys.Has(ac.Subject) && !strict {
		kp, err := s.Env.Keys.Get(ac.Subject)
		return kp, false, err
	}
	keys := ac.SigningKeys.Keys()
	sort.Strings(keys)
	for _, pub := range keys {
		// Scoped keys only when asked for by --private-key.
		if scope, _ := ac.SigningKeys.GetScope(pub); scope == nil && s.Env.Keys.Has(pub) {
			kp, err := s.Env.Keys.Get(pub)
			return kp, true, err
		}
	}
	if strict {
		return nil, false, cmdutil.WithHint(cmdutil.ExitError,
			fmt.Errorf("the operator requires signing keys and account %q has no unscoped signing key in the keystore", name),
			"add one with 'sluice auth add signing-key -a %s'", name)
	}
	return nil, false, cmdutil.WithHint(cmdutil.ExitError,
		fmt.Errorf("no private key of account %q: %s is missing", name, s.Env.Keys.KeyPath(ac.Subject)),
		"import the seed into the keystore or pass --private-key")
}
