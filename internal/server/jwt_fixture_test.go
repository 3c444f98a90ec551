package server_test

import (
	"testing"
	"time"

	njwt "github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/sluicehq/sluice/internal/server"
	opjwt "github.com/sluicehq/sluice/internal/server/jwt"
	"github.com/sluicehq/sluice/internal/testutil"
)

// Operator mode fixtures: an operator, its accounts and users, made with
// jwt/v2 and nkeys as nsc would.

type tOperator struct {
	kp  nkeys.KeyPair
	pub string
	jwt string
	sys *tAccount
}

type tAccount struct {
	op     *tOperator
	kp     nkeys.KeyPair
	pub    string
	claims *njwt.AccountClaims
	jwt    string
}

func newOperator(t testing.TB) *tOperator {
	t.Helper()
	kp, _ := nkeys.CreateOperator()
	pub, _ := kp.PublicKey()
	oc := njwt.NewOperatorClaims(pub)
	oc.Name = "OP"
	op := &tOperator{kp: kp, pub: pub}
	op.sys = op.account(t, "SYS", nil)
	oc.SystemAccount = op.sys.pub
	tok, err := oc.Encode(kp)
	if err != nil {
		t.Fatal(err)
	}
	op.jwt = tok
	return op
}

// account makes an account signed by the operator; edit adjusts it.
func (op *tOperator) account(t testing.TB, name string, edit func(*njwt.AccountClaims)) *tAccount {
	t.Helper()
	kp, _ := nkeys.CreateAccount()
	pub, _ := kp.PublicKey()
	ac := njwt.NewAccountClaims(pub)
	ac.Name = name
	a := &tAccount{op: op, kp: kp, pub: pub, claims: ac}
	a.sign(t, edit)
	return a
}

// sign re-issues the account JWT after edit.
func (a *tAccount) sign(t testing.TB, edit func(*njwt.AccountClaims)) string {
	t.Helper()
	if edit != nil {
		edit(a.claims)
	}
	// A new JWT must have a later issue time to replace the stored one.
	time.Sleep(time.Millisecond)
	a.claims.IssuedAt = 0
	tok, err := a.claims.Encode(a.op.kp)
	if err != nil {
		t.Fatal(err)
	}
	a.jwt = tok
	return tok
}

// user makes a user of the account; edit adjusts its claims.
func (a *tAccount) user(t testing.TB, name string, edit func(*njwt.UserClaims)) (string, nkeys.KeyPair) {
	t.Helper()
	return a.userSignedBy(t, a.kp, name, edit)
}

func (a *tAccount) userSignedBy(t testing.TB, signer nkeys.KeyPair, name string, edit func(*njwt.UserClaims)) (string, nkeys.KeyPair) {
	t.Helper()
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	uc := njwt.NewUserClaims(pub)
	uc.Name = name
	if sp, _ := signer.PublicKey(); sp != a.pub {
		uc.IssuerAccount = a.pub
	}
	if edit != nil {
		edit(uc)
	}
	tok, err := uc.Encode(signer)
	if err != nil {
		t.Fatal(err)
	}
	return tok, kp
}

// creds is the nats.go option logging in as a user.
func creds(tok string, kp nkeys.KeyPair) nats.Option {
	seed, _ := kp.Seed()
	return nats.UserJWTAndSeed(tok, string(seed))
}

// runOperator starts a server trusting op, with the accounts preloaded
// into a MEMORY resolver.
func runOperator(t testing.TB, op *tOperator, mutate func(*server.Options), accs ...*tAccount) *server.Server {
	t.Helper()
	return testutil.RunServer(t, func(o *server.Options) {
		o.TrustedOperators = []string{op.jwt}
		o.SystemAccount = op.sys.pub
		o.ResolverPreload = map[string]string{op.sys.pub: op.sys.jwt}
		o.AccountResolver = &opjwt.ResolverConfig{Kind: "MEMORY"}
		for _, a := range accs {
			o.ResolverPreload[a.pub] = a.jwt
		}
		if mutate != nil {
			mutate(o)
		}
	})
}
