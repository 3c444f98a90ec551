package server_test

import (
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

// mapPKI is a CA, a server certificate and one client certificate per
// way verify_and_map can find a user.
type mapPKI struct {
	*tlsPKI
	email, dns, uri, subject, reordered, nobody *testutil.Leaf
}

func newMapPKI(t *testing.T) *mapPKI {
	t.Helper()
	p := &mapPKI{tlsPKI: newTLSPKI(t)}
	ca := p.ca
	p.email = ca.Issue(testutil.LeafSpec{Name: "by-email", Client: true, Emails: []string{"alice@example.com"},
		Subject: &pkix.Name{CommonName: "alice"}})
	p.dns = ca.Issue(testutil.LeafSpec{Name: "by-dns", Client: true, DNSNames: []string{"worker.example.com"}})
	p.uri = ca.Issue(testutil.LeafSpec{Name: "by-uri", Client: true, URIs: []string{"spiffe://example.com/billing"}})
	p.subject = ca.Issue(testutil.LeafSpec{Name: "by-subject", Client: true,
		Subject: &pkix.Name{CommonName: "svc", OrganizationalUnit: []string{"ops"}, Organization: []string{"Acme"}}})
	p.reordered = ca.Issue(testutil.LeafSpec{Name: "by-reordered", Client: true,
		Subject: &pkix.Name{CommonName: "batch", Organization: []string{"Acme"}, Country: []string{"US"}}})
	p.nobody = ca.Issue(testutil.LeafSpec{Name: "nobody", Client: true, Emails: []string{"mallory@example.com"},
		Subject: &pkix.Name{CommonName: "mallory", Organization: []string{"Acme"}}})
	return p
}

// as is what a nats.go client presenting leaf needs.
func (p *mapPKI) as(leaf *testutil.Leaf, more ...nats.Option) []nats.Option {
	return append([]nats.Option{p.trust(), nats.ClientCert(leaf.CertFile, leaf.KeyFile)}, more...)
}

// tlsBlock is the tls {} of a verify_and_map server using p's files.
func (p *mapPKI) tlsBlock(extra string) string {
	return fmt.Sprintf("tls {\n  cert_file: %q\n  key_file: %q\n  ca_file: %q\n  verify_and_map: true\n  %s\n}\n",
		p.server.CertFile, p.server.KeyFile, p.ca.File, extra)
}

// mapUsers names one user per certificate, without passwords; the
// subject users are written as distinguished names, one in another RDN
// order than the certificate.
const mapUsers = `
authorization {
  users: [
    {user: "alice@example.com", permissions: {publish: "alice.>", subscribe: ["alice.>", "_INBOX.>"]}}
    {user: "spiffe://example.com/billing"}
    {user: "CN=svc,OU=ops,O=Acme"}
    {user: "C=US, O=Acme, CN=batch"}
    {user: "plain", password: "pw"}
  ]
}
accounts {
  WORK { users: [ {user: "worker.example.com"} ] }
}
`

func TestTLSMapFindsUserInCertificate(t *testing.T) {
	p := newMapPKI(t)
	log := &tlsLog{}
	s := runConf(t, mapUsers+p.tlsBlock(""), func(o *server.Options) { o.Logger, o.Debug = log, true })
	for _, tc := range []struct {
		leaf      *testutil.Leaf
		user, via string
	}{
		{p.email, "alice@example.com", "email"},
		{p.dns, "worker.example.com", "DNS name"},
		{p.uri, "spiffe://example.com/billing", "URI"},
		{p.subject, "CN=svc,OU=ops,O=Acme", "subject DN"},
		{p.reordered, "C=US, O=Acme, CN=batch", "subject DN"},
	} {
		t.Run(tc.via+" "+tc.user, func(t *testing.T) {
			nc := mustDial(t, s, p.as(tc.leaf)...)
			if err := nc.Flush(); err != nil {
				t.Fatal(err)
			}
			log.waitFor(t, "[DBG]", fmt.Sprintf("Using %s found in client certificate for auth [%q]", tc.via, tc.user))
		})
	}
}

func TestTLSMapAppliesPermissionsAndAccount(t *testing.T) {
	p := newMapPKI(t)
	s := runConf(t, mapUsers+p.tlsBlock(""))

	errs := make(chan error, 10)
	alice := mustDial(t, s, p.as(p.email, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))...)
	sub, err := alice.SubscribeSync("alice.in")
	if err != nil {
		t.Fatal(err)
	}
	alice.Publish("alice.in", []byte("mine"))
	if m, err := sub.NextMsg(msgWait); err != nil || string(m.Data) != "mine" {
		t.Fatalf("alice on her own subjects: %v", err)
	}
	alice.Publish("bob.in", []byte("not mine"))
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), `Permissions Violation for Publish to "bob.in"`) {
			t.Fatalf("got %v", err)
		}
	case <-time.After(msgWait):
		t.Fatal("publish outside alice's permissions not refused")
	}

	// worker.example.com is in account WORK: it does not see the global
	// account's traffic, and the other way round.
	worker := mustDial(t, s, p.as(p.dns)...)
	svc := mustDial(t, s, p.as(p.subject)...)
	wsub, _ := worker.SubscribeSync("jobs")
	gsub, _ := svc.SubscribeSync("jobs")
	worker.Flush()
	svc.Flush()
	svc.Publish("jobs", []byte("global"))
	worker.Publish("jobs", []byte("work"))
	if m, err := wsub.NextMsg(msgWait); err != nil || string(m.Data) != "work" {
		t.Fatalf("worker got %v, %v", m, err)
	}
	if m, err := gsub.NextMsg(msgWait); err != nil || string(m.Data) != "global" {
		t.Fatalf("svc got %v, %v", m, err)
	}
	if m, err := wsub.NextMsg(50 * time.Millisecond); err == nil {
		t.Fatalf("account WORK saw %q from the global account", m.Data)
	}
}

func TestTLSMapUnknownCertificateIsAuthViolation(t *testing.T) {
	p := newMapPKI(t)
	log := &tlsLog{}
	s := runConf(t, mapUsers+p.tlsBlock(""), func(o *server.Options) { o.Logger, o.Debug = log, true })
	bystander := mustDial(t, s, p.as(p.subject)...)

	// The certificate verifies but names nobody configured, and the
	// user and password in CONNECT do not count under verify_and_map.
	_, err := dial(s, p.as(p.nobody, nats.UserInfo("plain", "pw"))...)
	if !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("unmapped certificate: %v", err)
	}
	log.waitFor(t, "[ERR]", "authentication error")
	log.waitFor(t, "[DBG]", `no user found for client certificate "CN=mallory,O=Acme"`)
	checkHealthy(t, s, bystander, p.as(p.uri)...)
}

func TestTLSMapIgnoresUserInConnect(t *testing.T) {
	p := newMapPKI(t)
	s := runConf(t, mapUsers+p.tlsBlock(""))
	// alice's certificate with plain's name in CONNECT: alice it is, and
	// alice may not publish outside alice.>. (A password would have to
	// be alice's, which is none.)
	errs := make(chan error, 1)
	nc := mustDial(t, s, p.as(p.email, nats.UserInfo("plain", ""),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))...)
	nc.Publish("anything", nil)
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), "Permissions Violation") {
			t.Fatalf("got %v", err)
		}
	case <-time.After(msgWait):
		t.Fatal("client authenticated as the CONNECT user instead of the certificate's")
	}
}

func TestTLSMapUserWithPasswordNeedsIt(t *testing.T) {
	p := newMapPKI(t)
	conf := `authorization { users: [ {user: "alice@example.com", password: "s3cret"} ] }` + "\n" + p.tlsBlock("")
	s := runConf(t, conf)
	if _, err := dial(s, p.as(p.email)...); !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("mapped user with a password, none sent: %v", err)
	}
	if _, err := dial(s, p.as(p.email, nats.UserInfo("ignored", "wrong"))...); !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("wrong password: %v", err)
	}
	nc := mustDial(t, s, p.as(p.email, nats.UserInfo("ignored", "s3cret"))...)
	checkRoundTrip(t, nc)
}

func TestTLSMapSkipsUsersNotAllowedThisWay(t *testing.T) {
	p := newMapPKI(t)
	// The certificate names alice by e-mail and by DNS name; the e-mail
	// user may not connect as a standard client, so the DNS one is used.
	both := p.ca.Issue(testutil.LeafSpec{Name: "both", Client: true,
		Emails: []string{"alice@example.com"}, DNSNames: []string{"alice.example.com"}})
	conf := `authorization { users: [
  {user: "alice@example.com", allowed_connection_types: ["WEBSOCKET"]}
  {user: "alice.example.com", permissions: {publish: "dns.>"}}
] }` + "\n" + p.tlsBlock("")
	log := &tlsLog{}
	s := runConf(t, conf, func(o *server.Options) { o.Logger, o.Debug = log, true })
	mustDial(t, s, p.as(both)...)
	log.waitFor(t, `Using DNS name found in client certificate for auth ["alice.example.com"]`)
	if _, err := dial(s, p.as(p.email)...); !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("user limited to websocket mapped on the client port: %v", err)
	}
}

func TestTLSMapPlainClientRefused(t *testing.T) {
	p := newMapPKI(t)
	log := &tlsLog{}
	s := runConf(t, mapUsers+p.tlsBlock("")+"allow_non_tls: true\n", func(o *server.Options) { o.Logger, o.Debug = log, true })
	if _, err := dial(s, nats.UserInfo("plain", "pw")); !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("plain-text client under verify_and_map: %v", err)
	}
	log.waitFor(t, "[DBG]", "user required in certificate, but the client presented none")
	nc := mustDial(t, s, p.as(p.uri)...)
	checkRoundTrip(t, nc)
}

func TestTLSMapReloadRemovesUser(t *testing.T) {
	p := newMapPKI(t)
	s := runConf(t, mapUsers+p.tlsBlock(""))
	closed := make(chan struct{})
	mustDial(t, s, p.as(p.subject, nats.ClosedHandler(func(*nats.Conn) { close(closed) }))...)
	uri := mustDial(t, s, p.as(p.uri)...)

	var next server.Options
	without := strings.Replace(mapUsers, `{user: "CN=svc,OU=ops,O=Acme"}`, "", 1)
	if _, err := next.ProcessConfigFile(writeConf(t, without+p.tlsBlock("")), true); err != nil {
		t.Fatal(err)
	}
	next.Host, next.Port = "127.0.0.1", s.Options().Port
	if _, err := s.ReloadOptions(next); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	case <-time.After(waitLong):
		t.Fatal("client whose certificate no longer maps still connected after reload")
	}
	checkHealthy(t, s, uri, p.as(p.uri)...)
	if _, err := dial(s, p.as(p.subject)...); !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("removed user still maps: %v", err)
	}
}
