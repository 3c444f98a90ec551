package server_test

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	njwt "github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

// Bad values of the operator options nats-server reads, and what they
// need: each refused with nats-server's reason.
func TestOperatorOptionsBadInput(t *testing.T) {
	op := newOperator(t)
	a := op.account(t, "A", nil)
	bearer, _ := a.user(t, "b", func(uc *njwt.UserClaims) { uc.BearerToken = true })
	plain, _ := a.user(t, "p", nil)
	ca := testutil.NewCA(t, "ca")
	cases := []struct{ extra, want string }{
		{"resolver_pinned_accounts: 12", "error parsing resolver_pinned_accounts: unsupported type"},
		{"resolver_pinned_accounts: [12]", "unsupported type in array"},
		{"resolver_pinned_accounts: [NOTAKEY]", `pinned account key "NOTAKEY" is not a valid public account nkey`},
		{"default_sentinel: garbage", "default sentinel JWT not valid"},
		{fmt.Sprintf("default_sentinel: %q", plain), "default sentinel must be a bearer token"},
		{"resolver_tls: 1", "'resolver_tls' must be a block"},
		{"resolver_tls { ca_file: /does/not/exist }", "error reading CA file"},
		{"resolver_tls { cert_file: x.pem }", "missing 'key_file'"},
	}
	for _, c := range cases {
		text := operatorConf(op, c.extra, a)
		var o server.Options
		_, err := o.ProcessConfigFile(writeConf(t, text), true)
		if err == nil {
			_, err = server.New(o)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.extra, err, c.want)
		}
	}
	// Good values load.
	good := fmt.Sprintf("resolver_pinned_accounts: %s\ndefault_sentinel: %q\nresolver_tls { ca_file: %q }", a.pub, bearer, ca.File)
	var o server.Options
	if _, err := o.ProcessConfigFile(writeConf(t, operatorConf(op, good, a)), true); err != nil {
		t.Fatal(err)
	}
	if _, err := server.New(o); err != nil {
		t.Fatal(err)
	}
	// A sentinel needs operator mode.
	var plainOpts server.Options
	_, err := plainOpts.ProcessConfigFile(writeConf(t, fmt.Sprintf("default_sentinel: %q\n", bearer)), true)
	if err == nil {
		_, err = server.New(plainOpts)
	}
	if err == nil || !strings.Contains(err.Error(), "default sentinel requires operators and accounts") {
		t.Errorf("sentinel without operator: %v", err)
	}
}

// resolver_tls: the URL resolver fetches account JWTs from an https
// account server that wants a client certificate, trusting its CA.
func TestResolverTLSFetchesOverHTTPS(t *testing.T) {
	op := newOperator(t)
	a := op.account(t, "A", nil)
	ca := testutil.NewCA(t, "ca")
	srvLeaf, cliLeaf := ca.ServerLeaf("srv"), ca.ClientLeaf("resolver")
	hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 0 {
			http.Error(w, "no client certificate", http.StatusForbidden)
			return
		}
		switch strings.TrimPrefix(r.URL.Path, "/jwt/v1/accounts/") {
		case a.pub:
			w.Write([]byte(a.jwt))
		case op.sys.pub:
			w.Write([]byte(op.sys.jwt))
		default:
			http.NotFound(w, r)
		}
	}))
	hs.TLS = tlsServerConfig(srvLeaf, ca)
	hs.StartTLS()
	t.Cleanup(hs.Close)
	conf := fmt.Sprintf("operator: %q\nsystem_account: %s\nresolver: URL(%q)\nresolver_tls { cert_file: %q, key_file: %q, ca_file: %q }\n",
		op.jwt, op.sys.pub, hs.URL+"/jwt/v1/accounts/", cliLeaf.CertFile, cliLeaf.KeyFile, ca.File)
	s := runConf(t, conf)
	tok, kp := a.user(t, "u", nil)
	nc := testutil.Connect(t, s, creds(tok, kp))
	if err := nc.Publish("x", nil); err != nil {
		t.Fatal(err)
	}

	// Without resolver_tls the account server's certificate is unknown.
	conf = fmt.Sprintf("operator: %q\nsystem_account: %s\nresolver: URL(%q)\n", op.jwt, op.sys.pub, hs.URL+"/jwt/v1/accounts/")
	s2 := runConf(t, conf)
	if nc, err := dial(s2, creds(tok, kp)); err == nil {
		nc.Close()
		t.Fatal("logged in although the account server could not be reached")
	}
}

// A reload that changes authorization asks the callout service again
// about the logins it vouched for, as nats-server does; a reload that
// does not leaves them alone.
func TestReloadAsksCalloutAgain(t *testing.T) {
	s, cs := startCallout(t, false)
	closed := make(chan error, 1)
	nc := testutil.Connect(t, s, nats.Token("good-token"), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case closed <- err:
		default:
		}
	}))
	if n := cs.calls.Load(); n != 1 {
		t.Fatalf("calls %d", n)
	}
	next := s.Options()
	next.MaxPayload = 1 << 19
	if _, err := s.ReloadOptions(next); err != nil {
		t.Fatal(err)
	}
	if n := cs.calls.Load(); n != 1 {
		t.Fatalf("reload without authorization change called the service: %d", n)
	}
	// Still welcome: asked again, the client stays.
	next = s.Options()
	next.Accounts = append(append([]*server.AccountConfig(nil), next.Accounts...), &server.AccountConfig{Name: "EXTRA"})
	if _, err := s.ReloadOptions(next); err != nil {
		t.Fatal(err)
	}
	if n := cs.calls.Load(); n != 2 {
		t.Fatalf("service called %d times, want 2", n)
	}
	if err := nc.Flush(); err != nil {
		t.Fatalf("client cut although the service vouched again: %v", err)
	}
	// The service changed its mind: the client is cut.
	cs.refuseAll.Store(true)
	next = s.Options()
	next.Accounts = append(append([]*server.AccountConfig(nil), next.Accounts...), &server.AccountConfig{Name: "EXTRA2"})
	if _, err := s.ReloadOptions(next); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-closed:
		if !strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
			t.Fatalf("closed with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("client not cut after the service refused it on reload")
	}
}

func tlsServerConfig(leaf *testutil.Leaf, ca *testutil.CA) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{leaf.Pair}, ClientCAs: ca.Pool(), ClientAuth: tls.RequireAndVerifyClientCert}
}
