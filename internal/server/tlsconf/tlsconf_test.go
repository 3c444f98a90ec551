package tlsconf_test

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/server/tlsconf"
	"github.com/sluicehq/sluice/internal/testutil"
)

func TestBuild(t *testing.T) {
	ca := testutil.NewCA(t, "build")
	srv := ca.ServerLeaf("server")
	cfg, err := tlsconf.Build(tlsconf.Settings{CertFile: srv.CertFile, KeyFile: srv.KeyFile})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 || cfg.ClientAuth != tls.NoClientCert || cfg.ClientCAs != nil {
		t.Fatalf("defaults: min %x auth %v cas %v", cfg.MinVersion, cfg.ClientAuth, cfg.ClientCAs)
	}
	if !reflect.DeepEqual(cfg.CipherSuites, tlsconf.DefaultCipherSuites()) || !reflect.DeepEqual(cfg.CurvePreferences, tlsconf.DefaultCurves()) {
		t.Fatalf("default suites %v curves %v", cfg.CipherSuites, cfg.CurvePreferences)
	}
	if len(cfg.Certificates) != 1 || cfg.Certificates[0].Leaf.SerialNumber.Cmp(srv.Cert.SerialNumber) != 0 {
		t.Fatal("certificate not loaded")
	}

	for _, s := range []tlsconf.Settings{{Verify: true}, {Map: true}} {
		s.CertFile, s.KeyFile, s.CaFile, s.MinVersion = srv.CertFile, srv.KeyFile, ca.File, tls.VersionTLS13
		cfg, err := tlsconf.Build(s)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.ClientAuth != tls.RequireAndVerifyClientCert || cfg.ClientCAs == nil || cfg.MinVersion != tls.VersionTLS13 {
			t.Fatalf("%+v: auth %v cas %v min %x", s, cfg.ClientAuth, cfg.ClientCAs, cfg.MinVersion)
		}
	}
}

func TestBuildErrorsNameTheField(t *testing.T) {
	ca := testutil.NewCA(t, "errs")
	srv := ca.ServerLeaf("server")
	notPEM := filepath.Join(t.TempDir(), "junk.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.pem")
	for _, tc := range []struct {
		name  string
		s     tlsconf.Settings
		field string
		msg   string
	}{
		{"no files", tlsconf.Settings{}, "cert_file", "missing 'cert_file' and 'key_file' in TLS configuration"},
		{"no key", tlsconf.Settings{CertFile: srv.CertFile}, "cert_file", "missing 'key_file' in TLS configuration"},
		{"no cert", tlsconf.Settings{KeyFile: srv.KeyFile}, "key_file", "missing 'cert_file' in TLS configuration"},
		{"cert missing", tlsconf.Settings{CertFile: missing, KeyFile: srv.KeyFile}, "cert_file", "no such file"},
		{"key missing", tlsconf.Settings{CertFile: srv.CertFile, KeyFile: missing}, "key_file", "no such file"},
		{"cert junk", tlsconf.Settings{CertFile: notPEM, KeyFile: srv.KeyFile}, "cert_file", "error parsing X509 certificate/key pair"},
		{"pair mismatch", tlsconf.Settings{CertFile: srv.CertFile, KeyFile: ca.ClientLeaf("other").KeyFile}, "cert_file", "private key does not match"},
		{"ca missing", tlsconf.Settings{CertFile: srv.CertFile, KeyFile: srv.KeyFile, CaFile: missing}, "ca_file", "no such file"},
		{"ca junk", tlsconf.Settings{CertFile: srv.CertFile, KeyFile: srv.KeyFile, CaFile: notPEM}, "ca_file", "failed to parse root ca certificate"},
		{"old version", tlsconf.Settings{CertFile: srv.CertFile, KeyFile: srv.KeyFile, MinVersion: tls.VersionTLS11}, "min_version", "unsupported minimum TLS version: TLS 1.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tlsconf.Build(tc.s)
			var fe *tlsconf.Error
			if !errors.As(err, &fe) || fe.Field != tc.field || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v (%#v), want field %s and %q", err, fe, tc.field, tc.msg)
			}
		})
	}
}

func TestNames(t *testing.T) {
	cs, err := tlsconf.CipherSuite("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")
	if err != nil || cs.ID != tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 || cs.Insecure {
		t.Fatalf("secure suite: %v %v", cs, err)
	}
	if cs, err := tlsconf.CipherSuite("TLS_RSA_WITH_RC4_128_SHA"); err != nil || !cs.Insecure {
		t.Fatalf("insecure suite should be known and flagged: %v %v", cs, err)
	}
	if _, err := tlsconf.CipherSuite("TLS_NOPE"); err == nil || err.Error() != "unrecognized cipher TLS_NOPE" {
		t.Fatalf("unknown suite: %v", err)
	}
	for name, want := range map[string]tls.CurveID{"X25519": tls.X25519, "CurveP256": tls.CurveP256, "X25519MLKEM768": tls.X25519MLKEM768} {
		if id, err := tlsconf.Curve(name); err != nil || id != want {
			t.Errorf("curve %s: %v %v", name, id, err)
		}
	}
	if _, err := tlsconf.Curve("P-256"); err == nil || err.Error() != "unrecognized curve preference P-256" {
		t.Fatalf("unknown curve: %v", err)
	}
	for in, want := range map[string]string{"1.2": "", "1.3": "", "1.1": "unsupported TLS version: TLS 1.1", "1.0": "unsupported TLS version: TLS 1.0", "TLS1.3": "unknown version: TLS1.3"} {
		_, err := tlsconf.Version(in)
		if (err == nil) != (want == "") || (err != nil && err.Error() != want) {
			t.Errorf("version %q: %v, want %q", in, err, want)
		}
	}
}

func TestPinnedCerts(t *testing.T) {
	ca := testutil.NewCA(t, "pins")
	a, b := ca.ClientLeaf("a"), ca.ClientLeaf("b")
	id := tlsconf.KeyID(a.Cert)
	pin, err := tlsconf.ParsePin(strings.ToUpper(id))
	if err != nil || pin != id {
		t.Fatalf("ParsePin upper case: %q %v", pin, err)
	}
	for _, bad := range []string{id[:63], id + "0", strings.Repeat("g", 64)} {
		if _, err := tlsconf.ParsePin(bad); err == nil || !strings.Contains(err.Error(), "does not look like hex-encoded sha256") {
			t.Errorf("ParsePin(%q): %v", bad, err)
		}
	}
	set := tlsconf.PinnedCerts{pin: {}}
	if !set.Allows([]*x509.Certificate{a.Cert, ca.Cert}) || set.Allows([]*x509.Certificate{b.Cert}) || set.Allows(nil) {
		t.Fatal("pinned set: a must pass, b and no certificate must not")
	}
	if !(tlsconf.PinnedCerts{}).Allows(nil) {
		t.Fatal("an empty set pins nothing")
	}
}

func TestMapIdentities(t *testing.T) {
	ca := testutil.NewCA(t, "map")
	dc := asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}
	full := ca.Issue(testutil.LeafSpec{
		Name: "full", Client: true,
		Subject: &pkix.Name{CommonName: "app", Organization: []string{"Acme"},
			ExtraNames: []pkix.AttributeTypeAndValue{{Type: dc, Value: "example"}, {Type: dc, Value: "com"}}},
		Emails:   []string{"app@example.com"},
		DNSNames: []string{"app.example.com", "app2.example.com"},
		URIs:     []string{"spiffe://example.com/app"},
	})
	want := []string{
		"app@example.com", "app.example.com", "app2.example.com", "spiffe://example.com/app",
		"CN=app,O=Acme,DC=example,DC=com", "CN=app,O=Acme",
	}
	if got := tlsconf.MapIdentities(full.Cert); !reflect.DeepEqual(got, want) {
		t.Fatalf("identities\n got %q\nwant %q", got, want)
	}
	plain := ca.Issue(testutil.LeafSpec{Name: "plain", Client: true,
		Subject: &pkix.Name{CommonName: "bob", OrganizationalUnit: []string{"ops"}, Country: []string{"US"}}})
	if got := tlsconf.MapIdentities(plain.Cert); !reflect.DeepEqual(got, []string{"CN=bob,OU=ops,C=US"}) {
		t.Fatalf("subject only: %q", got)
	}
	if tlsconf.MapIdentities(nil) != nil {
		t.Fatal("nil certificate has no identities")
	}
}
