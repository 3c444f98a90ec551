package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	njwt "github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	opjwt "github.com/sluicehq/sluice/internal/server/jwt"
	"github.com/sluicehq/sluice/internal/testutil"
)

func push(t *testing.T, sys *nats.Conn, a *tAccount, tok string) {
	t.Helper()
	m, err := sys.Request("$SYS.REQ.ACCOUNT."+a.pub+".CLAIMS.UPDATE", []byte(tok), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var r opjwt.Reply
	json.Unmarshal(m.Data, &r)
	if r.Data == nil || r.Data.Message != "jwt updated" {
		t.Fatalf("push: %s", m.Data)
	}
}

// A pushed account JWT changes permissions, imports and limits of the
// clients already connected.
func TestPushedJWTChangesConnectedClients(t *testing.T) {
	op := newOperator(t)
	svc := op.account(t, "SVC", func(ac *njwt.AccountClaims) {
		ac.Exports.Add(&njwt.Export{Subject: "time", Type: njwt.Service})
	})
	acc := op.account(t, "A", func(ac *njwt.AccountClaims) {
		ac.DefaultPermissions.Pub.Allow.Add("a.>", "_INBOX.>")
	})
	s := runOperator(t, op, nil, svc, acc)
	sys := sysConn(t, s, op)
	st, sk := svc.user(t, "svc", nil)
	snc := testutil.Connect(t, s, creds(st, sk))
	snc.Subscribe("time", func(m *nats.Msg) { m.Respond([]byte("now")) })
	snc.Flush()

	tok, kp := acc.user(t, "u", nil)
	ch, opts := errsOf()
	nc := testutil.Connect(t, s, append(opts, creds(tok, kp))...)
	nc2 := testutil.Connect(t, s, creds(tok, kp), nats.NoReconnect())
	if _, err := nc.Request("time", nil, 300*time.Millisecond); err == nil {
		t.Fatal("service answered before the import exists")
	}
	waitErr(t, ch, `Publish to "time"`)
	nc.Publish("b.x", nil)
	nc.Flush()
	waitErr(t, ch, `Publish to "b.x"`)

	push(t, sys, acc, acc.sign(t, func(ac *njwt.AccountClaims) {
		ac.DefaultPermissions.Pub.Allow = njwt.StringList{"b.>", "_INBOX.>", "time"}
		ac.Imports.Add(&njwt.Import{Account: svc.pub, Subject: "time", Type: njwt.Service})
	}))
	if m, err := nc.Request("time", nil, 2*time.Second); err != nil || string(m.Data) != "now" {
		t.Fatalf("import after the push: %v", err)
	}
	nc.Publish("a.x", nil)
	nc.Flush()
	waitErr(t, ch, `Publish to "a.x"`)

	// Lowering the connection limit closes the newest connections.
	push(t, sys, acc, acc.sign(t, func(ac *njwt.AccountClaims) { ac.Limits.Conn = 1 }))
	testutil.CheckFor(t, 3*time.Second, 20*time.Millisecond, func() error {
		if !nc2.IsClosed() {
			return errBusy
		}
		return nil
	})
	if nc.IsClosed() {
		t.Fatal("the oldest connection was closed")
	}
}

// The URL resolver fetches account JWTs from an account server.
func TestURLResolver(t *testing.T) {
	op := newOperator(t)
	acc := op.account(t, "A", nil)
	hits := 0
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		switch strings.TrimPrefix(r.URL.Path, "/jwt/v1/accounts/") {
		case acc.pub:
			w.Write([]byte(acc.jwt))
		case op.sys.pub:
			w.Write([]byte(op.sys.jwt))
		default:
			http.NotFound(w, r)
		}
	}))
	defer hs.Close()
	s := testutil.RunServer(t, func(o *server.Options) {
		o.TrustedOperators = []string{op.jwt}
		o.SystemAccount = op.sys.pub
		o.AccountResolver = &opjwt.ResolverConfig{Kind: "URL", URL: hs.URL + "/jwt/v1/accounts/"}
	})
	tok, kp := acc.user(t, "u", nil)
	testutil.Connect(t, s, creds(tok, kp))
	if hits == 0 {
		t.Fatal("account server not asked")
	}
	unknown := op.account(t, "B", nil)
	ut, uk := unknown.user(t, "u", nil)
	refused(t, s, creds(ut, uk))
}
