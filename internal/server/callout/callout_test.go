package callout

import (
	"strings"
	"testing"
	"time"

	njwt "github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

func TestParse(t *testing.T) {
	id := func(v any) any { return v }
	acc, _ := nkeys.CreateAccount()
	pub, _ := acc.PublicKey()
	x, _ := nkeys.CreateCurveKeys()
	xpub, _ := x.PublicKey()
	good := map[string]any{"issuer": pub, "account": "AUTH", "auth_users": []any{"svc"}, "xkey": xpub}
	if c, err := Parse(good, id); err != nil || !c.IsAuthUser("svc") || c.IsAuthUser("other") {
		t.Fatalf("good: %v %v", c, err)
	}
	for name, c := range map[string]struct {
		m    map[string]any
		want string
	}{
		"bad issuer":    {map[string]any{"issuer": "NOPE", "account": "A", "auth_users": "svc"}, "not a valid public account nkey"},
		"no account":    {map[string]any{"issuer": pub, "auth_users": "svc"}, "needs 'account'"},
		"no auth users": {map[string]any{"issuer": pub, "account": "A"}, "needs 'auth_users'"},
		"bad xkey":      {map[string]any{"issuer": pub, "account": "A", "auth_users": "svc", "xkey": pub}, "curve"},
		"unknown key":   {map[string]any{"issuer": pub, "account": "A", "auth_users": "svc", "colour": 1}, "unknown field"},
	} {
		if _, err := Parse(c.m, id); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", name, err, c.want)
		}
	}
}

// The response matrix: only a response signed by the issuer, for this
// server and this login, with a user JWT from the issuer, is accepted.
func TestVerify(t *testing.T) {
	issuer, _ := nkeys.CreateAccount()
	ipub, _ := issuer.PublicKey()
	srvKP, _ := nkeys.CreateServer()
	srvID, _ := srvKP.PublicKey()
	rogue, _ := nkeys.CreateAccount()
	c, _ := NewCaller(&Config{Issuer: ipub, Account: "AUTH", AuthUsers: []string{"svc"}, AllowedAccounts: []string{"APP"}}, Server{ID: srvID, Key: srvKP})
	p, err := c.Build(&Request{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	req, err := njwt.DecodeAuthorizationRequestClaims(string(p.Body))
	if err != nil || req.UserNkey != p.UserKey || req.Issuer != srvID || req.Server.ID != srvID {
		t.Fatalf("request: %v %+v", err, req)
	}
	respond := func(edit func(r *njwt.AuthorizationResponseClaims, u *njwt.UserClaims) (nkeys.KeyPair, nkeys.KeyPair)) []byte {
		u := njwt.NewUserClaims(p.UserKey)
		u.Audience = "APP"
		r := njwt.NewAuthorizationResponseClaims(p.UserKey)
		r.Audience = srvID
		us, rs := issuer, issuer
		if edit != nil {
			us, rs = edit(r, u)
		}
		r.Jwt, _ = u.Encode(us)
		tok, _ := r.Encode(rs)
		return []byte(tok)
	}
	if res, err := c.Verify(p, respond(nil)); err != nil || res.Account != "APP" {
		t.Fatalf("good response: %v", err)
	}
	other, _ := nkeys.CreateUser()
	opub, _ := other.PublicKey()
	for name, edit := range map[string]func(r *njwt.AuthorizationResponseClaims, u *njwt.UserClaims) (nkeys.KeyPair, nkeys.KeyPair){
		"rogue response signer": func(r *njwt.AuthorizationResponseClaims, u *njwt.UserClaims) (nkeys.KeyPair, nkeys.KeyPair) {
			return issuer, rogue
		},
		"rogue user signer": func(r *njwt.AuthorizationResponseClaims, u *njwt.UserClaims) (nkeys.KeyPair, nkeys.KeyPair) {
			return rogue, issuer
		},
		"other login": func(r *njwt.AuthorizationResponseClaims, u *njwt.UserClaims) (nkeys.KeyPair, nkeys.KeyPair) {
			r.Subject = opub
			return issuer, issuer
		},
		"other user": func(r *njwt.AuthorizationResponseClaims, u *njwt.UserClaims) (nkeys.KeyPair, nkeys.KeyPair) {
			u.Subject = opub
			return issuer, issuer
		},
		"other server": func(r *njwt.AuthorizationResponseClaims, u *njwt.UserClaims) (nkeys.KeyPair, nkeys.KeyPair) {
			r.Audience = "NOTME"
			return issuer, issuer
		},
		"service error": func(r *njwt.AuthorizationResponseClaims, u *njwt.UserClaims) (nkeys.KeyPair, nkeys.KeyPair) {
			r.Error = "no"
			return issuer, issuer
		},
		"account not allowed": func(r *njwt.AuthorizationResponseClaims, u *njwt.UserClaims) (nkeys.KeyPair, nkeys.KeyPair) {
			u.Audience = "SECRET"
			return issuer, issuer
		},
		"expired user": func(r *njwt.AuthorizationResponseClaims, u *njwt.UserClaims) (nkeys.KeyPair, nkeys.KeyPair) {
			u.Expires = time.Now().Add(-time.Minute).Unix()
			return issuer, issuer
		},
	} {
		if _, err := c.Verify(p, respond(edit)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for name, body := range map[string][]byte{"empty": nil, "garbage": []byte("garbage"), "request back": p.Body} {
		if _, err := c.Verify(p, body); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestXKeyRoundTrip(t *testing.T) {
	issuer, _ := nkeys.CreateAccount()
	ipub, _ := issuer.PublicKey()
	srvKP, _ := nkeys.CreateServer()
	srvID, _ := srvKP.PublicKey()
	svcX, _ := nkeys.CreateCurveKeys()
	svcXPub, _ := svcX.PublicKey()
	c, _ := NewCaller(&Config{Issuer: ipub, Account: "AUTH", AuthUsers: []string{"svc"}, XKey: svcXPub}, Server{ID: srvID, Key: srvKP})
	p, _ := c.Build(&Request{Timeout: time.Second})
	if !strings.Contains(string(p.Header), XKeyHeader+": X") {
		t.Fatalf("header %q", p.Header)
	}
	srvX := strings.TrimSpace(strings.SplitN(strings.Split(string(p.Header), "\r\n")[1], ":", 2)[1])
	plain, err := svcX.Open(p.Body, srvX)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := njwt.DecodeAuthorizationRequestClaims(string(plain))
	u := njwt.NewUserClaims(req.UserNkey)
	u.Audience = "APP"
	r := njwt.NewAuthorizationResponseClaims(req.UserNkey)
	r.Audience = srvID
	r.Jwt, _ = u.Encode(issuer)
	tok, _ := r.Encode(issuer)
	if _, err := c.Verify(p, []byte(tok)); err == nil {
		t.Error("unencrypted response accepted when xkey is on")
	}
	sealed, _ := svcX.Seal([]byte(tok), req.Server.XKey)
	if _, err := c.Verify(p, sealed); err != nil {
		t.Fatalf("sealed response: %v", err)
	}
}
