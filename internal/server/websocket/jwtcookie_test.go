package websocket_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	njwt "github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// jwt_cookie end to end, in operator mode, against sluice and nats-server
// v2.15.2 from one configuration: a browser-like client keeps its user
// JWT in a cookie sent with the upgrade request and puts none in CONNECT.
// A bearer JWT logs in with the cookie alone; a plain one still signs the
// nonce with its key; a JWT in CONNECT wins over the cookie; a cookie
// with a user of an unknown account, or no cookie, is refused.
func TestJWTCookieOperatorMode(t *testing.T) {
	okp, _ := nkeys.CreateOperator()
	opub, _ := okp.PublicKey()
	oc := njwt.NewOperatorClaims(opub)
	sysKP, _ := nkeys.CreateAccount()
	sysPub, _ := sysKP.PublicKey()
	oc.SystemAccount = sysPub
	opJWT, _ := oc.Encode(okp)
	account := func(kp nkeys.KeyPair) string {
		pub, _ := kp.PublicKey()
		tok, _ := njwt.NewAccountClaims(pub).Encode(okp)
		return tok
	}
	sysJWT := account(sysKP)
	accKP, _ := nkeys.CreateAccount()
	accPub, _ := accKP.PublicKey()
	accJWT := account(accKP)
	user := func(acc nkeys.KeyPair, bearer bool) (string, nkeys.KeyPair) {
		kp, _ := nkeys.CreateUser()
		pub, _ := kp.PublicKey()
		uc := njwt.NewUserClaims(pub)
		uc.BearerToken = bearer
		tok, _ := uc.Encode(acc)
		return tok, kp
	}
	bearer, _ := user(accKP, true)
	plain, plainKP := user(accKP, false)
	strangerKP, _ := nkeys.CreateAccount()
	stranger, _ := user(strangerKP, true)

	conf := fmt.Sprintf(`listen: "127.0.0.1:-1"
operator: %q
system_account: %s
resolver: MEMORY
resolver_preload: { %s: %q, %s: %q }
websocket { listen: "127.0.0.1:-1", no_tls: true, jwt_cookie: "nats_jwt" }
`, opJWT, sysPub, sysPub, sysJWT, accPub, accJWT)

	for _, start := range []func(*testing.T, string) target{startSluice, startReference} {
		tg := start(t, conf)
		t.Run(tg.name, func(t *testing.T) {
			url := "ws://" + tg.wsAddr
			cookie := func(tok string) nats.Option {
				return nats.WebSocketConnectionHeaders(http.Header{"Cookie": {"theme=dark; nats_jwt=" + tok}})
			}
			connect := func(opts ...nats.Option) (*nats.Conn, error) {
				return nats.Connect(url, append(opts, nats.NoReconnect(), nats.Timeout(5*time.Second))...)
			}
			nc, err := connect(cookie(bearer))
			if err != nil {
				t.Fatalf("bearer JWT in a cookie: %v", err)
			}
			sub, _ := nc.SubscribeSync("hello")
			nc.Publish("hello", []byte("world"))
			if _, err := sub.NextMsg(2 * time.Second); err != nil {
				t.Fatal(err)
			}
			nc.Close()

			ppub, _ := plainKP.PublicKey()
			nc, err = connect(cookie(plain), nats.Nkey(ppub, plainKP.Sign))
			if err != nil {
				t.Fatalf("JWT in a cookie, nonce signed: %v", err)
			}
			nc.Close()
			if nc, err := connect(cookie(plain)); err == nil {
				nc.Close()
				t.Fatal("a JWT that is not a bearer one logged in without signing the nonce")
			}

			seed, _ := plainKP.Seed()
			nc, err = connect(cookie("not-a-jwt"), nats.UserJWTAndSeed(plain, string(seed)))
			if err != nil {
				t.Fatalf("JWT in CONNECT over a bad cookie: %v", err)
			}
			nc.Close()

			for name, o := range map[string]nats.Option{"unknown account": cookie(stranger), "no cookie": nats.Name("x")} {
				nc, err := connect(o)
				if err == nil {
					nc.Close()
					t.Fatalf("%s: logged in", name)
				}
				// Not a reset: sluice lets the client read the -ERR
				// (conn.go lingerClose); nats-server sometimes closes
				// before the client has written CONNECT (broken pipe).
				if tg.name != "sluice" {
					continue
				}
				if !strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
					t.Fatalf("%s: refused with %v", name, err)
				}
			}
		})
	}
}
