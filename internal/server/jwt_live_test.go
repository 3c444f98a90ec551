package server_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	njwt "github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	opjwt "github.com/sluicehq/sluice/internal/server/jwt"
	"github.com/sluicehq/sluice/internal/testutil"
)

// errsOf collects a connection's async errors and its close.
func errsOf() (chan error, []nats.Option) {
	ch := make(chan error, 8)
	return ch, []nats.Option{
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { ch <- err }),
		nats.NoReconnect(),
	}
}

func waitErr(t *testing.T, ch chan error, want string) {
	t.Helper()
	select {
	case err := <-ch:
		if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(want)) {
			t.Fatalf("got %v, want %q", err, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no error %q", want)
	}
}

// Issue 22 item 4: a user JWT expiring while connected closes the client
// with nats-server's error; renewed credentials log in again.
func TestUserJWTExpiresOnLiveConnection(t *testing.T) {
	op := newOperator(t)
	acc := op.account(t, "A", nil)
	s := runOperator(t, op, nil, acc)
	tok, kp := acc.user(t, "short", func(uc *njwt.UserClaims) { uc.Expires = time.Now().Add(2 * time.Second).Unix() })
	ch, opts := errsOf()
	nc := testutil.Connect(t, s, append(opts, creds(tok, kp))...)
	waitErr(t, ch, "authentication expired")
	testutil.CheckFor(t, 3*time.Second, 20*time.Millisecond, func() error {
		if !nc.IsClosed() {
			return errBusy
		}
		return nil
	})
	renewed, rkp := acc.user(t, "renewed", func(uc *njwt.UserClaims) { uc.Expires = time.Now().Add(time.Hour).Unix() })
	testutil.Connect(t, s, creds(renewed, rkp))
}

func TestAccountJWTExpiresOnLiveConnection(t *testing.T) {
	op := newOperator(t)
	acc := op.account(t, "A", func(ac *njwt.AccountClaims) { ac.Expires = time.Now().Add(2 * time.Second).Unix() })
	s := runOperator(t, op, nil, acc)
	tok, kp := acc.user(t, "u", nil)
	ch, opts := errsOf()
	testutil.Connect(t, s, append(opts, creds(tok, kp))...)
	waitErr(t, ch, "account authentication expired")
}

// $SYS.REQ.USER.INFO tells a JWT user its permissions and expiry.
func TestJWTUserInfo(t *testing.T) {
	op := newOperator(t)
	acc := op.account(t, "TeamAlpha", nil)
	s := runOperator(t, op, nil, acc)
	tok, kp := acc.user(t, "order-service", func(uc *njwt.UserClaims) {
		uc.Pub.Allow.Add("orders.>", "_INBOX.>", "$SYS.REQ.USER.INFO")
		uc.Expires = time.Now().Add(time.Hour).Unix()
	})
	nc := testutil.Connect(t, s, creds(tok, kp))
	m, err := nc.Request("$SYS.REQ.USER.INFO", nil, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Data struct {
			User        string          `json:"user"`
			Account     string          `json:"account"`
			AccountName string          `json:"account_name"`
			UserName    string          `json:"user_name"`
			Permissions json.RawMessage `json:"permissions"`
			Expires     time.Duration   `json:"expires"`
		} `json:"data"`
	}
	json.Unmarshal(m.Data, &r)
	d := r.Data
	if d.Account != acc.pub || d.AccountName != "TeamAlpha" || d.UserName != "order-service" ||
		!strings.Contains(string(d.Permissions), `"orders.`) || d.Expires < 59*time.Minute {
		t.Fatalf("user info: %s", m.Data)
	}
}

type busyErr struct{}

func (busyErr) Error() string { return "not yet" }

var errBusy = busyErr{}

func TestAccountJWTLimits(t *testing.T) {
	op := newOperator(t)
	acc := op.account(t, "A", func(ac *njwt.AccountClaims) {
		ac.Limits.Conn = 1
		ac.Limits.Subs = 2
		ac.Limits.Payload = 16
		ac.Limits.JetStreamLimits.MemoryStorage = 1 << 20
	})
	s := runOperator(t, op, nil, acc)
	tok, kp := acc.user(t, "u", nil)
	ch, opts := errsOf()
	nc := testutil.Connect(t, s, append(opts, creds(tok, kp))...)
	if l, ok := s.AccountJWTLimits(acc.pub); !ok || l.Conn != 1 || l.JetStream.MemoryStorage != 1<<20 {
		t.Fatalf("limits kept: %+v %v", l, ok)
	}
	_, err := nats.Connect(s.ClientURL(), creds(tok, kp), nats.NoReconnect())
	if err == nil || !strings.Contains(err.Error(), "maximum account active connections exceeded") {
		t.Fatalf("second connection: %v", err)
	}
	nc.SubscribeSync("a")
	nc.SubscribeSync("b")
	nc.SubscribeSync("c")
	nc.Flush()
	waitErr(t, ch, "maximum subscriptions exceeded")
	nc.Publish("a", make([]byte, 64))
	testutil.CheckFor(t, 3*time.Second, 20*time.Millisecond, func() error {
		if !nc.IsClosed() || !strings.Contains(strings.ToLower(nc.LastError().Error()), "maximum payload violation") {
			return errBusy
		}
		return nil
	})
}

// sysConn connects a user of the operator's system account.
func sysConn(t *testing.T, s *server.Server, op *tOperator) *nats.Conn {
	tok, kp := op.sys.user(t, "sys", nil)
	return testutil.Connect(t, s, creds(tok, kp))
}

func TestFullResolverPushRevokeAndList(t *testing.T) {
	op := newOperator(t)
	dir := t.TempDir()
	s := testutil.RunServer(t, func(o *server.Options) {
		o.TrustedOperators = []string{op.jwt}
		o.SystemAccount = op.sys.pub
		o.AccountResolver = &opjwt.ResolverConfig{Kind: "FULL", Dir: opjwt.DirConfig{Dir: dir, Delete: opjwt.RenameDeleted}}
		o.ResolverPreload = map[string]string{op.sys.pub: op.sys.jwt}
	})
	sys := sysConn(t, s, op)
	acc := op.account(t, "A", nil)
	tok, kp := acc.user(t, "u", nil)
	if _, err := nats.Connect(s.ClientURL(), creds(tok, kp), nats.NoReconnect()); err == nil {
		t.Fatal("login before the account is pushed")
	}
	var rep struct {
		Data  *opjwt.UpdateStatus `json:"data"`
		Error *opjwt.UpdateError  `json:"error"`
	}
	m, err := sys.Request("$SYS.REQ.CLAIMS.UPDATE", []byte(acc.jwt), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(m.Data, &rep)
	if rep.Data == nil || rep.Data.Message != "jwt updated" || rep.Data.Code != 200 || rep.Data.Account != acc.pub {
		t.Fatalf("update reply %s", m.Data)
	}
	ch, opts := errsOf()
	testutil.Connect(t, s, append(opts, creds(tok, kp))...)

	// Lookup and list.
	m, err = sys.Request("$SYS.REQ.ACCOUNT."+acc.pub+".CLAIMS.LOOKUP", nil, 2*time.Second)
	if err != nil || string(m.Data) != acc.jwt {
		t.Fatalf("lookup: %v %q", err, m.Data)
	}
	m, err = sys.Request("$SYS.REQ.CLAIMS.LIST", nil, 2*time.Second)
	if err != nil || !strings.Contains(string(m.Data), acc.pub) {
		t.Fatalf("list: %v %s", err, m.Data)
	}

	// Pack (nsc pull): one "<account>|<jwt>" message per account, then
	// an empty one.
	inbox := nats.NewInbox()
	psub, _ := sys.SubscribeSync(inbox)
	sys.PublishRequest("$SYS.REQ.CLAIMS.PACK", inbox, nil)
	var packed []string
	for {
		pm, err := psub.NextMsg(2 * time.Second)
		if err != nil {
			t.Fatalf("pack: %v", err)
		}
		if len(pm.Data) == 0 {
			break
		}
		packed = append(packed, string(pm.Data))
	}
	if len(packed) != 2 || !strings.Contains(strings.Join(packed, "\n"), acc.pub+"|"+acc.jwt) {
		t.Fatalf("pack: %q", packed)
	}

	// Revoking the user disconnects it.
	uc, _ := njwt.DecodeUserClaims(tok)
	upd := acc.sign(t, func(ac *njwt.AccountClaims) { ac.RevokeAt(uc.Subject, time.Now().Add(time.Second)) })
	m, err = sys.Request("$SYS.REQ.ACCOUNT."+acc.pub+".CLAIMS.UPDATE", []byte(upd), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	waitErr(t, ch, "authentication revoked")
	if _, err := nats.Connect(s.ClientURL(), creds(tok, kp), nats.NoReconnect()); err == nil {
		t.Fatal("revoked user logged in")
	}

	// A JWT signed by another operator is refused and changes nothing.
	other := newOperator(t)
	rogue := other.account(t, "A", nil)
	m, _ = sys.Request("$SYS.REQ.CLAIMS.UPDATE", []byte(rogue.jwt), 2*time.Second)
	rep.Data, rep.Error = nil, nil
	json.Unmarshal(m.Data, &rep)
	if rep.Error == nil || !strings.Contains(rep.Error.Description, "not trusted") {
		t.Fatalf("rogue update: %s", m.Data)
	}
}
