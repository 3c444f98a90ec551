package tlsconf

import (
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
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

// oidDomainComponent is DC (RFC 4519), which pkix.Name does not keep in
// its parsed fields.
var oidDomainComponent = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}

// MapIdentities lists the names verify_and_map may find a user under, in
// the order nats-server tries them: e-mail addresses, DNS names and URIs
// from the certificate, then the subject in RFC 2253 form, first with the
// domain components appended (only when it has any) and then without.
// Matching a user written as a DN with its attributes in another order is
// left to the caller, which can parse cert.RawSubject.
func MapIdentities(cert *x509.Certificate) []string {
	if cert == nil {
		return nil
	}
	ids := make([]string, 0, len(cert.EmailAddresses)+len(cert.DNSNames)+len(cert.URIs)+2)
	ids = append(ids, cert.EmailAddresses...)
	ids = append(ids, cert.DNSNames...)
	for _, u := range cert.URIs {
		ids = append(ids, u.String())
	}
	subject := cert.Subject.ToRDNSequence().String()
	if dcs := domainComponents(cert.RawSubject); dcs != "" {
		ids = append(ids, subject+","+dcs)
	}
	if subject != "" {
		ids = append(ids, subject)
	}
	return ids
}

// domainComponents returns the subject's DC attributes as "DC=a,DC=b", in
// the order the certificate has them.
func domainComponents(rawSubject []byte) string {
	var rdns pkix.RDNSequence
	if _, err := asn1.Unmarshal(rawSubject, &rdns); err != nil {
		return ""
	}
	var dcs []string
	for _, rdn := range rdns {
		for _, atv := range rdn {
			if v, ok := atv.Value.(string); ok && atv.Type.Equal(oidDomainComponent) {
				dcs = append(dcs, "DC="+v)
			}
		}
	}
	return strings.Join(dcs, ",")
}
