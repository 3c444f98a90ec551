package server_test

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/server/tlsconf"
	"github.com/sluicehq/sluice/internal/testutil"
)

// tlsPKI is a CA with a server certificate and a client certificate, all
// made up for one test.
type tlsPKI struct {
	ca     *testutil.CA
	server *testutil.Leaf
	client *testutil.Leaf
}

func newTLSPKI(t *testing.T) *tlsPKI {
	t.Helper()
	ca := testutil.NewCA(t, "sluice-test")
	return &tlsPKI{ca: ca, server: ca.ServerLeaf("server"), client: ca.ClientLeaf("client")}
}

// config builds the server side; adjust changes the settings first.
func (p *tlsPKI) config(t *testing.T, adjust func(*tlsconf.Settings)) *tls.Config {
	t.Helper()
	set := tlsconf.Settings{CertFile: p.server.CertFile, KeyFile: p.server.KeyFile, CaFile: p.ca.File}
	if adjust != nil {
		adjust(&set)
	}
	cfg, err := tlsconf.Build(set)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// trust is what a nats.go client needs to accept the server.
func (p *tlsPKI) trust() nats.Option { return nats.RootCAs(p.ca.File) }

// withCert also presents the client certificate.
func (p *tlsPKI) withCert() []nats.Option {
	return []nats.Option{p.trust(), nats.ClientCert(p.client.CertFile, p.client.KeyFile)}
}

// tlsLog records what the server logs, for tests that check it says why
// it closed a connection.
type tlsLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *tlsLog) add(level, format string, v ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, level+" "+fmt.Sprintf(format, v...))
	l.mu.Unlock()
}

func (l *tlsLog) Noticef(f string, v ...any) { l.add("[INF]", f, v...) }
func (l *tlsLog) Warnf(f string, v ...any)   { l.add("[WRN]", f, v...) }
func (l *tlsLog) Errorf(f string, v ...any)  { l.add("[ERR]", f, v...) }
func (l *tlsLog) Debugf(f string, v ...any)  { l.add("[DBG]", f, v...) }
func (l *tlsLog) Tracef(f string, v ...any)  { l.add("[TRC]", f, v...) }

// waitFor polls until a logged line contains every one of parts.
func (l *tlsLog) waitFor(t *testing.T, parts ...string) string {
	t.Helper()
	var found string
	testutil.CheckFor(t, waitLong, pollStep, func() error {
		l.mu.Lock()
		defer l.mu.Unlock()
	next:
		for _, line := range l.lines {
			for _, p := range parts {
				if !strings.Contains(line, p) {
					continue next
				}
			}
			found = line
			return nil
		}
		return fmt.Errorf("no log line with %q in:\n%s", parts, strings.Join(l.lines, "\n"))
	})
	return found
}

// runTLS starts a server whose client port requires TLS with cfg.
func runTLS(t *testing.T, cfg *tls.Config, mutate func(*server.Options)) (*server.Server, *tlsLog) {
	t.Helper()
	log := &tlsLog{}
	s := testutil.RunServer(t, func(o *server.Options) {
		o.TLSConfig, o.Logger = cfg, log
		if mutate != nil {
			mutate(o)
		}
	})
	return s, log
}

// expectClosed reads from conn until the server closes it, failing if it
// is still open after waitLong. It returns what arrived first.
func expectClosed(t *testing.T, conn net.Conn) string {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(waitLong))
	got, err := io.ReadAll(conn)
	if err != nil && !errors.Is(err, net.ErrClosed) && !isReset(err) {
		t.Fatalf("connection not closed by the server: %v (got %q)", err, got)
	}
	return string(got)
}

func isReset(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne) && !ne.Timeout()
}

func TestTLSConnectWithRootCAs(t *testing.T) {
	p := newTLSPKI(t)
	s, _ := runTLS(t, p.config(t, nil), nil)
	nc := testutil.Connect(t, s, p.trust())
	if !nc.TLSRequired() {
		t.Fatal("nats.go did not see tls_required")
	}
	st, err := nc.TLSConnectionState()
	if err != nil || !st.HandshakeComplete {
		t.Fatalf("not a TLS connection: %v", err)
	}
	if st.PeerCertificates[0].SerialNumber.Cmp(p.server.Cert.SerialNumber) != 0 {
		t.Fatal("served certificate is not the configured one")
	}
	checkRoundTrip(t, nc)
	// Without the CA the client refuses the server.
	if _, err := nats.Connect(s.ClientURL(), nats.NoReconnect()); err == nil {
		t.Fatal("client without the CA accepted an unknown server certificate")
	}
}

func TestTLSInfoFields(t *testing.T) {
	p := newTLSPKI(t)
	for _, tc := range []struct {
		name                         string
		verify, mapUser, allowNonTLS bool
		required, wantVerify, avail  bool
	}{
		{name: "tls", required: true},
		{name: "verify", verify: true, required: true, wantVerify: true},
		{name: "verify_and_map", mapUser: true, required: true, wantVerify: true},
		{name: "allow_non_tls", allowNonTLS: true, avail: true},
		{name: "allow_non_tls verify", verify: true, allowNonTLS: true, wantVerify: true, avail: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := p.config(t, func(set *tlsconf.Settings) { set.Verify, set.Map = tc.verify, tc.mapUser })
			s, _ := runTLS(t, cfg, func(o *server.Options) { o.AllowNonTLS, o.TLSMap = tc.allowNonTLS, tc.mapUser })
			_, info := testutil.NewRawConn(t, s)
			if info.TLSRequired != tc.required || info.TLSVerify != tc.wantVerify || info.TLSAvailable != tc.avail {
				t.Fatalf("INFO tls_required=%v tls_verify=%v tls_available=%v", info.TLSRequired, info.TLSVerify, info.TLSAvailable)
			}
		})
	}
	_, info := testutil.NewRawConn(t, testutil.RunServer(t))
	if info.TLSRequired || info.TLSVerify || info.TLSAvailable {
		t.Fatalf("plain server advertises TLS: %+v", info)
	}

	// handshake_first: INFO comes over TLS, and says TLS is required
	// even with allow_non_tls, which it overrides.
	s, _ := runTLS(t, p.config(t, nil), func(o *server.Options) { o.TLSHandshakeFirst, o.AllowNonTLS = true, true })
	conn, err := tls.Dial("tcp", s.Addr().String(), &tls.Config{RootCAs: p.ca.Pool()})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(waitLong))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	info, err = testutil.ParseInfo(line)
	if err != nil || !info.TLSRequired || info.TLSAvailable || info.TLSVerify {
		t.Fatalf("handshake_first INFO %q: %v", line, err)
	}
}

func TestTLSVerifyRequiresClientCert(t *testing.T) {
	p := newTLSPKI(t)
	s, log := runTLS(t, p.config(t, func(set *tlsconf.Settings) { set.Verify = true }), nil)
	nc := testutil.Connect(t, s, p.withCert()...)
	checkRoundTrip(t, nc)
	if _, err := nats.Connect(s.ClientURL(), p.trust(), nats.NoReconnect()); err == nil {
		t.Fatal("client without a certificate accepted")
	}
	log.waitFor(t, "[ERR]", "TLS handshake error", "certificate")
	checkHealthy(t, s, nc, p.withCert()...)
}

func TestTLSClientCertFromAnotherCA(t *testing.T) {
	p := newTLSPKI(t)
	other := testutil.NewCA(t, "intruder-ca")
	intruder := other.ClientLeaf("intruder")
	s, log := runTLS(t, p.config(t, func(set *tlsconf.Settings) { set.Verify = true }), nil)
	nc := testutil.Connect(t, s, p.withCert()...)
	// Go clients only offer a certificate the server's CA list names:
	// force it, as a hostile client would.
	forced := &tls.Config{RootCAs: p.ca.Pool(), GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		return &intruder.Pair, nil
	}}
	_, err := nats.Connect(s.ClientURL(), nats.Secure(forced), nats.NoReconnect())
	if err == nil {
		t.Fatal("certificate from another CA accepted")
	}
	log.waitFor(t, "[ERR]", "TLS handshake error", "unknown authority", "CN=intruder", "SHA-256:")
	checkHealthy(t, s, nc, p.withCert()...)
}

func TestTLSHandshakeFirst(t *testing.T) {
	p := newTLSPKI(t)
	s, log := runTLS(t, p.config(t, nil), func(o *server.Options) {
		o.TLSHandshakeFirst, o.TLSTimeout = true, time.Second
	})
	nc := testutil.Connect(t, s, p.trust(), nats.TLSHandshakeFirst())
	checkRoundTrip(t, nc)

	// Nothing, not even INFO, reaches a client that does not start TLS.
	raw := testutil.DialRaw(t, s)
	if got := expectClosed(t, raw.Conn()); got != "" {
		t.Fatalf("server sent %q before the TLS handshake", got)
	}
	log.waitFor(t, "TLS handshake timeout")
	if _, err := nats.Connect(s.ClientURL(), p.trust(), nats.NoReconnect(), nats.Timeout(waitLong)); err == nil {
		t.Fatal("a client expecting INFO first connected to a handshake_first server")
	}
	checkHealthy(t, s, nc, p.trust(), nats.TLSHandshakeFirst())
}

func TestTLSHandshakeFirstFallback(t *testing.T) {
	p := newTLSPKI(t)
	s, _ := runTLS(t, p.config(t, nil), func(o *server.Options) {
		o.TLSHandshakeFirst, o.TLSHandshakeFirstFallback = true, server.DefaultTLSHandshakeFirstFallback
	})
	first := testutil.Connect(t, s, p.trust(), nats.TLSHandshakeFirst())
	checkRoundTrip(t, first)
	// A client that waits for INFO gets it after the fallback delay and
	// upgrades the usual way.
	usual := testutil.Connect(t, s, p.trust())
	if st, err := usual.TLSConnectionState(); err != nil || !st.HandshakeComplete {
		t.Fatalf("fallback client is not on TLS: %v", err)
	}
	checkRoundTrip(t, usual)
}

func TestTLSPlaintextClientRejected(t *testing.T) {
	p := newTLSPKI(t)
	s, log := runTLS(t, p.config(t, nil), nil)
	nc := testutil.Connect(t, s, p.trust())

	rc, info := testutil.NewRawConn(t, s)
	if !info.TLSRequired {
		t.Fatal("INFO lacks tls_required")
	}
	rc.Send("CONNECT " + connQuiet + "\r\nPING\r\n")
	if got := expectClosed(t, rc.Conn()); got != errLine("Secure Connection - TLS Required") {
		t.Fatalf("plain-text client got %q", got)
	}
	log.waitFor(t, "TLS handshake error", "not using TLS")
	checkHealthy(t, s, nc, p.trust())
}

func TestTLSHandshakeTimeoutClosesOnlyThatConnection(t *testing.T) {
	p := newTLSPKI(t)
	s, log := runTLS(t, p.config(t, nil), func(o *server.Options) { o.TLSTimeout = time.Second })
	nc := testutil.Connect(t, s, p.trust())

	rc, _ := testutil.NewRawConn(t, s) // reads INFO, then never starts TLS
	expectClosed(t, rc.Conn())
	log.waitFor(t, "[WRN]", "TLS handshake timeout")
	checkHealthy(t, s, nc, p.trust())
}

func TestTLSShutdownDoesNotWaitForHandshakes(t *testing.T) {
	p := newTLSPKI(t)
	s, _ := runTLS(t, p.config(t, nil), func(o *server.Options) { o.TLSTimeout = time.Hour })
	rc, _ := testutil.NewRawConn(t, s) // stalls its handshake
	done := make(chan struct{})
	go func() { s.Shutdown(); close(done) }()
	select {
	case <-done:
	case <-time.After(waitLong):
		t.Fatal("Shutdown waits for a stalled TLS handshake")
	}
	expectClosed(t, rc.Conn())
}

func TestTLSPinnedCerts(t *testing.T) {
	p := newTLSPKI(t)
	other := p.ca.ClientLeaf("other") // same CA, not pinned
	pins := tlsconf.PinnedCerts{tlsconf.KeyID(p.client.Cert): {}}
	cfg := p.config(t, func(set *tlsconf.Settings) { set.Verify = true })
	s, log := runTLS(t, cfg, func(o *server.Options) { o.TLSPinnedCerts = pins })

	nc := testutil.Connect(t, s, append(p.withCert(), nats.NoReconnect())...)
	closed := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(closed) })
	checkRoundTrip(t, nc)
	_, err := nats.Connect(s.ClientURL(), p.trust(), nats.ClientCert(other.CertFile, other.KeyFile), nats.NoReconnect())
	if err == nil {
		t.Fatal("unpinned certificate accepted")
	}
	log.waitFor(t, "TLS handshake error: certificate not pinned")
	checkHealthy(t, s, nc, p.withCert()...)

	// A reload that pins only the other certificate closes the client
	// whose key is no longer pinned.
	next := optionsLike(s, func(o *server.Options) {
		o.TLSConfig, o.TLSPinnedCerts = cfg, tlsconf.PinnedCerts{tlsconf.KeyID(other.Cert): {}}
	})
	if _, err := s.ReloadOptions(next); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	case <-time.After(waitLong):
		t.Fatal("client with an unpinned certificate still connected after reload")
	}
	log.waitFor(t, "no longer pinned")
	checkHealthy(t, s, nil, p.trust(), nats.ClientCert(other.CertFile, other.KeyFile))
}

func TestTLSMinVersion13(t *testing.T) {
	p := newTLSPKI(t)
	s, log := runTLS(t, p.config(t, func(set *tlsconf.Settings) { set.MinVersion = tls.VersionTLS13 }), nil)
	old := &tls.Config{RootCAs: p.ca.Pool(), MaxVersion: tls.VersionTLS12}
	if _, err := nats.Connect(s.ClientURL(), nats.Secure(old), nats.NoReconnect()); err == nil {
		t.Fatal("a TLS 1.2 client was accepted with min_version 1.3")
	}
	log.waitFor(t, "TLS handshake error", "unsupported versions")
	nc := testutil.Connect(t, s, p.trust())
	if st, _ := nc.TLSConnectionState(); st.Version != tls.VersionTLS13 {
		t.Fatalf("negotiated %s", tls.VersionName(st.Version))
	}
	checkRoundTrip(t, nc)
}

func TestTLSAllowNonTLS(t *testing.T) {
	p := newTLSPKI(t)
	s, _ := runTLS(t, p.config(t, nil), func(o *server.Options) { o.AllowNonTLS = true })
	plain := testutil.Connect(t, s)
	if _, err := plain.TLSConnectionState(); err == nil {
		t.Fatal("plain client ended up on TLS")
	}
	secure := testutil.Connect(t, s, nats.Secure(&tls.Config{RootCAs: p.ca.Pool()}))
	if st, err := secure.TLSConnectionState(); err != nil || !st.HandshakeComplete {
		t.Fatalf("secure client not on TLS: %v", err)
	}
	// Both directions between a plain and a TLS client.
	sub, err := secure.SubscribeSync("mixed")
	if err != nil {
		t.Fatal(err)
	}
	secure.Flush()
	plain.Publish("mixed", []byte("hello"))
	if m, err := sub.NextMsg(msgWait); err != nil || string(m.Data) != "hello" {
		t.Fatalf("plain -> TLS: %v", err)
	}
	checkRoundTrip(t, plain)
	checkRoundTrip(t, secure)
}

func TestTLSVerifyAndMapWithoutUsersRequiresCert(t *testing.T) {
	p := newTLSPKI(t)
	cfg := p.config(t, func(set *tlsconf.Settings) { set.Map = true })
	s, _ := runTLS(t, cfg, func(o *server.Options) { o.TLSMap, o.AllowNonTLS = true, true })
	nc := testutil.Connect(t, s, p.withCert()...)
	checkRoundTrip(t, nc)
	// allow_non_tls lets a plain client in, but it has no certificate.
	if _, err := nats.Connect(s.ClientURL(), nats.NoReconnect()); !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("plain client under verify_and_map: %v", err)
	}
}
