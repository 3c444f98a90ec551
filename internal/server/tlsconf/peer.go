package tlsconf

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"
)

// PinnedCerts is the pinned_certs set: the lowercase hex SHA-256 of the DER
// SubjectPublicKeyInfo of each certificate allowed to connect. Pinning the
// key rather than the whole certificate lets a pinned key be re-certified.
type PinnedCerts map[string]struct{}

// ParsePin checks one pinned_certs entry and returns it in the form the
// set keys by.
func ParsePin(s string) (string, error) {
	k := strings.ToLower(s)
	if len(k) != 2*sha256.Size {
		return "", notAPin(k)
	}
	if _, err := hex.DecodeString(k); err != nil {
		return "", notAPin(k)
	}
	return k, nil
}

func notAPin(k string) error {
	return fmt.Errorf("'pinned_certs' key %s does not look like hex-encoded sha256 of DER encoded SubjectPublicKeyInfo", k)
}

// KeyID is the value pinned_certs lists for cert.
func KeyID(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(sum[:])
}

// Allows reports whether the leaf of a peer chain is pinned. An empty set
// pins nothing, so it allows everyone; a peer without a certificate is
// refused by a non-empty set.
func (p PinnedCerts) Allows(chain []*x509.Certificate) bool {
	if len(p) == 0 {
		return true
	}
	if len(chain) == 0 || chain[0] == nil {
		return false
	}
	_, ok := p[KeyID(chain[0])]
	return ok
}
