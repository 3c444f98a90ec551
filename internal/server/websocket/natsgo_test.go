package websocket_test

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/server/auth"
	"github.com/sluicehq/sluice/internal/server/tlsconf"
	"github.com/sluicehq/sluice/internal/testutil"
	"github.com/sluicehq/sluice/pkg/api"
)

// runWS starts sluice with a plain-text WebSocket listener on a random port.
func runWS(t testing.TB, mutate ...func(*server.Options)) *server.Server {
	t.Helper()
	return testutil.RunServer(t, append([]func(*server.Options){func(o *server.Options) {
		o.Websocket.Host, o.Websocket.Port, o.Websocket.NoTLS = "127.0.0.1", -1, true
	}}, mutate...)...)
}

func wsConnect(t testing.TB, url string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatalf("nats.Connect(%s): %v", url, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// TestNatsGo drives every core operation through nats.go over ws://, with
// and without compression, against a TCP client on the same server.
func TestNatsGo(t *testing.T) {
	for _, comp := range []bool{false, true} {
		t.Run(fmt.Sprintf("compression=%v", comp), func(t *testing.T) {
			s := runWS(t, func(o *server.Options) { o.Websocket.Compression = true })
			ws := wsConnect(t, s.WebsocketURL(), nats.Compression(comp))
			tcp := testutil.Connect(t, s)

			// pub/sub both ways between a WebSocket and a TCP client
			sub, _ := ws.SubscribeSync("from.tcp")
			tsub, _ := tcp.SubscribeSync("from.ws")
			ws.Flush()
			tcp.Flush()
			tcp.Publish("from.tcp", []byte("hello ws"))
			ws.Publish("from.ws", []byte("hello tcp"))
			if m, err := sub.NextMsg(2 * time.Second); err != nil || string(m.Data) != "hello ws" {
				t.Fatalf("ws got %v, %v", m, err)
			}
			if m, err := tsub.NextMsg(2 * time.Second); err != nil || string(m.Data) != "hello tcp" {
				t.Fatalf("tcp got %v, %v", m, err)
			}

			// request/reply, the WebSocket client answering
			ws.Subscribe("svc", func(m *nats.Msg) { m.Respond(append([]byte("re:"), m.Data...)) })
			ws.Flush()
			if r, err := tcp.Request("svc", []byte("q"), 2*time.Second); err != nil || string(r.Data) != "re:q" {
				t.Fatalf("request: %v, %v", r, err)
			}
			if r, err := ws.Request("svc", []byte("self"), 2*time.Second); err != nil || string(r.Data) != "re:self" {
				t.Fatalf("ws request: %v, %v", r, err)
			}

			// headers
			hsub, _ := ws.SubscribeSync("hdr")
			ws.Flush()
			msg := nats.NewMsg("hdr")
			msg.Header.Set("X-Test", "v1")
			msg.Data = []byte("with headers")
			tcp.PublishMsg(msg)
			if m, err := hsub.NextMsg(2 * time.Second); err != nil || m.Header.Get("X-Test") != "v1" || string(m.Data) != "with headers" {
				t.Fatalf("headers: %v, %v", m, err)
			}

			// large payloads across many frames and reads, both ways
			big := bytes.Repeat([]byte("0123456789abcdef"), 64*1024) // 1 MiB = max_payload
			big = big[:len(big)-200]
			bsub, _ := ws.SubscribeSync("big")
			btsub, _ := tcp.SubscribeSync("big")
			ws.Flush()
			tcp.Flush()
			if err := ws.Publish("big", big); err != nil {
				t.Fatal(err)
			}
			for _, sb := range []*nats.Subscription{bsub, btsub} {
				m, err := sb.NextMsg(5 * time.Second)
				if err != nil || !bytes.Equal(m.Data, big) {
					t.Fatalf("big: %v (len %d)", err, len(m.Data))
				}
			}
			// many small messages in one go
			msub, _ := ws.SubscribeSync("many")
			ws.Flush()
			for i := range 5000 {
				tcp.Publish("many", fmt.Appendf(nil, "m%d", i))
			}
			for i := range 5000 {
				m, err := msub.NextMsg(5 * time.Second)
				if err != nil || string(m.Data) != fmt.Sprintf("m%d", i) {
					t.Fatalf("many %d: %v %v", i, m, err)
				}
			}
		})
	}
}

// TestConnzVarz: WebSocket clients show as type websocket; /varz has the block.
func TestConnzVarz(t *testing.T) {
	s := runWS(t, func(o *server.Options) {
		o.Websocket.Compression = true
		o.Websocket.AllowedOrigins = []string{"https://example.com"}
	})
	wsConnect(t, s.WebsocketURL(), nats.Name("wsclient"))
	testutil.Connect(t, s, nats.Name("tcpclient"))
	cz, err := s.Connz(nil)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for _, c := range cz.Conns {
		types[c.Name] = c.Type
	}
	if types["wsclient"] != "websocket" || types["tcpclient"] != "nats" {
		t.Fatalf("connz types: %v", types)
	}
	v, err := s.Varz()
	if err != nil {
		t.Fatal(err)
	}
	if v.Websocket.Port != s.WebsocketAddr().Port || !v.Websocket.Compression || !v.Websocket.NoTLS ||
		len(v.Websocket.AllowedOrigins) != 1 {
		t.Fatalf("varz websocket: %+v", v.Websocket)
	}
}

// TestOrigins: allowed_origins and same_origin decide which browsers may
// connect; a client that sends no Origin is let in.
func TestOrigins(t *testing.T) {
	s := runWS(t, func(o *server.Options) {
		o.Websocket.AllowedOrigins = []string{"https://app.example.com", "http://localhost:8080"}
	})
	url := s.WebsocketURL()
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{"https://app.example.com", true},
		{"https://app.example.com:443", true},
		{"http://localhost:8080", true},
		{"http://app.example.com", false},
		{"https://evil.example.com", false},
		{"http://localhost:8081", false},
	} {
		h := http.Header{}
		if tc.origin != "" {
			h.Set("Origin", tc.origin)
		}
		nc, err := nats.Connect(url, nats.WebSocketConnectionHeaders(h), nats.MaxReconnects(0), nats.NoReconnect())
		if (err == nil) != tc.ok {
			t.Errorf("origin %q: err %v, want ok=%v", tc.origin, err, tc.ok)
		}
		if nc != nil {
			nc.Close()
		}
	}
	same := runWS(t, func(o *server.Options) { o.Websocket.SameOrigin = true })
	host := same.WebsocketAddr().String()
	for origin, ok := range map[string]bool{"http://" + host: true, "https://" + host: false, "http://other:1": false} {
		nc, err := nats.Connect(same.WebsocketURL(), nats.WebSocketConnectionHeaders(http.Header{"Origin": {origin}}), nats.NoReconnect())
		if (err == nil) != ok {
			t.Errorf("same origin %q: err %v, want ok=%v", origin, err, ok)
		}
		if nc != nil {
			nc.Close()
		}
	}
}

// TestCookies: configured cookies stand in for the CONNECT fields the
// client leaves empty.
func TestCookies(t *testing.T) {
	cookie := func(name, value string) nats.Option {
		return nats.WebSocketConnectionHeaders(http.Header{"Cookie": {name + "=" + value}})
	}
	t.Run("token", func(t *testing.T) {
		s := runWS(t, func(o *server.Options) {
			o.Authorization = "s3cret"
			o.Websocket.TokenCookie = "tok"
		})
		wsConnect(t, s.WebsocketURL(), cookie("tok", "s3cret"))
		if _, err := nats.Connect(s.WebsocketURL(), cookie("tok", "wrong"), nats.NoReconnect()); err == nil {
			t.Fatal("wrong token cookie accepted")
		}
		if _, err := nats.Connect(s.WebsocketURL(), cookie("other", "s3cret"), nats.NoReconnect()); err == nil {
			t.Fatal("unconfigured cookie used")
		}
	})
	t.Run("user/pass", func(t *testing.T) {
		s := runWS(t, func(o *server.Options) {
			o.Users = []*auth.User{{Username: "alice", Password: "pw"}}
			o.Websocket.UsernameCookie, o.Websocket.PasswordCookie = "u", "p"
		})
		h := http.Header{"Cookie": {"u=alice; p=pw"}}
		nc := wsConnect(t, s.WebsocketURL(), nats.WebSocketConnectionHeaders(h))
		if nc.ConnectedUrl() == "" {
			t.Fatal("not connected")
		}
		// CONNECT's own credentials win over cookies.
		if _, err := nats.Connect(s.WebsocketURL(), nats.WebSocketConnectionHeaders(h), nats.UserInfo("alice", "bad"), nats.NoReconnect()); err == nil {
			t.Fatal("CONNECT password did not win over the cookie")
		}
	})
	t.Run("jwt needs operator mode", func(t *testing.T) {
		_, err := server.New(server.Options{Websocket: wsOpts(func(o *wsOptions) { o.JWTCookie = "jwt" })})
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte("trusted operators")) {
			t.Fatalf("jwt_cookie without operator: %v", err)
		}
	})
}

// TestListenerAuth: the block's authorization replaces the server's for
// WebSocket clients only; without one they use the server's.
func TestListenerAuth(t *testing.T) {
	s := runWS(t, func(o *server.Options) {
		o.Username, o.Password = "srv", "srvpw"
		o.Websocket.Username, o.Websocket.Password = "web", "webpw"
	})
	wsConnect(t, s.WebsocketURL(), nats.UserInfo("web", "webpw"))
	testutil.Connect(t, s, nats.UserInfo("srv", "srvpw"))
	if _, err := nats.Connect(s.WebsocketURL(), nats.UserInfo("srv", "srvpw"), nats.NoReconnect()); err == nil {
		t.Fatal("server user accepted on the websocket listener with its own authorization")
	}
	if _, err := nats.Connect(s.ClientURL(), nats.UserInfo("web", "webpw"), nats.NoReconnect()); err == nil {
		t.Fatal("websocket user accepted on the client port")
	}

	// Only the websocket listener requires a token.
	tok := runWS(t, func(o *server.Options) { o.Websocket.Token = "wstok" })
	testutil.Connect(t, tok)
	wsConnect(t, tok.WebsocketURL(), nats.Token("wstok"))
	if _, err := nats.Connect(tok.WebsocketURL(), nats.NoReconnect()); err == nil {
		t.Fatal("websocket client without the listener's token accepted")
	}

	// Users with allowed_connection_types, and the listener's no_auth_user.
	users := runWS(t, func(o *server.Options) {
		o.Accounts = []*server.AccountConfig{{Name: "A"}, {Name: "B"}}
		o.Users = []*auth.User{
			{Username: "tcponly", Password: "p", Account: "A", AllowedConnectionTypes: map[string]bool{auth.ConnStandard: true}},
			{Username: "webonly", Password: "p", Account: "B", AllowedConnectionTypes: map[string]bool{auth.ConnWebsocket: true}},
		}
		o.Websocket.NoAuthUser = "webonly"
	})
	if _, err := nats.Connect(users.WebsocketURL(), nats.UserInfo("tcponly", "p"), nats.NoReconnect()); err == nil {
		t.Fatal("STANDARD-only user accepted over websocket")
	}
	if _, err := nats.Connect(users.ClientURL(), nats.UserInfo("webonly", "p"), nats.NoReconnect()); err == nil {
		t.Fatal("WEBSOCKET-only user accepted over TCP")
	}
	anon := wsConnect(t, users.WebsocketURL()) // no_auth_user webonly, account B
	web := wsConnect(t, users.WebsocketURL(), nats.UserInfo("webonly", "p"))
	sub, _ := web.SubscribeSync("acc.b")
	web.Flush()
	anon.Publish("acc.b", []byte("same account"))
	if _, err := sub.NextMsg(2 * time.Second); err != nil {
		t.Fatalf("no_auth_user not in account B: %v", err)
	}
}

// TestTLS: wss:// with a client certificate required, and verify_and_map
// naming the user from the certificate (the client sends no credentials
// to a server that requires them).
func TestTLS(t *testing.T) {
	ca := testutil.NewCA(t, "ws-ca")
	srv := ca.ServerLeaf("server")
	cli := ca.ClientLeaf("alice")
	cfg, err := tlsconf.Build(tlsconf.Settings{CertFile: srv.CertFile, KeyFile: srv.KeyFile, CaFile: ca.File, Verify: true, Map: true})
	if err != nil {
		t.Fatal(err)
	}
	s := testutil.RunServer(t, func(o *server.Options) {
		o.Users = []*auth.User{{Username: "CN=alice"}, {Username: "tcp", Password: "p"}}
		o.Websocket.Host, o.Websocket.Port = "127.0.0.1", -1
		o.Websocket.TLSConfig, o.Websocket.TLSMap = cfg, true
	})
	if v, _ := s.Varz(); v.Websocket.TLSCertNotAfter.IsZero() {
		t.Error("varz websocket tls_cert_not_after missing")
	}
	url := s.WebsocketURL()
	if url[:6] != "wss://" {
		t.Fatalf("url %s", url)
	}
	clientTLS := &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{cli.Pair}}
	nc := wsConnect(t, url, nats.Secure(clientTLS), nats.Compression(true))
	sub, _ := nc.SubscribeSync("x")
	nc.Flush()
	testutil.Connect(t, s, nats.UserInfo("tcp", "p")).Publish("x", []byte("over wss"))
	if m, err := sub.NextMsg(2 * time.Second); err != nil || string(m.Data) != "over wss" {
		t.Fatalf("wss delivery: %v %v", m, err)
	}
	cz, _ := s.Connz(&api.ConnzOptions{Username: true})
	found := false
	for _, c := range cz.Conns {
		if c.Type == "websocket" {
			found = c.TLSVersion != "" && len(c.TLSPeerCerts) == 1
		}
	}
	if !found {
		t.Fatalf("wss client without TLS details in connz")
	}
	// No client certificate: the handshake fails.
	if _, err := nats.Connect(url, nats.Secure(&tls.Config{RootCAs: ca.Pool()}), nats.NoReconnect()); err == nil {
		t.Fatal("wss client without certificate accepted")
	}
}

// TestSeedConfig runs the websocket block of the seed document as
// written (certificates made up, the auth callout part left out).
func TestSeedConfig(t *testing.T) {
	ca := testutil.NewCA(t, "seed-ca")
	leaf := ca.ServerLeaf("fullchain")
	dir := t.TempDir()
	conf := filepath.Join(dir, "nats-server.conf")
	os.WriteFile(conf, fmt.Appendf(nil, `
server_name: nats-auth-demo
listen: 127.0.0.1:-1
http_port: -1
tls {
  cert_file: %[1]q
  key_file: %[2]q
}
websocket {
  port: -1
  tls {
    cert_file: %[1]q
    key_file: %[2]q
  }
  allowed_origins: ["https://your-domain.example.com"]
  compression: true
}
accounts {
  AUTH: { users: [ { user: "auth-service", password: "callout-secret" } ] }
  APP: {}
  SYS: {}
}
system_account: SYS
logtime: true
debug: true
trace: false
`, leaf.CertFile, leaf.KeyFile), 0o600)
	var o server.Options
	warns, err := o.ProcessConfigFile(conf, true)
	if err != nil {
		t.Fatalf("config: %v (warnings %v)", err, warns)
	}
	for _, w := range warns {
		t.Logf("warning: %v", w)
	}
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	secure := nats.Secure(&tls.Config{RootCAs: ca.Pool()})
	origin := func(o string) nats.Option {
		return nats.WebSocketConnectionHeaders(http.Header{"Origin": {o}})
	}
	nc := wsConnect(t, s.WebsocketURL(), secure, nats.Compression(true), origin("https://your-domain.example.com"),
		nats.UserInfo("auth-service", "callout-secret"))
	if r, err := nc.Request("nobody", nil, time.Second); err != nats.ErrNoResponders {
		t.Fatalf("request: %v %v", r, err)
	}
	if _, err := nats.Connect(s.WebsocketURL(), secure, origin("https://elsewhere.example.com"), nats.NoReconnect(),
		nats.UserInfo("auth-service", "callout-secret")); err == nil {
		t.Fatal("origin outside allowed_origins accepted")
	}
}

// TestPingAndShutdown: the block's ping_interval applies to WebSocket
// clients (a silent client is found stale), and shutdown closes them with
// status 1001.
func TestPingAndShutdown(t *testing.T) {
	s := runWS(t, func(o *server.Options) {
		o.Websocket.PingInterval = 50 * time.Millisecond
		o.MaxPingsOut = 1
	})
	w := upgraded(t, s.WebsocketAddr().String())
	w.readUntil("INFO")
	w.sendText("CONNECT {\"verbose\":false}\r\n")
	w.readUntil("PING") // well before the server's 2 minutes
	st, text := w.closed()
	if st != 1001 || text != "Stale Connection" {
		t.Fatalf("stale: close %d %q", st, text)
	}

	w2 := upgraded(t, s.WebsocketAddr().String())
	w2.readUntil("INFO")
	go s.Shutdown()
	if st, text := w2.closed(); st != 1001 || text != "Server Shutdown" {
		t.Fatalf("shutdown: close %d %q", st, text)
	}
}

// TestAuthTimeout: the block's authorization timeout applies; the client
// gets nats-server's -ERR and a close frame with status 1008.
func TestAuthTimeout(t *testing.T) {
	s := runWS(t, func(o *server.Options) {
		o.Websocket.Token, o.Websocket.AuthTimeout = "t", 100*time.Millisecond
	})
	w := upgraded(t, s.WebsocketAddr().String())
	w.readUntil("INFO")
	w.readUntil("-ERR 'Authentication Timeout'")
	if st, text := w.closed(); st != 1008 || text != "Authentication Timeout" {
		t.Fatalf("close %d %q", st, text)
	}
}

// TestForwardedFor: a valid X-Forwarded-For IP is the client's address in
// /connz, as in nats-server; an invalid one is ignored.
func TestForwardedFor(t *testing.T) {
	s := runWS(t)
	for name, hdr := range map[string]string{"fwd": "203.0.113.7", "bad": "not-an-ip"} {
		wsConnect(t, s.WebsocketURL(), nats.Name(name), nats.WebSocketConnectionHeaders(http.Header{"X-Forwarded-For": {hdr}}))
	}
	cz, _ := s.Connz(nil)
	ips := map[string]string{}
	for _, c := range cz.Conns {
		ips[c.Name] = c.IP
	}
	if ips["fwd"] != "203.0.113.7" || ips["bad"] != "127.0.0.1" {
		t.Fatalf("connz IPs %v", ips)
	}
}
