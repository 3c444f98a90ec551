package websocket_test

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/server/tlsconf"
	"github.com/sluicehq/sluice/internal/testutil"
)

func readConf(t *testing.T, text string) (server.Options, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ws.conf")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	var o server.Options
	_, err := o.ProcessConfigFile(path, true)
	return o, err
}

// TestConfigBlock reads every key of the block as nats-server does.
func TestConfigBlock(t *testing.T) {
	o, err := readConf(t, `
ws {
  listen: "127.0.0.1:8443"
  advertise: "ws.example.com:443"
  no_tls: true
  same_origin: true
  allowed_origins: "https://a.example.com"
  handshake_timeout: "3s"
  compress: true
  authorization { user: u, password: p, timeout: 1.5 }
  jwt_cookie: j
  user_cookie: uc
  pass_cookie: pc
  token_cookie: tc
  no_auth_user: nobody
  headers { X-Frame-Options: DENY }
  ping_interval: "30s"
}`)
	if err != nil {
		t.Fatal(err)
	}
	w := o.Websocket
	if w.Host != "127.0.0.1" || w.Port != 8443 || w.Advertise != "ws.example.com:443" || !w.NoTLS || !w.SameOrigin ||
		len(w.AllowedOrigins) != 1 || w.HandshakeTimeout != 3*time.Second || !w.Compression ||
		w.Username != "u" || w.Password != "p" || w.AuthTimeout != 1500*time.Millisecond ||
		w.JWTCookie != "j" || w.UsernameCookie != "uc" || w.PasswordCookie != "pc" || w.TokenCookie != "tc" ||
		w.NoAuthUser != "nobody" || w.Headers["X-Frame-Options"] != "DENY" || w.PingInterval != 30*time.Second {
		t.Fatalf("%+v", w)
	}
}

// TestConfigErrors: every bad input is refused with a message naming it.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ conf, want string }{
		{`websocket: 8080`, "'websocket' must be a block"},
		{`websocket { port: "x" }`, "'websocket.port' must be a whole number"},
		{`websocket { port: 70000 }`, "between -1 and 65535"},
		{`websocket { port: 1, compression: "yes" }`, "'websocket.compression' must be true or false"},
		{`websocket { port: 1, handshake_timeout: "soon" }`, "invalid duration"},
		{`websocket { port: 1, bogus: 1 }`, `unknown field "bogus"`},
		{`websocket { port: 1, authorization { users: [] } }`, `unknown field "users"`},
		{`websocket { port: 1, tls { cert_file: "/nonexistent.pem", key_file: "/nonexistent.key" } }`, "nonexistent"},
		{`websocket { port: 1, allowed_origins: [1] }`, "must be strings"},
		{`websocket { listen: "nope" }`, "must be host:port"},
	} {
		_, err := readConf(t, tc.conf)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.conf, err, tc.want)
		}
	}
}

// TestValidate: combinations refused at start, with nats-server's texts.
func TestValidate(t *testing.T) {
	for _, tc := range []struct{ conf, want string }{
		{`websocket { port: -1 }`, "websocket requires TLS configuration"},
		{`websocket { port: -1, no_tls: true, allowed_origins: ["ftp://x"] }`, "allowed origins must be absolute URLs with http or https scheme"},
		{`websocket { port: -1, no_tls: true, allowed_origins: ["nope"] }`, "unable to parse allowed origin"},
		{`websocket { port: -1, no_tls: true, no_auth_user: ghost }`, "users/nkeys are not defined"},
		{"authorization { users: [{user: a, password: b}] }\nwebsocket { port: -1, no_tls: true, no_auth_user: ghost }", "not present as user"},
		{"authorization { users: [{user: a, password: b}] }\nwebsocket { port: -1, no_tls: true, authorization { user: x, password: y } }", "username not compatible"},
		{"authorization { users: [{user: a, password: b}] }\nwebsocket { port: -1, no_tls: true, authorization { token: t } }", "token not compatible"},
		{`websocket { port: -1, no_tls: true, jwt_cookie: jwt }`, "trusted operators or trusted keys configuration is required"},
		{`websocket { port: -1, no_tls: true, headers { Connection: x } }`, `invalid header "Connection" not allowed`},
		{`websocket { port: -1, no_tls: true, headers { Sec-WebSocket-Foo: x } }`, `"Sec-WebSocket-" prefix not allowed`},
	} {
		o, err := readConf(t, tc.conf)
		if err == nil {
			_, err = server.New(o)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.conf, err, tc.want)
		}
	}
}

// TestReload: as in nats-server, a reload may change the block's TLS but
// nothing else; a refused reload leaves the listener serving.
func TestReload(t *testing.T) {
	ca := testutil.NewCA(t, "reload-ca")
	one, two := ca.ServerLeaf("one"), ca.ServerLeaf("two")
	dir := t.TempDir()
	path := filepath.Join(dir, "r.conf")
	write := func(leaf *testutil.Leaf, extra string) {
		os.WriteFile(path, []byte(`listen: "127.0.0.1:-1"
websocket {
  listen: "127.0.0.1:-1"
  tls { cert_file: "`+leaf.CertFile+`", key_file: "`+leaf.KeyFile+`" }
  `+extra+`
}`), 0o600)
	}
	load := func() server.Options {
		var o server.Options
		if _, err := o.ProcessConfigFile(path, true); err != nil {
			t.Fatal(err)
		}
		return o
	}
	write(one, "")
	s, err := server.New(load())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	serverCert := func() string {
		nc, err := nats.Connect(s.WebsocketURL(), nats.RootCAs(ca.File))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		st, err := nc.TLSConnectionState()
		if err != nil {
			t.Fatal(err)
		}
		return st.PeerCertificates[0].Subject.CommonName
	}
	if cn := serverCert(); cn != "one" {
		t.Fatalf("cert %s", cn)
	}
	write(two, "")
	if _, err := s.ReloadOptions(load()); err != nil {
		t.Fatalf("TLS reload refused: %v", err)
	}
	if cn := serverCert(); cn != "two" {
		t.Fatalf("after reload, cert %s", cn)
	}
	write(two, "compression: true")
	if _, err := s.ReloadOptions(load()); err == nil || !strings.Contains(err.Error(), "config reload not supported for websocket") {
		t.Fatalf("reload of compression: %v", err)
	}
	if s.Options().Websocket.Compression {
		t.Fatal("refused reload applied")
	}
	serverCert()
}

// TestReloadPinnedCerts: a reload that takes a connected client's key out
// of the block's pinned_certs closes it; pins refuse new clients at once.
func TestReloadPinnedCerts(t *testing.T) {
	ca := testutil.NewCA(t, "pin-ca")
	srv, alice, bob := ca.ServerLeaf("server"), ca.ClientLeaf("alice"), ca.ClientLeaf("bob")
	path := filepath.Join(t.TempDir(), "p.conf")
	write := func(pins ...*testutil.Leaf) {
		var ids []string
		for _, p := range pins {
			ids = append(ids, `"`+tlsconf.KeyID(p.Cert)+`"`)
		}
		os.WriteFile(path, []byte(`listen: "127.0.0.1:-1"
websocket {
  listen: "127.0.0.1:-1"
  tls { cert_file: "`+srv.CertFile+`", key_file: "`+srv.KeyFile+`", ca_file: "`+ca.File+`", verify: true
        pinned_certs: [`+strings.Join(ids, ", ")+`] }
}`), 0o600)
	}
	load := func() server.Options {
		var o server.Options
		if _, err := o.ProcessConfigFile(path, true); err != nil {
			t.Fatal(err)
		}
		return o
	}
	write(alice, bob)
	s, err := server.New(load())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	dial := func(l *testutil.Leaf) (*nats.Conn, error) {
		return nats.Connect(s.WebsocketURL(), nats.NoReconnect(),
			nats.Secure(&tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{l.Pair}}))
	}
	a, err := dial(alice)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := dial(bob)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	write(alice)
	if _, err := s.ReloadOptions(load()); err != nil {
		t.Fatal(err)
	}
	testutil.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if !b.IsClosed() {
			return fmt.Errorf("bob still connected")
		}
		return nil
	})
	if a.IsClosed() {
		t.Fatal("alice closed")
	}
	if _, err := dial(bob); err == nil {
		t.Fatal("bob connected again")
	}
}
