package server_test

import (
	"testing"
	"time"

	njwt "github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

// Operator mode auth callout: the AUTH account's JWT delegates logins to
// a service; a sentinel user of AUTH logs in with a token, the service
// answers with a user JWT issued by APP, and the client lands in APP.
func TestAuthCalloutOperatorMode(t *testing.T) {
	for _, withX := range []bool{false, true} {
		name := "plain"
		if withX {
			name = "xkey"
		}
		t.Run(name, func(t *testing.T) {
			op := newOperator(t)
			app := op.account(t, "APP", nil)
			svcKP, _ := nkeys.CreateUser()
			svcPub, _ := svcKP.PublicKey()
			var xkp nkeys.KeyPair
			authAcc := op.account(t, "AUTH", func(ac *njwt.AccountClaims) {
				ac.Authorization.AuthUsers.Add(svcPub)
				ac.Authorization.AllowedAccounts.Add(app.pub)
				if withX {
					xkp, _ = nkeys.CreateCurveKeys()
					ac.Authorization.XKey, _ = xkp.PublicKey()
				}
			})
			s := runOperator(t, op, nil, app, authAcc)

			// The service logs in directly: it is an auth user.
			uc := njwt.NewUserClaims(svcPub)
			svcJWT, _ := uc.Encode(authAcc.kp)
			svc := testutil.Connect(t, s, creds(svcJWT, svcKP))
			svc.Subscribe("$SYS.REQ.USER.AUTH", func(m *nats.Msg) {
				data := m.Data
				if xkp != nil {
					data, _ = xkp.Open(data, m.Header.Get("Nats-Server-Xkey"))
				}
				req, err := njwt.DecodeAuthorizationRequestClaims(string(data))
				if err != nil {
					t.Errorf("service: %v", err)
					return
				}
				resp := njwt.NewAuthorizationResponseClaims(req.UserNkey)
				resp.Audience = req.Server.ID
				if req.ConnectOptions.Token != "letmein" {
					resp.Error = "bad token"
				} else {
					u := njwt.NewUserClaims(req.UserNkey)
					u.Pub.Allow.Add("app.>")
					u.Sub.Allow.Add("app.>")
					resp.Jwt, _ = u.Encode(app.kp)
				}
				tok, _ := resp.Encode(authAcc.kp)
				out := []byte(tok)
				if xkp != nil {
					out, _ = xkp.Seal(out, req.Server.XKey)
				}
				m.Respond(out)
			})
			svc.Flush()

			sentinel, skp := authAcc.user(t, "sentinel", func(uc *njwt.UserClaims) {
				uc.BearerToken = true
				uc.Pub.Deny.Add(">")
				uc.Sub.Deny.Add(">")
			})
			ch, opts := errsOf()
			nc := testutil.Connect(t, s, append(opts, creds(sentinel, skp), nats.Token("letmein"))...)
			// Placed in APP: an APP user sees what it publishes.
			at, ak := app.user(t, "watcher", nil)
			watcher := testutil.Connect(t, s, creds(at, ak))
			sub, _ := watcher.SubscribeSync("app.x")
			watcher.Flush()
			nc.Publish("app.x", []byte("hi"))
			nc.Flush()
			if _, err := sub.NextMsg(2 * time.Second); err != nil {
				t.Fatalf("callout user not in APP: %v", err)
			}
			nc.Publish("elsewhere", nil)
			nc.Flush()
			waitErr(t, ch, `Publish to "elsewhere"`)
			refused(t, s, creds(sentinel, skp), nats.Token("wrong"))

			// Revoking every user of APP cuts the callout user too.
			push(t, sysConn(t, s, op), app, app.sign(t, func(ac *njwt.AccountClaims) {
				ac.RevokeAt(njwt.All, time.Now().Add(time.Hour))
			}))
			waitErr(t, ch, "authentication revoked")
		})
	}
}

// default_sentinel in front of an operator mode callout: a client that
// sends only a token logs in as the sentinel, the service decides and
// places it in APP (the way nats-server's docs pair the two).
func TestDefaultSentinelWithCallout(t *testing.T) {
	op := newOperator(t)
	app := op.account(t, "APP", nil)
	svcKP, _ := nkeys.CreateUser()
	svcPub, _ := svcKP.PublicKey()
	authAcc := op.account(t, "AUTH", func(ac *njwt.AccountClaims) {
		ac.Authorization.AuthUsers.Add(svcPub)
		ac.Authorization.AllowedAccounts.Add(app.pub)
	})
	sentinel, _ := authAcc.user(t, "sentinel", func(uc *njwt.UserClaims) {
		uc.BearerToken = true
		uc.Pub.Deny.Add(">")
		uc.Sub.Deny.Add(">")
	})
	s := runOperator(t, op, func(o *server.Options) { o.DefaultSentinel = sentinel }, app, authAcc)
	svcJWT, _ := njwt.NewUserClaims(svcPub).Encode(authAcc.kp)
	svc := testutil.Connect(t, s, creds(svcJWT, svcKP))
	svc.Subscribe("$SYS.REQ.USER.AUTH", func(m *nats.Msg) {
		req, err := njwt.DecodeAuthorizationRequestClaims(string(m.Data))
		if err != nil {
			t.Errorf("service: %v", err)
			return
		}
		resp := njwt.NewAuthorizationResponseClaims(req.UserNkey)
		resp.Audience = req.Server.ID
		if req.ConnectOptions.Token != "letmein" || req.ConnectOptions.JWT != sentinel {
			resp.Error = "bad token"
		} else {
			resp.Jwt, _ = njwt.NewUserClaims(req.UserNkey).Encode(app.kp)
		}
		tok, _ := resp.Encode(authAcc.kp)
		m.Respond([]byte(tok))
	})
	svc.Flush()
	nc := testutil.Connect(t, s, nats.Token("letmein"))
	at, ak := app.user(t, "watcher", nil)
	watcher := testutil.Connect(t, s, creds(at, ak))
	sub, _ := watcher.SubscribeSync("app.x")
	watcher.Flush()
	nc.Publish("app.x", []byte("hi"))
	if _, err := sub.NextMsg(2 * time.Second); err != nil {
		t.Fatalf("sentinel login not placed in APP: %v", err)
	}
	refused(t, s, nats.Token("wrong"))
}

// A sentinel that is not a bearer JWT (a scoped user) has no key to sign
// the nonce with: without a callout behind it nobody logs in with it.
func TestScopedSentinelWithoutCalloutRefused(t *testing.T) {
	op := newOperator(t)
	skp, _ := nkeys.CreateAccount()
	spub, _ := skp.PublicKey()
	a := op.account(t, "A", func(ac *njwt.AccountClaims) {
		us := njwt.NewUserScope()
		us.Key = spub
		ac.SigningKeys.AddScopedSigner(us)
	})
	sentinel, _ := a.userSignedBy(t, skp, "sentinel", func(uc *njwt.UserClaims) { uc.UserPermissionLimits = njwt.UserPermissionLimits{} })
	s := runOperator(t, op, func(o *server.Options) { o.DefaultSentinel = sentinel }, a)
	refused(t, s)
}
