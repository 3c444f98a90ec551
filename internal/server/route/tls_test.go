package route_test

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/server/route"
	"github.com/sluicehq/sluice/internal/server/tlsconf"
	"github.com/sluicehq/sluice/internal/testutil"
)

// routeLeaf issues a certificate usable both ways, for 127.0.0.1 and
// localhost, plus whatever spec adds.
func routeLeaf(ca *testutil.CA, spec testutil.LeafSpec) *testutil.Leaf {
	spec.Server, spec.Client = true, true
	spec.DNSNames = append(spec.DNSNames, "localhost")
	spec.IPs = append(spec.IPs, net.IPv4(127, 0, 0, 1))
	return ca.Issue(spec)
}

func routeTLS(ca *testutil.CA, leaf *testutil.Leaf) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{leaf.Pair}, ClientCAs: ca.Pool(),
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
}

func pins(leaves ...*testutil.Leaf) tlsconf.PinnedCerts {
	p := tlsconf.PinnedCerts{}
	for _, l := range leaves {
		p[tlsconf.KeyID(l.Cert)] = struct{}{}
	}
	return p
}

// rawRoute dials s's route port over TLS with leaf, as a route would.
type rawRoute struct {
	nc net.Conn
	br *bufio.Reader
}

func dialRouteTLS(t *testing.T, s *server.Server, ca *testutil.CA, leaf *testutil.Leaf) *rawRoute {
	t.Helper()
	raw, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(s.Routes().Port()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	tc := tls.Client(raw, &tls.Config{Certificates: []tls.Certificate{leaf.Pair}, RootCAs: ca.Pool(), ServerName: "127.0.0.1"})
	tc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := tc.Handshake(); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	return &rawRoute{nc: tc, br: bufio.NewReader(tc)}
}

func (r *rawRoute) line() (string, error) { return r.br.ReadString('\n') }

// join sends CONNECT and INFO as a peer named NFAKE and a PING, and
// returns the first line that answers: PONG when the route was let in.
func (r *rawRoute) join(t *testing.T, user, pass string) string {
	t.Helper()
	fmt.Fprintf(r.nc, "CONNECT {\"user\":%q,\"pass\":%q,\"name\":\"NFAKE\",\"cluster\":\"c\",\"tls_required\":true}\r\n"+
		"INFO {\"server_id\":\"NFAKE\",\"server_name\":\"fake\",\"cluster\":\"c\"}\r\nPING\r\n", user, pass)
	for {
		l, err := r.line()
		if err != nil {
			return "closed: " + err.Error()
		}
		if strings.HasPrefix(l, "-ERR") || strings.HasPrefix(l, "PONG") {
			return strings.TrimSpace(l)
		}
	}
}

func TestClusterTLSBlockOptions(t *testing.T) {
	ca := testutil.NewCA(t, "routes")
	leaf := routeLeaf(ca, testutil.LeafSpec{Name: "s1"})
	pin := tlsconf.KeyID(leaf.Cert)
	o, err := loadConf(t, fmt.Sprintf(`
cluster {
  name: c, listen: "127.0.0.1:-1"
  authorization { user: "s1" }
  tls { cert_file: %q, key_file: %q, ca_file: %q, timeout: 0.5, verify_and_map: true, pinned_certs: [%q] }
}`, leaf.CertFile, leaf.KeyFile, ca.File, strings.ToUpper(pin)))
	if err != nil {
		t.Fatal(err)
	}
	c := o.Cluster
	if c.TLSConfig == nil || c.TLSConfig.ClientAuth != tls.RequireAndVerifyClientCert || !c.TLSMap ||
		c.TLSTimeout != 500*time.Millisecond || len(c.TLSPinnedCerts) != 1 || c.TLSCheckKnownURLs {
		t.Fatalf("cluster TLS read as %+v", c)
	}
	if _, ok := c.TLSPinnedCerts[pin]; !ok {
		t.Fatalf("pins %v lack %s", c.TLSPinnedCerts, pin)
	}
	// The auth timeout follows the TLS timeout, as in nats-server.
	c.SetDefaults("")
	if c.AuthTimeout != 1500*time.Millisecond {
		t.Fatalf("auth timeout %v, want 1.5s", c.AuthTimeout)
	}

	o, err = loadConf(t, fmt.Sprintf(`
cluster { listen: "127.0.0.1:-1", routes: ["nats-route://localhost:7000"]
  tls { cert_file: %q, key_file: %q, ca_file: %q, verify_cert_and_check_known_urls: true } }`,
		leaf.CertFile, leaf.KeyFile, ca.File))
	if err != nil {
		t.Fatal(err)
	}
	if c := o.Cluster; !c.TLSCheckKnownURLs || c.TLSConfig.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Fatalf("check_known_urls read as %+v", c)
	}

	for text, want := range map[string]string{
		`tls { cert_file: %q, key_file: %q, ca_file: %q, verify_cert_and_check_known_urls: "yes" }`: "expected 'verify_cert_and_check_known_urls' to be a boolean",
		`tls { cert_file: %q, key_file: %q, ca_file: %q, pinned_certs: ["abc"] }`:                   "does not look like hex-encoded sha256",
		`tls { cert_file: %q, key_file: %q, ca_file: %q, timeout: "soon" }`:                         "timeout",
	} {
		_, err := loadConf(t, "cluster { listen: \"127.0.0.1:-1\"\n"+fmt.Sprintf(text, leaf.CertFile, leaf.KeyFile, ca.File)+"\n}")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", text, err, want)
		}
	}
	// The client block still refuses what only routes (and gateways) take.
	_, err = loadConf(t, fmt.Sprintf(`tls { cert_file: %q, key_file: %q, ca_file: %q, verify_cert_and_check_known_urls: true }`,
		leaf.CertFile, leaf.KeyFile, ca.File))
	if err == nil || !strings.Contains(err.Error(), "not supported in this context") {
		t.Fatalf("client tls block: %v", err)
	}
}

func TestRouteTLSPinnedCerts(t *testing.T) {
	ca := testutil.NewCA(t, "routes")
	l1, l2, rogue := routeLeaf(ca, testutil.LeafSpec{Name: "s1"}), routeLeaf(ca, testutil.LeafSpec{Name: "s2"}), routeLeaf(ca, testutil.LeafSpec{Name: "rogue"})
	s1 := node(t, "s1", func(o *server.Options) {
		o.Cluster.TLSConfig, o.Cluster.TLSPinnedCerts = routeTLS(ca, l1), pins(l1, l2)
	})
	s2 := node(t, "s2", func(o *server.Options) {
		o.Cluster.TLSConfig, o.Cluster.TLSPinnedCerts = routeTLS(ca, l2), pins(l1, l2)
	}, s1)
	waitMesh(t, s1, s2)
	sub, _ := connect(t, s2).SubscribeSync("pinned")
	waitInterest(t, s1, "pinned", 1)
	connect(t, s1).Publish("pinned", []byte("x"))
	next(t, sub)

	// Accepting: a certificate the same CA signed but not pinned is cut
	// right after the handshake, before any INFO.
	r := dialRouteTLS(t, s1, ca, rogue)
	if l, err := r.line(); err == nil {
		t.Fatalf("unpinned peer got %q", l)
	}
	if l, err := dialRouteTLS(t, s1, ca, l2).line(); err != nil || !strings.HasPrefix(l, "INFO ") {
		t.Fatalf("pinned peer got %q, %v", l, err)
	}

	// Soliciting: s3 dials a listener whose key it has not pinned and
	// hangs up without sending CONNECT; pinned, it sends CONNECT.
	for _, tc := range []struct {
		pinned bool
		want   string
	}{{false, "closed"}, {true, "CONNECT "}} {
		ln, err := tls.Listen("tcp", "127.0.0.1:0", routeTLS(ca, rogue))
		if err != nil {
			t.Fatal(err)
		}
		p := pins(l1)
		if tc.pinned {
			p = pins(l1, rogue)
		}
		u, _ := url.Parse("nats-route://" + ln.Addr().String())
		node(t, "s3", func(o *server.Options) {
			o.Cluster.TLSConfig, o.Cluster.TLSPinnedCerts = routeTLS(ca, l1), p
			o.Cluster.Routes = []*url.URL{u}
		})
		nc, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		got, err := bufio.NewReader(nc).ReadString('\n')
		if err != nil {
			got = "closed"
		}
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("pinned=%v: peer read %q, want %q", tc.pinned, got, tc.want)
		}
		nc.Close()
		ln.Close()
	}
}

func TestRouteTLSVerifyAndMap(t *testing.T) {
	ca := testutil.NewCA(t, "routes")
	const user = "routes@example.com"
	l1 := routeLeaf(ca, testutil.LeafSpec{Name: "s1", Emails: []string{user}})
	l2 := routeLeaf(ca, testutil.LeafSpec{Name: "s2", Emails: []string{user}})
	rogue := routeLeaf(ca, testutil.LeafSpec{Name: "rogue", Emails: []string{"other@example.com"}})
	mapped := func(l *testutil.Leaf) func(*server.Options) {
		return func(o *server.Options) {
			o.Cluster.TLSConfig, o.Cluster.TLSMap, o.Cluster.Username = routeTLS(ca, l), true, user
		}
	}
	s1 := node(t, "s1", mapped(l1))
	s2 := node(t, "s2", mapped(l2), s1)
	waitMesh(t, s1, s2)
	sub, _ := connect(t, s2).SubscribeSync("mapped")
	waitInterest(t, s1, "mapped", 1)
	connect(t, s1).Publish("mapped", []byte("x"))
	next(t, sub)

	// The certificate decides: the right user name in CONNECT does not
	// let in a certificate that names someone else, and a certificate
	// that names the user needs no password.
	if got := dialRouteTLS(t, s1, ca, rogue).join(t, user, ""); got != "-ERR 'Authorization Violation'" {
		t.Fatalf("rogue certificate: %q", got)
	}
	if got := dialRouteTLS(t, s1, ca, l2).join(t, "", ""); got != "PONG" {
		t.Fatalf("mapped certificate: %q", got)
	}

	// The subject works too, as the text nats-server matches.
	byDN := routeLeaf(ca, testutil.LeafSpec{Name: "dn"})
	s3 := node(t, "s3", func(o *server.Options) {
		o.Cluster.TLSConfig, o.Cluster.TLSMap = routeTLS(ca, l1), true
		o.Cluster.Username = byDN.Cert.Subject.ToRDNSequence().String()
	})
	if got := dialRouteTLS(t, s3, ca, byDN).join(t, "", ""); got != "PONG" {
		t.Fatalf("subject %q: %q", s3.Routes().Config().Username, got)
	}
	// verify_and_map without a cluster user lets no route in (as in
	// nats-server: there is no user for a certificate to name).
	s4 := node(t, "s4", func(o *server.Options) { o.Cluster.TLSConfig, o.Cluster.TLSMap = routeTLS(ca, l1), true })
	if got := dialRouteTLS(t, s4, ca, l2).join(t, user, ""); got != "-ERR 'Authorization Violation'" {
		t.Fatalf("no cluster user: %q", got)
	}
}

func TestRouteTLSCheckKnownURLs(t *testing.T) {
	ca := testutil.NewCA(t, "routes")
	l1 := routeLeaf(ca, testutil.LeafSpec{Name: "s1"})
	l2 := routeLeaf(ca, testutil.LeafSpec{Name: "s2", DNSNames: []string{"node2.example.net"}})
	s2 := node(t, "s2", func(o *server.Options) { o.Cluster.TLSConfig = routeTLS(ca, l2) })
	// s1 knows s2 as localhost: a peer whose certificate carries that
	// name is let in, whatever it says in CONNECT.
	known, _ := url.Parse("nats-route://localhost:" + strconv.Itoa(s2.Routes().Port()))
	s1 := node(t, "s1", func(o *server.Options) {
		o.Cluster.TLSConfig, o.Cluster.TLSCheckKnownURLs = routeTLS(ca, l1), true
		o.Cluster.Routes = []*url.URL{known}
	})
	waitMesh(t, s1, s2)
	other := ca.Issue(testutil.LeafSpec{Name: "other", Client: true, DNSNames: []string{"node9.example.net"}})
	if got := dialRouteTLS(t, s1, ca, other).join(t, "", ""); got != "-ERR 'Authorization Violation'" {
		t.Fatalf("unknown DNS name: %q", got)
	}
}

func TestRouteTLSTimeout(t *testing.T) {
	ca := testutil.NewCA(t, "routes")
	l1 := routeLeaf(ca, testutil.LeafSpec{Name: "s1"})
	s1 := node(t, "s1", func(o *server.Options) {
		o.Cluster.TLSConfig, o.Cluster.TLSTimeout = routeTLS(ca, l1), 100*time.Millisecond
	})
	if d := s1.Routes().Config().TLSTimeout; d != 100*time.Millisecond {
		t.Fatalf("TLS timeout in force %v", d)
	}
	// A peer that never starts its handshake is cut at the TLS timeout,
	// well before the 2s default would.
	nc, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(s1.Routes().Port()))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetReadDeadline(time.Now().Add(1500 * time.Millisecond))
	_, err = nc.Read(make([]byte, 1))
	if ne, ok := err.(net.Error); err == nil || (ok && ne.Timeout()) {
		t.Fatalf("stalled handshake not cut: %v", err)
	}
}

var _ = route.TLSSettings{}

// TestRouteAuthTimeoutDuringTLS: an auth timeout shorter than the TLS
// handshake it interrupts (auth_timeout below tls timeout) closes the
// connection the handshake is replacing. Run under the race detector:
// the timer's close and the handshake's switch to TLS touch the same
// connection from two goroutines.
func TestRouteAuthTimeoutDuringTLS(t *testing.T) {
	for _, user := range []string{"", "u"} {
		t.Run("user="+user, func(t *testing.T) { authTimeoutDuringTLS(t, user) })
	}
}

// authTimeoutDuringTLS: with a route user set, the timer's close is the
// one that sends -ERR 'Authentication Timeout' first, which cannot go
// out before TLS: the connection must end all the same.
func authTimeoutDuringTLS(t *testing.T, user string) {
	ca := testutil.NewCA(t, "routes")
	l1 := routeLeaf(ca, testutil.LeafSpec{Name: "s1"})
	peer := routeLeaf(ca, testutil.LeafSpec{Name: "peer"})
	s1 := node(t, "s1", func(o *server.Options) {
		o.Cluster.TLSConfig, o.Cluster.TLSTimeout = routeTLS(ca, l1), 2*time.Second
		o.Cluster.AuthTimeout = 3 * time.Millisecond
		if user != "" {
			o.Cluster.Username, o.Cluster.Password = user, "p"
		}
	})
	for i := 0; i < 20; i++ {
		raw, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(s1.Routes().Port()))
		if err != nil {
			t.Fatal(err)
		}
		tc := tls.Client(raw, &tls.Config{Certificates: []tls.Certificate{peer.Pair}, RootCAs: ca.Pool(), ServerName: "127.0.0.1"})
		tc.SetDeadline(time.Now().Add(5 * time.Second))
		// The handshake may finish or be cut; either way the connection
		// ends without a CONNECT.
		if err := tc.Handshake(); err == nil {
			// Its INFO may come first.
			_, err := io.Copy(io.Discard, tc)
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("a route that sent nothing was kept past its auth timeout")
			}
		}
		tc.Close()
	}
	nc := connect(t, s1)
	if err := nc.Flush(); err != nil {
		t.Fatalf("server unwell after the cut handshakes: %v", err)
	}
}
