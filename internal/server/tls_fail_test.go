package server_test

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server/tlsconf"
	"github.com/sluicehq/sluice/internal/testutil"
)

// Client certificates the CA did sign but that must still be refused
// under verify: each closes only its own connection, logged with why.
func TestTLSBadClientCertificates(t *testing.T) {
	p := newTLSPKI(t)
	expired := p.ca.Issue(testutil.LeafSpec{Name: "expired", Client: true, NotAfter: time.Now().Add(-time.Minute)})
	serverOnly := p.ca.Issue(testutil.LeafSpec{Name: "server-only", Server: true})
	s, log := runTLS(t, p.config(t, func(set *tlsconf.Settings) { set.Verify = true }), nil)
	nc := testutil.Connect(t, s, p.withCert()...)
	for _, tc := range []struct {
		leaf *testutil.Leaf
		why  string
	}{
		{expired, "expired"},
		{serverOnly, "incompatible key usage"},
	} {
		t.Run(tc.why, func(t *testing.T) {
			_, err := nats.Connect(s.ClientURL(), p.trust(), nats.ClientCert(tc.leaf.CertFile, tc.leaf.KeyFile), nats.NoReconnect())
			if err == nil {
				t.Fatalf("client certificate (%s) accepted", tc.why)
			}
			log.waitFor(t, "[ERR]", "TLS handshake error", tc.why, "CN="+tc.leaf.Cert.Subject.CommonName)
			checkHealthy(t, s, nc, p.withCert()...)
		})
	}
}

// A client that goes away in the middle of the handshake is logged as
// such and affects nobody else.
func TestTLSClientLeavesDuringHandshake(t *testing.T) {
	p := newTLSPKI(t)
	s, log := runTLS(t, p.config(t, nil), nil)
	nc := testutil.Connect(t, s, p.trust())
	rc, _ := testutil.NewRawConn(t, s) // reads INFO
	rc.Close()
	log.waitFor(t, "TLS handshake error: client closed the connection")
	checkHealthy(t, s, nc, p.trust())
}

// A TLS client speaking to a port without TLS fails its handshake on the
// plain INFO; the server is unaffected.
func TestTLSClientToPlainServer(t *testing.T) {
	s := testutil.RunServer(t)
	nc := testutil.Connect(t, s)
	if _, err := nats.Connect(s.ClientURL(), nats.Secure(&tls.Config{}), nats.NoReconnect()); err == nil {
		t.Fatal("TLS client connected to a server without TLS")
	}
	checkHealthy(t, s, nc)
}
