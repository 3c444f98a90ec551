package server_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"golang.org/x/crypto/bcrypt"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

// runConf starts a server from configuration text, on a random port.
func runConf(t *testing.T, text string, mutate ...func(*server.Options)) *server.Server {
	t.Helper()
	var parsed server.Options
	if _, err := parsed.ProcessConfigFile(writeConf(t, text), true); err != nil {
		t.Fatalf("config: %v", err)
	}
	return testutil.RunServer(t, append([]func(*server.Options){func(o *server.Options) {
		logger := o.Logger
		*o = parsed
		o.Host, o.Port, o.Logger = "127.0.0.1", server.RandomPort, logger
	}}, mutate...)...)
}

func dial(s *server.Server, opts ...nats.Option) (*nats.Conn, error) {
	return nats.Connect(s.ClientURL(), append(opts, nats.MaxReconnects(0))...)
}

func mustDial(t *testing.T, s *server.Server, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := dial(s, opts...)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func bcryptOf(t *testing.T, secret string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(secret), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// logBuffer collects server log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) add(level, format string, v []any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(level + " " + strings.TrimSpace(fmt.Sprintf(format, v...)) + "\n")
}
func (l *logBuffer) String() string             { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }
func (l *logBuffer) Noticef(f string, v ...any) { l.add("INF", f, v) }
func (l *logBuffer) Warnf(f string, v ...any)   { l.add("WRN", f, v) }
func (l *logBuffer) Errorf(f string, v ...any)  { l.add("ERR", f, v) }
func (l *logBuffer) Fatalf(f string, v ...any)  { l.add("FTL", f, v) }
func (l *logBuffer) Debugf(f string, v ...any)  { l.add("DBG", f, v) }
func (l *logBuffer) Tracef(f string, v ...any)  { l.add("TRC", f, v) }
func withLog(l *logBuffer) func(*server.Options) {
	return func(o *server.Options) { o.Logger = l; o.Trace = true }
}

func TestUsersListPlainAndBcrypt(t *testing.T) {
	t.Parallel()
	logs := &logBuffer{}
	s := runConf(t, `
authorization {
  users: [
    {user: alice, password: "plain-pass"}
    {user: bob, password: "`+bcryptOf(t, "bcrypt-pass")+`"}
  ]
}`, withLog(logs))
	for _, c := range []struct {
		user, pass string
		ok         bool
	}{
		{"alice", "plain-pass", true}, {"bob", "bcrypt-pass", true},
		{"alice", "bcrypt-pass", false}, {"bob", "wrong", false}, {"carol", "plain-pass", false},
	} {
		nc, err := dial(s, nats.UserInfo(c.user, c.pass))
		if c.ok != (err == nil) {
			t.Errorf("%s/%s: err %v, want ok=%v", c.user, c.pass, err, c.ok)
		}
		if err == nil {
			nc.Close()
		} else if !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("%s: want an authorization violation, got %v", c.user, err)
		}
	}
	if _, err := dial(s); err == nil {
		t.Error("connected without credentials")
	}
	got := logs.String()
	if !strings.Contains(got, `authentication error - User "carol"`) {
		t.Errorf("auth failure not logged with the user name:\n%s", got)
	}
	for _, secret := range []string{"plain-pass", "bcrypt-pass", "wrong"} {
		if strings.Contains(got, secret) {
			t.Errorf("log reveals %q:\n%s", secret, got)
		}
	}
}

func TestBcryptToken(t *testing.T) {
	t.Parallel()
	s := runConf(t, `authorization { token: "`+bcryptOf(t, "s3cr3t-token")+`" }`)
	mustDial(t, s, nats.Token("s3cr3t-token"))
	if _, err := dial(s, nats.Token("other")); err == nil {
		t.Error("wrong token accepted")
	}
}

func TestNkeyUsers(t *testing.T) {
	t.Parallel()
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	other, _ := nkeys.CreateUser()
	s := runConf(t, `authorization { users: [ {nkey: "`+pub+`"} ] }`)

	rc, info := testutil.NewRawConn(t, s)
	defer rc.Close()
	if info.Nonce == "" || !info.AuthRequired {
		t.Fatalf("INFO lacks nonce/auth_required: %+v", info)
	}

	opt, err := nats.NkeyOptionFromSeed(writeFileT(t, "user.nk", string(seed)))
	if err != nil {
		t.Fatal(err)
	}
	mustDial(t, s, opt)
	// The right public key with another key's signature is refused.
	forged := nats.Nkey(pub, func(nonce []byte) ([]byte, error) { return other.Sign(nonce) })
	if _, err := dial(s, forged); err == nil {
		t.Error("forged nkey signature accepted")
	}
}

func TestNoAuthUserAndConnectionTypes(t *testing.T) {
	t.Parallel()
	s := runConf(t, `
accounts {
  A { users: [ {user: anon, password: x}, {user: wsonly, password: y, allowed_connection_types: ["WEBSOCKET"]} ] }
}
no_auth_user: anon
`)
	nc := mustDial(t, s)
	// anon is in account A: a user of A sees its messages.
	peer := mustDial(t, s, nats.UserInfo("anon", "x"))
	sub, _ := peer.SubscribeSync("hello")
	peer.Flush()
	nc.Publish("hello", []byte("from no_auth_user"))
	if _, err := sub.NextMsg(5 * time.Second); err != nil {
		t.Fatalf("no_auth_user not in its account: %v", err)
	}
	if _, err := dial(s, nats.UserInfo("wsonly", "y")); err == nil {
		t.Error("user limited to WEBSOCKET connected over a standard connection")
	}
	if _, err := dial(s, nats.UserInfo("anon", "bad")); err == nil {
		t.Error("wrong password accepted because no_auth_user is set")
	}
}

func TestSecurityConfigErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ conf, want string }{
		{`authorization { token: t, users: [{user: a, password: b}] }`, "Can not have a token and a users array"},
		{`authorization { users: [{user: a, password: b, account: NOPE}] }`, `account "NOPE" is not defined`},
		{`authorization { users: [{user: a}, {user: a}] }`, `:1:36: duplicate user "a" (first defined at `},
		{"accounts { A { users: [{user: a}] }\n  B { users: [{user: a}] } }", `:2:15: duplicate user "a" (first defined at `},
		{`authorization { users: [{nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4}, {nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4}] }`, `duplicate user "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4"`},
		{`authorization { users: [{nkey: "UNOTAKEY"}] }`, "Not a valid public nkey"},
		{`authorization { users: [{user: a, permissions: {publish: "foo..bar"}}] }`, "invalid subject"},
		{`authorization { users: [{user: a, allowed_connection_types: [CARRIER_PIGEON]}] }`, "unknown connection type"},
		{`no_auth_user: ghost
authorization { users: [{user: a, password: b}] }`, `"ghost" not present as user`},
		{`accounts { A { exports: [{stream: "a.>"}] }, B { imports: [{service: {account: A, subject: "a.x"}}] } }`, "not authorized"},
		{`accounts { A { exports: [{stream: "a.>", accounts: [C]}] }, B {}, C {} }
accounts2: 1`, "unknown field"},
		{`accounts { A { exports: [{stream: "a.>", accounts: [C]}] }, B { imports: [{stream: {account: A, subject: "a.>"}}] }, C {} }`, "not authorized"},
		{`accounts { B { imports: [{stream: {account: ZZ, subject: "a.>"}}] } }`, `account "ZZ" is not defined`},
		{`accounts { A { exports: [{service: "s", response_type: sometimes}] } }`, "unknown response type"},
	} {
		var o server.Options
		_, err := o.ProcessConfigFile(writeConf(t, c.conf), true)
		if err == nil {
			_, err = server.New(o)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s\n  got %v\n  want %q", c.conf, err, c.want)
		}
	}
}

func writeFileT(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// asyncErrors collects a connection's asynchronous -ERRs; the returned
// function waits for the next one and checks it contains want.
func asyncErrors(t *testing.T, nc *nats.Conn) func(want string) {
	errs := make(chan error, 8)
	nc.SetErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err })
	return func(want string) {
		t.Helper()
		select {
		case err := <-errs:
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("got error %v, want %q", err, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no error %q", want)
		}
	}
}
