package server_test

import (
	"strings"
	"testing"
	"time"

	njwt "github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/sluicehq/sluice/internal/server"
	opjwt "github.com/sluicehq/sluice/internal/server/jwt"
	"github.com/sluicehq/sluice/internal/testutil"
)

// The security matrix of operator mode: each bad credential is refused
// with a log line saying why, without the credential in it, and without
// disturbing a client already connected.
func TestOperatorSecurityMatrix(t *testing.T) {
	op := newOperator(t)
	acc := op.account(t, "A", nil)
	revokedKP, _ := nkeys.CreateUser()
	revokedPub, _ := revokedKP.PublicKey()
	acc.sign(t, func(ac *njwt.AccountClaims) { ac.RevokeAt(revokedPub, time.Now().Add(time.Hour)) })
	expiredAcc := op.account(t, "EXPIRED", func(ac *njwt.AccountClaims) { ac.Expires = time.Now().Add(-time.Hour).Unix() })
	other := newOperator(t)
	foreign := other.account(t, "F", nil)
	log := &logBuffer{}
	s := runOperator(t, op, withLog(log), acc, expiredAcc)

	good, gkp := acc.user(t, "good", nil)
	healthy := mustDial(t, s, creds(good, gkp))
	sub, _ := healthy.SubscribeSync("ping")
	healthy.Flush()

	uc := njwt.NewUserClaims(revokedPub)
	revoked, _ := uc.Encode(acc.kp)
	expired, ekp := acc.user(t, "e", func(uc *njwt.UserClaims) { uc.Expires = time.Now().Add(-time.Minute).Unix() })
	inExpired, iekp := expiredAcc.user(t, "x", nil)
	ft, fkp := foreign.user(t, "f", nil)
	unknownAcc := op.account(t, "NOTPRELOADED", nil)
	ut, ukp := unknownAcc.user(t, "u", nil)
	wrongKP, _ := nkeys.CreateUser()
	// A user JWT re-signed by a key the account does not know.
	stranger, _ := nkeys.CreateAccount()
	forged, fgkp := acc.userSignedBy(t, stranger, "forged", nil)

	for _, c := range []struct {
		name, tok string
		kp        nkeys.KeyPair
		why       string
	}{
		{"revoked", revoked, revokedKP, "revoked"},
		{"expired user", expired, ekp, "user JWT has expired"},
		{"expired account", inExpired, iekp, "account JWT has expired"},
		{"other operator", ft, fkp, "not found"},
		{"unknown account", ut, ukp, "not found"},
		{"wrong nonce signature", good, wrongKP, "signature of the nonce"},
		{"forged issuer", forged, fgkp, "issuer"},
		{"tampered", good[:len(good)-6] + "AAAAAA", gkp, "user JWT"},
		{"not a JWT", "eyJnot.a.jwt", gkp, "user JWT"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := len(log.String())
			refused(t, s, creds(c.tok, c.kp))
			lines := log.String()[before:]
			if !strings.Contains(lines, c.why) {
				t.Errorf("log does not say %q:\n%s", c.why, lines)
			}
			seed, _ := c.kp.Seed()
			for _, secret := range []string{c.tok, string(seed)} {
				if strings.Contains(log.String(), secret) {
					t.Fatalf("log holds a secret:\n%s", lines)
				}
			}
		})
	}
	refused(t, s, nats.Token("just-a-token"))
	healthy.Publish("ping", nil)
	if _, err := sub.NextMsg(2 * time.Second); err != nil {
		t.Fatalf("the connected client was disturbed: %v", err)
	}
}

// A reload keeps JWT users connected with their permissions.
func TestOperatorReloadKeepsUsers(t *testing.T) {
	op := newOperator(t)
	acc := op.account(t, "A", nil)
	s := runOperator(t, op, nil, acc)
	tok, kp := acc.user(t, "u", func(uc *njwt.UserClaims) { uc.Pub.Allow.Add("ok.>") })
	ch, opts := errsOf()
	nc := mustDial(t, s, append(opts, creds(tok, kp))...)
	if _, err := s.ReloadOptions(s.Options()); err != nil {
		t.Fatal(err)
	}
	nc.Publish("no", nil)
	nc.Flush()
	waitErr(t, ch, `Publish to "no"`)
	if nc.IsClosed() {
		t.Fatal("closed by the reload")
	}
}

// Operator mode options that cannot work are refused at start with
// nats-server's errors.
func TestOperatorOptionErrors(t *testing.T) {
	op := newOperator(t)
	other := newOperator(t)
	okKey, _ := nkeys.CreateOperator()
	okPub, _ := okKey.PublicKey()
	mem := &opjwt.ResolverConfig{Kind: "MEMORY"}
	for name, c := range map[string]struct {
		o    server.Options
		want string
	}{
		"no resolver":          {server.Options{TrustedOperators: []string{op.jwt}}, "operators require an account resolver"},
		"config accounts":      {server.Options{TrustedOperators: []string{op.jwt}, AccountResolver: mem, Accounts: []*server.AccountConfig{{Name: "A"}}}, "operators do not allow Accounts"},
		"config users":         {server.Options{TrustedOperators: []string{op.jwt}, AccountResolver: mem, Username: "u", Password: "p"}, "operators do not allow users"},
		"keys and operators":   {server.Options{TrustedOperators: []string{op.jwt}, AccountResolver: mem, TrustedKeys: []string{okPub}}, "conflicting options"},
		"other system acc":     {server.Options{TrustedOperators: []string{op.jwt}, AccountResolver: mem, SystemAccount: other.sys.pub}, "must be identical"},
		"resolver, no op":      {server.Options{AccountResolver: mem}, "need operator mode"},
		"full resolver no sys": {server.Options{TrustedKeys: []string{okPub}, AccountResolver: &opjwt.ResolverConfig{Kind: "FULL", Dir: opjwt.DirConfig{Dir: t.TempDir()}}}, "system account needs to be specified"},
		"untrusted preload":    {server.Options{TrustedOperators: []string{op.jwt}, AccountResolver: mem, ResolverPreload: map[string]string{other.sys.pub: other.sys.jwt}}, "not trusted"},
	} {
		t.Run(name, func(t *testing.T) {
			c.o.Port = server.RandomPort
			_, err := server.New(c.o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
	// The system account defaults to the operator's.
	s := testutil.RunServer(t, func(o *server.Options) {
		o.TrustedOperators = []string{op.jwt}
		o.AccountResolver = mem
		o.ResolverPreload = map[string]string{op.sys.pub: op.sys.jwt}
	})
	if s.SystemAccount() == nil || s.SystemAccount().Name != op.sys.pub {
		t.Fatalf("system account %v", s.SystemAccount())
	}
}
