package server_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	njwt "github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

// The server part of seed 004: accounts AUTH, APP and SYS, the callout
// block with $NKEY_PUBLIC and $AUTH_SERVICE_PASSWORD from the environment.
const seed004Conf = `
server_name: nats-auth-demo
listen: 127.0.0.1:-1
accounts {
  AUTH: {
    users: [
      { user: "auth-service", password: $AUTH_SERVICE_PASSWORD }
    ]
  }
  APP: {}
  SYS: {}
}
system_account: SYS
authorization {
  auth_callout {
    issuer: $NKEY_PUBLIC
    account: AUTH
    auth_users: ["auth-service"]
    %XKEY%
  }
}
logtime: true
debug: true
trace: false
`

type calloutService struct {
	issuer nkeys.KeyPair
	xkey   nkeys.KeyPair // nil: plain
	calls  atomic.Int32
	// refuseAll makes the service refuse every login from then on.
	refuseAll atomic.Bool
	// answer decides: "" refuses; otherwise the account to place into.
	answer func(req *njwt.AuthorizationRequestClaims) (string, error)
	mangle func(*njwt.AuthorizationResponseClaims)
}

// serve is the OIDC-like service of seed 004, with nats.go and jwt/v2:
// the token in CONNECT decides the user, who gets a user JWT back.
func (cs *calloutService) serve(t testing.TB, nc *nats.Conn) {
	_, err := nc.Subscribe("$SYS.REQ.USER.AUTH", func(m *nats.Msg) {
		cs.calls.Add(1)
		data := m.Data
		if cs.xkey != nil {
			srvX := m.Header.Get("Nats-Server-Xkey")
			dec, err := cs.xkey.Open(data, srvX)
			if err != nil {
				t.Errorf("service: decrypt: %v", err)
				return
			}
			data = dec
		}
		req, err := njwt.DecodeAuthorizationRequestClaims(string(data))
		if err != nil {
			t.Errorf("service: %v", err)
			return
		}
		resp := njwt.NewAuthorizationResponseClaims(req.UserNkey)
		resp.Audience = req.Server.ID
		acc, err := cs.answer(req)
		if cs.refuseAll.Load() {
			err = errString("refused")
		}
		if err != nil {
			resp.Error = err.Error()
		} else {
			uc := njwt.NewUserClaims(req.UserNkey)
			uc.Name = req.ConnectOptions.Token
			uc.Audience = acc
			uc.Pub.Allow.Add("app.>", "_INBOX.>")
			uc.Sub.Allow.Add("app.>", "_INBOX.>")
			uc.Expires = time.Now().Add(time.Hour).Unix()
			resp.Jwt, _ = uc.Encode(cs.issuer)
		}
		if cs.mangle != nil {
			cs.mangle(resp)
		}
		tok, _ := resp.Encode(cs.issuer)
		out := []byte(tok)
		if cs.xkey != nil {
			out, _ = cs.xkey.Seal(out, req.Server.XKey)
		}
		m.Respond(out)
	})
	if err != nil {
		t.Fatal(err)
	}
	nc.Flush()
}

func startCallout(t testing.TB, withXKey bool) (*server.Server, *calloutService) {
	t.Helper()
	issuer, _ := nkeys.CreateAccount()
	ipub, _ := issuer.PublicKey()
	cs := &calloutService{issuer: issuer, answer: func(req *njwt.AuthorizationRequestClaims) (string, error) {
		if req.ConnectOptions.Token == "good-token" {
			return "APP", nil
		}
		return "", errString("bad token")
	}}
	conf := seed004Conf
	if withXKey {
		cs.xkey, _ = nkeys.CreateCurveKeys()
		xpub, _ := cs.xkey.PublicKey()
		conf = strings.Replace(conf, "%XKEY%", "xkey: "+xpub, 1)
	} else {
		conf = strings.Replace(conf, "%XKEY%", "", 1)
	}
	t.Setenv("NKEY_PUBLIC", ipub)
	t.Setenv("AUTH_SERVICE_PASSWORD", "callout-secret")
	f := filepath.Join(t.TempDir(), "nats.conf")
	os.WriteFile(f, []byte(conf), 0o644)
	var o server.Options
	if _, err := o.ProcessConfigFile(f, true); err != nil {
		t.Fatalf("config: %v", err)
	}
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	svc := testutil.Connect(t, s, nats.UserInfo("auth-service", "callout-secret"))
	cs.serve(t, svc)
	return s, cs
}

type errString string

func (e errString) Error() string { return string(e) }

func TestAuthCalloutConfigMode(t *testing.T) {
	for _, x := range []bool{false, true} {
		name := "plain"
		if x {
			name = "xkey"
		}
		t.Run(name, func(t *testing.T) {
			s, cs := startCallout(t, x)
			ch, opts := errsOf()
			nc := testutil.Connect(t, s, append(opts, nats.Token("good-token"))...)
			sub, _ := nc.SubscribeSync("app.x")
			nc.Publish("app.x", []byte("hi"))
			if _, err := sub.NextMsg(2 * time.Second); err != nil {
				t.Fatal(err)
			}
			nc.Publish("other.x", nil)
			nc.Flush()
			waitErr(t, ch, `Publish to "other.x"`)
			refused(t, s, nats.Token("bad-token"))
			if cs.calls.Load() != 2 {
				t.Fatalf("service called %d times", cs.calls.Load())
			}
		})
	}
}

// A response for another login or another server, or from another
// issuer, is refused; a silent service fails the login, not the server.
func TestAuthCalloutBadResponses(t *testing.T) {
	s, cs := startCallout(t, false)
	other, _ := nkeys.CreateUser()
	otherPub, _ := other.PublicKey()
	rogue, _ := nkeys.CreateAccount()
	for name, mangle := range map[string]func(*njwt.AuthorizationResponseClaims){
		"other nonce key": func(r *njwt.AuthorizationResponseClaims) { r.Subject = otherPub },
		"other server":    func(r *njwt.AuthorizationResponseClaims) { r.Audience = "NOTTHISSERVER" },
		"rogue user jwt": func(r *njwt.AuthorizationResponseClaims) {
			uc, _ := njwt.DecodeUserClaims(r.Jwt)
			r.Jwt, _ = uc.Encode(rogue)
		},
		"unknown account": func(r *njwt.AuthorizationResponseClaims) {
			uc, _ := njwt.DecodeUserClaims(r.Jwt)
			uc.Audience = "NOPE"
			r.Jwt, _ = uc.Encode(cs.issuer)
		},
	} {
		t.Run(name, func(t *testing.T) {
			cs.mangle = mangle
			refused(t, s, nats.Token("good-token"))
		})
	}
	cs.mangle = nil
	t.Run("timeout", func(t *testing.T) {
		cs.answer = func(*njwt.AuthorizationRequestClaims) (string, error) {
			time.Sleep(3 * time.Second)
			return "APP", nil
		}
		_, err := nats.Connect(s.ClientURL(), nats.Token("good-token"), nats.NoReconnect())
		if err == nil {
			t.Fatal("login accepted without an answer")
		}
		testutil.Connect(t, s, nats.UserInfo("auth-service", "callout-secret")).Close()
	})
}
