package server_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	njwt "github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

func refused(t *testing.T, s *server.Server, opts ...nats.Option) {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL(), append(opts, nats.NoReconnect())...)
	if err == nil {
		nc.Close()
		t.Fatal("login accepted")
	}
	if !errors.Is(err, nats.ErrAuthorization) && !strings.Contains(err.Error(), "Authorization Violation") {
		t.Fatalf("want authorization violation, got %v", err)
	}
}

// The chain matrix: what the user JWT, its issuer and its account say
// decides the login.
func TestUserJWTChainMatrix(t *testing.T) {
	op := newOperator(t)
	sk, _ := nkeys.CreateAccount()
	skPub, _ := sk.PublicKey()
	scoped, _ := nkeys.CreateAccount()
	scopedPub, _ := scoped.PublicKey()
	acc := op.account(t, "A", func(ac *njwt.AccountClaims) {
		ac.SigningKeys.Add(skPub)
		us := njwt.NewUserScope()
		us.Key = scopedPub
		us.Template.Pub.Allow.Add("team.{{tag(team)}}.>", "user.{{name()}}")
		ac.SigningKeys.AddScopedSigner(us)
	})
	noBearer := op.account(t, "NB", func(ac *njwt.AccountClaims) { ac.Limits.DisallowBearer = true })
	s := runOperator(t, op, nil, acc, noBearer)
	stranger, _ := nkeys.CreateAccount()

	type tc struct {
		name   string
		signer nkeys.KeyPair
		acc    *tAccount
		edit   func(*njwt.UserClaims)
		ok     bool
		bearer bool
	}
	now := time.Now().UTC()
	win := func(from, to time.Duration) njwt.TimeRange {
		return njwt.TimeRange{Start: now.Add(from).Format("15:04:05"), End: now.Add(to).Format("15:04:05")}
	}
	cases := []tc{
		{name: "account key", signer: acc.kp, acc: acc, ok: true},
		{name: "signing key", signer: sk, acc: acc, ok: true},
		{name: "account key naming itself as issuer account (nsc)", signer: acc.kp, acc: acc, edit: func(uc *njwt.UserClaims) { uc.IssuerAccount = acc.pub }, ok: true},
		{name: "issuer account of another account", signer: acc.kp, acc: acc, edit: func(uc *njwt.UserClaims) { uc.IssuerAccount = noBearer.pub }},
		{name: "unknown signer", signer: stranger, acc: acc},
		{name: "bearer", signer: acc.kp, acc: acc, bearer: true, edit: func(uc *njwt.UserClaims) { uc.BearerToken = true }, ok: true},
		{name: "bearer disallowed", signer: noBearer.kp, acc: noBearer, bearer: true, edit: func(uc *njwt.UserClaims) { uc.BearerToken = true }},
		{name: "src allowed", signer: acc.kp, acc: acc, edit: func(uc *njwt.UserClaims) { uc.Limits.Src.Set("127.0.0.0/8") }, ok: true},
		{name: "src refused", signer: acc.kp, acc: acc, edit: func(uc *njwt.UserClaims) { uc.Limits.Src.Set("10.0.0.0/8") }},
		{name: "in time window", signer: acc.kp, acc: acc, edit: func(uc *njwt.UserClaims) {
			uc.Limits.Times = []njwt.TimeRange{win(-time.Minute, time.Hour)}
			uc.Limits.Locale = "UTC"
		}, ok: true},
		{name: "outside time window", signer: acc.kp, acc: acc, edit: func(uc *njwt.UserClaims) {
			uc.Limits.Times = []njwt.TimeRange{win(time.Hour, 2*time.Hour)}
			uc.Limits.Locale = "UTC"
		}},
		{name: "bad locale", signer: acc.kp, acc: acc, edit: func(uc *njwt.UserClaims) {
			uc.Limits.Times = []njwt.TimeRange{win(-time.Minute, time.Hour)}
			uc.Limits.Locale = "Nowhere/Atlantis"
		}},
		{name: "connection type standard", signer: acc.kp, acc: acc, edit: func(uc *njwt.UserClaims) { uc.AllowedConnectionTypes.Add("STANDARD") }, ok: true},
		{name: "connection type websocket only", signer: acc.kp, acc: acc, edit: func(uc *njwt.UserClaims) { uc.AllowedConnectionTypes.Add("WEBSOCKET") }},
		{name: "scoped with tag", signer: scoped, acc: acc, edit: scopedUser("team:blue"), ok: true},
		{name: "scoped without tag", signer: scoped, acc: acc, edit: scopedUser()},
		{name: "scoped with own permissions", signer: scoped, acc: acc, edit: func(uc *njwt.UserClaims) {
			scopedUser("team:blue")(uc)
			uc.Pub.Allow.Add(">")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok, kp := c.acc.userSignedBy(t, c.signer, "bob", c.edit)
			opt := creds(tok, kp)
			if c.bearer {
				other, _ := nkeys.CreateUser() // the signature is not checked
				opt = creds(tok, other)
			}
			if !c.ok {
				refused(t, s, opt)
				return
			}
			testutil.Connect(t, s, opt).Close()
		})
	}

	t.Run("scoped template permissions", func(t *testing.T) {
		tok, kp := acc.userSignedBy(t, scoped, "bob", scopedUser("team:blue"))
		ch, opts := errsOf()
		nc := testutil.Connect(t, s, append(opts, creds(tok, kp))...)
		nc.Publish("team.blue.x", nil)
		nc.Publish("user.bob", nil)
		nc.Publish("team.red.x", nil)
		nc.Flush()
		waitErr(t, ch, `Publish to "team.red.x"`)
	})
}

// scopedUser makes a user for a scoped signing key: no permissions or
// limits of its own (as nsc issues them), with tags.
func scopedUser(tags ...string) func(*njwt.UserClaims) {
	return func(uc *njwt.UserClaims) {
		uc.UserPermissionLimits = njwt.UserPermissionLimits{}
		uc.Tags.Add(tags...)
	}
}

// Exports and imports from JWTs: a public service, a private stream
// needing an activation token, and one whose token is missing.
func TestJWTExportsImports(t *testing.T) {
	op := newOperator(t)
	exp := op.account(t, "EXP", func(ac *njwt.AccountClaims) {
		ac.Exports.Add(&njwt.Export{Subject: "svc.>", Type: njwt.Service})
		ac.Exports.Add(&njwt.Export{Subject: "private.>", Type: njwt.Stream, TokenReq: true})
		ac.Exports.Add(&njwt.Export{Subject: "events.*.*", Type: njwt.Stream})
	})
	imp := op.account(t, "IMP", nil)
	act := njwt.NewActivationClaims(imp.pub)
	act.ImportSubject = "private.>"
	act.ImportType = njwt.Stream
	token, err := act.Encode(exp.kp)
	if err != nil {
		t.Fatal(err)
	}
	imp.sign(t, func(ac *njwt.AccountClaims) {
		ac.Imports.Add(&njwt.Import{Account: exp.pub, Subject: "svc.>", LocalSubject: "remote.>", Type: njwt.Service})
		ac.Imports.Add(&njwt.Import{Account: exp.pub, Subject: "private.>", Type: njwt.Stream, Token: token})
		ac.Imports.Add(&njwt.Import{Account: exp.pub, Subject: "events.*.*", Type: njwt.Stream, LocalSubject: "mine.$2.$1"})
	})
	noTok := op.account(t, "NOTOK", func(ac *njwt.AccountClaims) {
		ac.Imports.Add(&njwt.Import{Account: exp.pub, Subject: "private.>", Type: njwt.Stream})
	})
	s := runOperator(t, op, nil, exp, imp, noTok)
	et, ek := exp.user(t, "e", nil)
	it, ik := imp.user(t, "i", nil)
	nt, nk := noTok.user(t, "n", nil)
	enc := testutil.Connect(t, s, creds(et, ek))
	inc := testutil.Connect(t, s, creds(it, ik))
	nnc := testutil.Connect(t, s, creds(nt, nk))

	enc.Subscribe("svc.echo", func(m *nats.Msg) { m.Respond(append([]byte("re:"), m.Data...)) })
	enc.Flush()
	m, err := inc.Request("remote.echo", []byte("hi"), 2*time.Second)
	if err != nil || string(m.Data) != "re:hi" {
		t.Fatalf("service import: %v %v", err, m)
	}
	got, _ := inc.SubscribeSync("private.x")
	miss, _ := nnc.SubscribeSync("private.x")
	inc.Flush()
	nnc.Flush()
	enc.Publish("private.x", []byte("secret"))
	enc.Flush()
	if _, err := got.NextMsg(2 * time.Second); err != nil {
		t.Fatalf("activated stream import: %v", err)
	}
	if m, err := miss.NextMsg(200 * time.Millisecond); err == nil {
		t.Fatalf("import without activation token got %q", m.Data)
	}
	renamed, _ := inc.SubscribeSync("mine.b.a")
	inc.Flush()
	enc.Publish("events.a.b", nil)
	if _, err := renamed.NextMsg(2 * time.Second); err != nil {
		t.Fatalf("local_subject with $N: %v", err)
	}
}

// The configuration of seed 003 (operator file, full resolver with its
// options, system_account) starts as written once the files exist.
func TestSeed003OperatorConfig(t *testing.T) {
	op := newOperator(t)
	dir := t.TempDir()
	opFile := filepath.Join(dir, "operator.jwt")
	os.WriteFile(opFile, []byte(op.jwt), 0o644)
	accDir := filepath.Join(dir, "accounts")
	conf := filepath.Join(dir, "nats.conf")
	os.WriteFile(conf, []byte(`
port: -1
operator: "`+opFile+`"
system_account: "`+op.sys.pub+`"
resolver: {
    type: full
    dir: "`+accDir+`"
    allow_delete: false
    interval: "2m"
}
# resolver: URL(http://account-server.internal:9090/jwt/v1/accounts/)
resolver_preload: {
  `+op.sys.pub+`: "`+op.sys.jwt+`"
}
`), 0o644)
	var o server.Options
	warns, err := o.ProcessConfigFile(conf, true)
	if err != nil {
		t.Fatalf("config: %v (warnings %v)", err, warns)
	}
	o.Host = "127.0.0.1"
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	sys := sysConn(t, s, op)
	acc := op.account(t, "TeamAlpha", func(ac *njwt.AccountClaims) { ac.Limits.Conn = 500 })
	if _, err := sys.Request("$SYS.REQ.CLAIMS.UPDATE", []byte(acc.jwt), 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(accDir, acc.pub+".jwt")); err != nil {
		t.Fatalf("pushed JWT not on disk: %v", err)
	}
	tok, kp := acc.user(t, "order-service", nil)
	testutil.Connect(t, s, creds(tok, kp))
}

func TestOperatorConfigErrors(t *testing.T) {
	dir := t.TempDir()
	for name, c := range map[string]struct{ conf, want string }{
		"missing operator file": {`operator: "/nonexistent/op.jwt"`, "error parsing operator JWT"},
		"bad resolver":          {`resolver: SOMETHING`, "invalid resolver"},
		"cache with delete":     {`resolver: {type: cache, dir: "` + dir + `", allow_delete: true}`, "CACHE does not accept allow_delete"},
		"full without dir":      {`resolver: {type: full}`, "dir has no value"},
		"bad preload":           {`resolver_preload: {ABC: "notajwt"}`, "invalid account JWT"},
		"bad trusted key":       {`trusted_keys: ["XYZ"]`, "valid public operator nkey"},
	} {
		t.Run(name, func(t *testing.T) {
			f := filepath.Join(dir, "c.conf")
			os.WriteFile(f, []byte(c.conf), 0o644)
			var o server.Options
			_, err := o.ProcessConfigFile(f, false)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
}

// An import's activation token that expires stops the import then.
func TestJWTActivationExpires(t *testing.T) {
	op := newOperator(t)
	exp := op.account(t, "EXP", func(ac *njwt.AccountClaims) {
		ac.Exports.Add(&njwt.Export{Subject: "private.>", Type: njwt.Stream, TokenReq: true})
	})
	imp := op.account(t, "IMP", nil)
	act := njwt.NewActivationClaims(imp.pub)
	act.ImportSubject = "private.>"
	act.ImportType = njwt.Stream
	act.Expires = time.Now().Add(2 * time.Second).Unix()
	token, _ := act.Encode(exp.kp)
	imp.sign(t, func(ac *njwt.AccountClaims) {
		ac.Imports.Add(&njwt.Import{Account: exp.pub, Subject: "private.>", Type: njwt.Stream, Token: token})
	})
	s := runOperator(t, op, nil, exp, imp)
	et, ek := exp.user(t, "e", nil)
	it, ik := imp.user(t, "i", nil)
	enc := testutil.Connect(t, s, creds(et, ek))
	inc := testutil.Connect(t, s, creds(it, ik))
	sub, _ := inc.SubscribeSync("private.x")
	inc.Flush()
	enc.Publish("private.x", nil)
	if _, err := sub.NextMsg(time.Second); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	testutil.CheckFor(t, 6*time.Second, 100*time.Millisecond, func() error {
		enc.Publish("private.x", nil)
		if _, err := sub.NextMsg(100 * time.Millisecond); err == nil {
			return errBusy
		}
		return nil
	})
}

// Concurrent first logins install an account once: its imports deliver
// each message once.
func TestJWTConcurrentFirstLogins(t *testing.T) {
	op := newOperator(t)
	exp := op.account(t, "EXP", func(ac *njwt.AccountClaims) {
		ac.Exports.Add(&njwt.Export{Subject: "ev.>", Type: njwt.Stream})
	})
	imp := op.account(t, "IMP", func(ac *njwt.AccountClaims) {
		ac.Imports.Add(&njwt.Import{Account: exp.pub, Subject: "ev.>", Type: njwt.Stream})
	})
	s := runOperator(t, op, nil, exp, imp)
	it, ik := imp.user(t, "i", nil)
	et, ek := exp.user(t, "e", nil)
	done := make(chan *nats.Conn, 20)
	for i := 0; i < 20; i++ {
		tok, kp := it, ik
		if i%2 == 1 {
			tok, kp = et, ek
		}
		go func() {
			nc, err := nats.Connect(s.ClientURL(), creds(tok, kp))
			if err != nil {
				t.Error(err)
			}
			done <- nc
		}()
	}
	var conns []*nats.Conn
	for i := 0; i < 20; i++ {
		if nc := <-done; nc != nil {
			conns = append(conns, nc)
			defer nc.Close()
		}
	}
	inc := testutil.Connect(t, s, creds(it, ik))
	sub, _ := inc.SubscribeSync("ev.x")
	inc.Flush()
	enc := testutil.Connect(t, s, creds(et, ek))
	enc.Publish("ev.x", nil)
	enc.Flush()
	if _, err := sub.NextMsg(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	if m, err := sub.NextMsg(200 * time.Millisecond); err == nil {
		t.Fatalf("delivered twice: %v", m)
	}
}
