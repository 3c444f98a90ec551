package tlsconf

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
)

// UserMap finds the user a client certificate names under verify_and_map.
// Build it once per configuration: it parses the user names that are
// written as distinguished names.
type UserMap struct {
	names map[string]bool
	dns   []namedDN // users whose name parses as a DN, in configured order
}

type namedDN struct {
	name string
	dn   DN
}

// NewUserMap indexes the configured user names.
func NewUserMap(users []string) *UserMap {
	m := &UserMap{names: make(map[string]bool, len(users))}
	for _, u := range users {
		m.names[u] = true
		if dn, err := ParseDN(u); err == nil {
			m.dns = append(m.dns, namedDN{u, dn})
		}
	}
	return m
}

// Lookup returns the user cert names, and what in the certificate named
// it, trying in nats-server's order:
//
//  1. each e-mail address, DNS name and URI of the certificate, as text;
//  2. the subject as a DN: a user whose name is the same DN, then one
//     with the same RDNs in another order;
//  3. the subject as Go writes it (RFC 2253 style), with its domain
//     components appended when it has any, then without them.
//
// allowed, if not nil, passes over users that may not connect this way;
// lookup goes on with the next candidate.
func (m *UserMap) Lookup(cert *x509.Certificate, allowed func(user string) bool) (user, via string, ok bool) {
	if cert == nil {
		return "", "", false
	}
	usable := func(u string) bool { return m.names[u] && (allowed == nil || allowed(u)) }
	for _, c := range altNames(cert) {
		if usable(c.name) {
			return c.name, c.via, true
		}
	}
	if subject, err := SubjectDN(cert.RawSubject); err == nil && len(subject) > 0 {
		for _, u := range m.dns {
			if u.dn.Equal(subject) && usable(u.name) {
				return u.name, "subject DN", true
			}
		}
		for _, u := range m.dns {
			if u.dn.SameRDNs(subject) && usable(u.name) {
				return u.name, "subject DN", true
			}
		}
	}
	for _, s := range subjectNames(cert) {
		if usable(s) {
			return s, "subject", true
		}
	}
	return "", "", false
}

// MapIdentities lists the names verify_and_map may find a user under as
// text, in the order they are tried (the DN comparison of Lookup aside):
// for logs and tests.
func MapIdentities(cert *x509.Certificate) []string {
	if cert == nil {
		return nil
	}
	var ids []string
	for _, c := range altNames(cert) {
		ids = append(ids, c.name)
	}
	return append(ids, subjectNames(cert)...)
}

type candidate struct{ name, via string }

// altNames are the certificate's e-mail addresses, DNS names and URIs.
func altNames(cert *x509.Certificate) []candidate {
	out := make([]candidate, 0, len(cert.EmailAddresses)+len(cert.DNSNames)+len(cert.URIs))
	for _, e := range cert.EmailAddresses {
		out = append(out, candidate{e, "email"})
	}
	for _, d := range cert.DNSNames {
		out = append(out, candidate{d, "DNS name"})
	}
	for _, u := range cert.URIs {
		out = append(out, candidate{u.String(), "URI"})
	}
	return out
}

// subjectNames is the subject as text: first with the domain components
// Go's pkix.Name leaves out appended (only when it has any), then without.
func subjectNames(cert *x509.Certificate) []string {
	subject := cert.Subject.ToRDNSequence().String()
	var out []string
	if dcs := domainComponents(cert.RawSubject); dcs != "" {
		out = append(out, subject+","+dcs)
	}
	if subject != "" {
		out = append(out, subject)
	}
	return out
}

// oidDomainComponent is DC (RFC 4519), which pkix.Name does not keep in
// its parsed fields.
var oidDomainComponent = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}

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
