package tlsconf_test

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"reflect"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/server/tlsconf"
	"github.com/sluicehq/sluice/internal/testutil"
)

var (
	oidCN  = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidO   = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidOU  = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidC   = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidDC  = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}
	oidUID = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}
)

func atv(t asn1.ObjectIdentifier, v string) pkix.AttributeTypeAndValue {
	return pkix.AttributeTypeAndValue{Type: t, Value: v}
}

func TestParseDN(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want tlsconf.DN
	}{
		{"CN=app", tlsconf.DN{{{"CN", "app"}}}},
		{"CN=app,OU=ops,O=Acme", tlsconf.DN{{{"CN", "app"}}, {{"OU", "ops"}}, {{"O", "Acme"}}}},
		{" cn = app , o = Acme Inc ", tlsconf.DN{{{"cn", "app"}}, {{"o", "Acme Inc"}}}},
		{"CN=a+UID=7,O=x", tlsconf.DN{{{"CN", "a"}, {"UID", "7"}}, {{"O", "x"}}}},
		{`CN=Doe\, Jane,O=a\+b`, tlsconf.DN{{{"CN", "Doe, Jane"}}, {{"O", "a+b"}}}},
		{`CN=\ lead and trail\ `, tlsconf.DN{{{"CN", " lead and trail "}}}},
		{`CN=caf\C3\A9`, tlsconf.DN{{{"CN", "café"}}}},
		{`CN=a=b;c`, tlsconf.DN{{{"CN", "a=b;c"}}}},
		{`CN=`, tlsconf.DN{{{"CN", ""}}}},
	} {
		got, err := tlsconf.ParseDN(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseDN(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for in, msg := range map[string]string{
		"":                "empty DN",
		"alice":           `"alice" has no '='`,
		"app@example.com": "has no '='",
		"CN=a,":           "has no '='",
		"CN=a,,O=b":       "has no '='",
		"=x":              "attribute without a type",
		`CN=a\`:           "lone '\\'",
		`CN=a\4`:          "incomplete hex escape",
		`CN=a\zz`:         `bad escape \zz`,
		`C\N=a`:           "escape in an attribute type",
		"CN=#0403616263":  "hex (BER) attribute values are not supported",
	} {
		if _, err := tlsconf.ParseDN(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseDN(%q): %v, want %q", in, err, msg)
		}
	}
}

func TestDNMatching(t *testing.T) {
	dn := func(s string) tlsconf.DN {
		d, err := tlsconf.ParseDN(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	a := dn("CN=app,OU=ops,O=Acme")
	if !a.Equal(dn("cn=app, ou=ops, o=Acme")) {
		t.Error("types compare without case, spaces around values do not count")
	}
	if a.Equal(dn("CN=App,OU=ops,O=Acme")) {
		t.Error("values compare exactly")
	}
	if a.Equal(dn("O=Acme,OU=ops,CN=app")) || !a.SameRDNs(dn("O=Acme,OU=ops,CN=app")) {
		t.Error("reordered RDNs: not Equal, but SameRDNs")
	}
	if a.SameRDNs(dn("CN=app,OU=ops")) || a.SameRDNs(dn("CN=app,OU=ops,O=Acme,C=US")) {
		t.Error("a subset or superset is not a match")
	}
	if !dn("CN=a+UID=1,O=x").Equal(dn("UID=1+CN=a,O=x")) {
		t.Error("attributes of one RDN are a set")
	}
	if dn("CN=a+UID=1,O=x").SameRDNs(dn("CN=a,UID=1,O=x")) {
		t.Error("a multi-valued RDN is not the same as separate RDNs")
	}
	if !dn("OU=x,OU=x,O=y").SameRDNs(dn("O=y,OU=x,OU=x")) || dn("OU=x,OU=x,O=y").SameRDNs(dn("OU=x,O=y,O=y")) {
		t.Error("repeated RDNs are counted")
	}
}

func TestSubjectDN(t *testing.T) {
	ca := testutil.NewCA(t, "dn")
	leaf := ca.Issue(testutil.LeafSpec{Name: "multi", Client: true, RDNs: pkix.RDNSequence{
		{atv(oidDC, "com")}, {atv(oidDC, "example")}, {atv(oidO, "Acme")},
		{atv(oidCN, "app"), atv(oidOU, "ops")},
	}})
	got, err := tlsconf.SubjectDN(leaf.Cert.RawSubject)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := tlsconf.ParseDN("OU=ops+CN=app,O=Acme,DC=example,DC=com")
	if !got.Equal(want) {
		t.Fatalf("SubjectDN = %q, want %q (most specific first)", got, want)
	}
	odd := ca.Issue(testutil.LeafSpec{Name: "odd", Client: true, RDNs: pkix.RDNSequence{
		{atv(oidCN, "x")}, {atv(oidUID, "42")},
	}})
	if _, err := tlsconf.SubjectDN(odd.Cert.RawSubject); err == nil || !strings.Contains(err.Error(), "no short name") {
		t.Fatalf("subject with UID: %v", err)
	}
	if _, err := tlsconf.SubjectDN([]byte("junk")); err == nil {
		t.Fatal("junk subject parsed")
	}
}

func TestUserMapLookupOrder(t *testing.T) {
	ca := testutil.NewCA(t, "lookup")
	cert := ca.Issue(testutil.LeafSpec{
		Name: "app", Client: true,
		RDNs: pkix.RDNSequence{
			{atv(oidDC, "com")}, {atv(oidDC, "example")}, {atv(oidO, "Acme")}, {atv(oidOU, "ops")}, {atv(oidCN, "app")},
		},
		Emails:   []string{"app@example.com"},
		DNSNames: []string{"app.example.com"},
		URIs:     []string{"spiffe://example.com/app"},
	}).Cert
	const (
		email   = "app@example.com"
		dnsName = "app.example.com"
		uri     = "spiffe://example.com/app"
		exact   = "CN=app,OU=ops,O=Acme,DC=example,DC=com"
		spaced  = "cn=app, ou=ops, o=Acme, dc=example, dc=com"
		shuffle = "DC=com,DC=example,O=Acme,OU=ops,CN=app"
		// Go's text of the subject leaves the DCs out; with them appended
		// it is a reordering, found by the DN step.
		text = "CN=app,OU=ops,O=Acme"
	)
	// Each step wins over the ones after it; remove the winner and the
	// next one answers.
	steps := []struct{ user, via string }{
		{email, "email"}, {dnsName, "DNS name"}, {uri, "URI"},
		{spaced, "subject DN"}, {shuffle, "subject DN"}, {text, "subject"},
	}
	for i, step := range steps {
		var users []string
		for _, s := range steps[i:] {
			users = append(users, s.user)
		}
		users = append(users, "bob", "CN=bob")
		user, via, ok := tlsconf.NewUserMap(users).Lookup(cert, nil)
		if !ok || user != step.user || via != step.via {
			t.Errorf("users %q: got %q via %q (%v), want %q via %q", users, user, via, ok, step.user, step.via)
		}
	}
	// A DN equal in order wins over one that only has the same RDNs,
	// whatever the configured order.
	if user, _, _ := tlsconf.NewUserMap([]string{shuffle, exact}).Lookup(cert, nil); user != exact {
		t.Errorf("exact DN should win over reordered: got %q", user)
	}
	// A user that may not connect this way is passed over.
	deny := func(u string) bool { return u != email }
	if user, via, _ := tlsconf.NewUserMap([]string{email, dnsName}).Lookup(cert, deny); user != dnsName || via != "DNS name" {
		t.Errorf("disallowed user not skipped: %q via %q", user, via)
	}
	if _, _, ok := tlsconf.NewUserMap([]string{"bob", "CN=app", "app"}).Lookup(cert, nil); ok {
		t.Error("a partial subject or the bare CN must not match")
	}
	if _, _, ok := tlsconf.NewUserMap([]string{email}).Lookup(nil, nil); ok {
		t.Error("no certificate, no user")
	}
}

func TestUserMapSubjectTextWithUnnamedAttribute(t *testing.T) {
	// A subject with an attribute that has no short name cannot be
	// compared as a DN; its text forms still map, the one with the
	// domain components appended first.
	ca := testutil.NewCA(t, "uid")
	cert := ca.Issue(testutil.LeafSpec{Name: "u", Client: true, RDNs: pkix.RDNSequence{
		{atv(oidDC, "com")}, {atv(oidC, "US")}, {atv(oidCN, "u")}, {atv(oidUID, "42")},
	}}).Cert
	text := cert.Subject.ToRDNSequence().String() // Go leaves out UID and DC
	withDC := text + ",DC=com"
	for _, tc := range []struct {
		users []string
		want  string
	}{
		{[]string{"UID=42,CN=u,C=US,DC=com", text, withDC}, withDC},
		{[]string{"UID=42,CN=u,C=US,DC=com", text}, text},
	} {
		if user, via, ok := tlsconf.NewUserMap(tc.users).Lookup(cert, nil); !ok || user != tc.want || via != "subject" {
			t.Errorf("users %q: got %q via %q (%v), want %q", tc.users, user, via, ok, tc.want)
		}
	}
}
