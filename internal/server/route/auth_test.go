package route_test

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

func withRouteUser(o *server.Options) {
	o.Cluster.Username, o.Cluster.Password = "ruser", "rpass"
}

func TestRouteUserPassword(t *testing.T) {
	s1 := node(t, "s1", withRouteUser)
	s2 := node(t, "s2", withRouteUser)
	s2.Shutdown()
	u, _ := url.Parse("nats-route://ruser:rpass@127.0.0.1:" + strconv.Itoa(s1.Routes().Port()))
	s2 = testutil.RunServer(t, func(o *server.Options) {
		o.ServerName = "s2"
		o.Cluster = clusterAt(-1)
		withRouteUser(o)
		o.Cluster.Routes = []*url.URL{u}
	})
	waitMesh(t, s1, s2)
	sub, _ := connect(t, s2).SubscribeSync("x")
	waitInterest(t, s1, "x", 1)
	connect(t, s1).Publish("x", []byte("ok"))
	next(t, sub)

	// Raw: wrong credentials are refused the way nats-server refuses them.
	for _, connect := range []string{
		`{"user":"ruser","pass":"wrong","name":"NX","cluster":"c"}`,
		`{"name":"NX","cluster":"c"}`,
	} {
		nc, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(s1.Routes().Port()))
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(nc)
		line, _ := br.ReadString('\n')
		if !strings.Contains(line, `"auth_required":true`) {
			t.Fatalf("INFO lacks auth_required: %s", line)
		}
		fmt.Fprintf(nc, "CONNECT %s\r\nINFO {\"server_id\":\"NX\",\"cluster\":\"c\"}\r\n", connect)
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, _ = br.ReadString('\n')
		if !strings.HasPrefix(line, "-ERR 'Authorization Violation'") {
			t.Fatalf("got %q, want the authorization violation", line)
		}
		nc.Close()
	}
}

func TestRouteClusterNameMismatch(t *testing.T) {
	s1 := node(t, "s1", nil)
	nc, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(s1.Routes().Port()))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	br := bufio.NewReader(nc)
	br.ReadString('\n')
	fmt.Fprintf(nc, "CONNECT {\"name\":\"NX\",\"cluster\":\"other\"}\r\n")
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, _ := br.ReadString('\n')
	if !strings.Contains(line, `cluster name "other" does not match "c"`) {
		t.Fatalf("got %q", line)
	}
}

func TestRouteTLSVerify(t *testing.T) {
	ca := testutil.NewCA(t, "routes")
	tlsFor := func(ca *testutil.CA, name string) *tls.Config {
		leaf := ca.Issue(testutil.LeafSpec{Name: name, Server: true, Client: true,
			DNSNames: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
		return &tls.Config{Certificates: []tls.Certificate{leaf.Pair}, ClientCAs: ca.Pool(),
			ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
	}
	s1 := node(t, "s1", func(o *server.Options) { o.Cluster.TLSConfig = tlsFor(ca, "s1") })
	s2 := node(t, "s2", func(o *server.Options) { o.Cluster.TLSConfig = tlsFor(ca, "s2") }, s1)
	waitMesh(t, s1, s2)
	sub, _ := connect(t, s2).SubscribeSync("secure")
	waitInterest(t, s1, "secure", 1)
	connect(t, s1).Publish("secure", []byte("x"))
	next(t, sub)

	// A server whose certificate another CA issued does not get in.
	other := testutil.NewCA(t, "other")
	cfg := tlsFor(other, "rogue")
	cfg.RootCAs = ca.Pool() // it trusts s1, s1 does not trust it
	c := &tls.Config{Certificates: cfg.Certificates, RootCAs: ca.Pool(), ServerName: "127.0.0.1"}
	raw, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(s1.Routes().Port()))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	tc := tls.Client(raw, c)
	tc.SetDeadline(time.Now().Add(5 * time.Second))
	err = tc.Handshake()
	if err == nil {
		_, err = bufio.NewReader(tc).ReadString('\n')
	}
	if err == nil {
		t.Fatal("a certificate from an unknown CA was accepted")
	}
}
