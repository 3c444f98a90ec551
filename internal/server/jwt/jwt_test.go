package jwt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	njwt "github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

type fixture struct {
	op    nkeys.KeyPair
	opPub string
	trust *Trust
}

func newFixture(t *testing.T) *fixture {
	kp, _ := nkeys.CreateOperator()
	pub, _ := kp.PublicKey()
	oc := njwt.NewOperatorClaims(pub)
	tr, err := NewTrust([]*njwt.OperatorClaims{oc}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{op: kp, opPub: pub, trust: tr}
}

func (f *fixture) account(t *testing.T, edit func(*njwt.AccountClaims)) (nkeys.KeyPair, *njwt.AccountClaims, string) {
	kp, _ := nkeys.CreateAccount()
	pub, _ := kp.PublicKey()
	ac := njwt.NewAccountClaims(pub)
	if edit != nil {
		edit(ac)
	}
	tok, err := ac.Encode(f.op)
	if err != nil {
		t.Fatal(err)
	}
	return kp, ac, tok
}

func TestParseResolver(t *testing.T) {
	id := func(v any) any { return v }
	dir := t.TempDir()
	for _, c := range []struct {
		in      any
		kind    string
		wantErr string
	}{
		{"MEMORY", "MEMORY", ""},
		{"mem", "MEMORY", ""},
		{`URL(http://h:9090/jwt/v1/accounts/)`, "URL", ""},
		{`URL("https://h/a/")`, "URL", ""},
		{`URL(ftp://h/)`, "", "must start with http"},
		{"SOMETHING", "", "invalid resolver"},
		{int64(3), "", "should be MEMORY"},
		{map[string]any{"type": "full", "dir": dir, "allow_delete": true, "interval": "2m", "limit": int64(10), "timeout": "1.9s"}, "FULL", ""},
		{map[string]any{"type": "cache", "dir": dir, "ttl": "1h"}, "CACHE", ""},
		{map[string]any{"type": "full"}, "", "dir has no value"},
		{map[string]any{"type": "full", "dir": dir, "ttl": "1h"}, "", "FULL does not accept ttl"},
		{map[string]any{"type": "cache", "dir": dir, "interval": "1m"}, "", "CACHE does not accept sync"},
		{map[string]any{"type": "full", "dir": dir, "hard_delete": true}, "", "hard_delete has no effect"},
		{map[string]any{"type": "full", "dir": dir, "interval": "soon"}, "", "invalid duration"},
		{map[string]any{"type": "weird", "dir": dir}, "", "unknown resolver type"},
		{map[string]any{"dir": dir}, "", "needs 'type'"},
		{map[string]any{"type": "full", "dir": dir, "colour": "red"}, "", "unknown field"},
	} {
		rc, err := ParseResolver(c.in, id)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%v: got %v, want %q", c.in, err, c.wantErr)
			}
			continue
		}
		if err != nil || rc.Kind != c.kind {
			t.Errorf("%v: got %v %v", c.in, rc, err)
		}
	}
}

func TestDirStore(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	d, err := NewDir(DirConfig{Dir: dir, Limit: 2, Delete: RenameDeleted})
	if err != nil {
		t.Fatal(err)
	}
	_, ac, tok := f.account(t, nil)
	if ok, err := d.Store(ac.Subject, tok); !ok || err != nil {
		t.Fatalf("store: %v %v", ok, err)
	}
	if ok, _ := d.Store(ac.Subject, tok); ok {
		t.Error("the same JWT stored twice")
	}
	_, other, otherTok := f.account(t, nil)
	if _, err := d.Store(ac.Subject, otherTok); err == nil {
		t.Error("JWT of another account stored under this key")
	}
	if got, err := d.Fetch(ac.Subject); err != nil || got != tok {
		t.Fatalf("fetch: %v", err)
	}
	if _, err := d.Fetch(other.Subject); err != ErrNotFound {
		t.Fatalf("fetch unknown: %v", err)
	}
	d.Store(other.Subject, otherTok)
	_, third, thirdTok := f.account(t, nil)
	if _, err := d.Store(third.Subject, thirdTok); err == nil || !strings.Contains(err.Error(), "full") {
		t.Fatalf("limit: %v", err)
	}
	if l := d.List(); len(l) != 2 {
		t.Fatalf("list %v", l)
	}
	if err := d.Delete(ac.Subject); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ac.Subject+".jwt.deleted")); err != nil {
		t.Fatal("deleted JWT not renamed")
	}
	if err := d.Delete(ac.Subject); err == nil {
		t.Fatal("deleting twice")
	}
	nd, _ := NewDir(DirConfig{Dir: t.TempDir()})
	if err := nd.Delete(other.Subject); err == nil || !strings.Contains(err.Error(), "delete must be enabled") {
		t.Fatalf("delete without allow_delete: %v", err)
	}
	// A cache evicts the least recently used.
	cd, _ := NewDir(DirConfig{Dir: t.TempDir(), Cache: true, Limit: 1})
	cd.Store(ac.Subject, tok)
	cd.Store(other.Subject, otherTok)
	if _, err := cd.Fetch(ac.Subject); err != ErrNotFound {
		t.Fatalf("cache did not evict: %v", err)
	}
}

func TestWindowEnd(t *testing.T) {
	day := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	r := func(s, e string) []njwt.TimeRange { return []njwt.TimeRange{{Start: s, End: e}} }
	for _, c := range []struct {
		now    time.Time
		ranges []njwt.TimeRange
		end    time.Time
		ok     bool
	}{
		{day.Add(10 * time.Hour), r("09:00:00", "17:00:00"), day.Add(17 * time.Hour), true},
		{day.Add(8 * time.Hour), r("09:00:00", "17:00:00"), time.Time{}, false},
		{day.Add(23 * time.Hour), r("22:00:00", "02:00:00"), day.Add(26 * time.Hour), true},
		{day.Add(time.Hour), r("22:00:00", "02:00:00"), day.Add(2 * time.Hour), true},
		{day.Add(12 * time.Hour), r("22:00:00", "02:00:00"), time.Time{}, false},
	} {
		end, err := windowEnd(c.ranges, "UTC", c.now)
		if (err == nil) != c.ok || !end.Equal(c.end) {
			t.Errorf("%v in %v: got %v %v", c.now, c.ranges, end, err)
		}
	}
	if _, err := windowEnd(r("09:00:00", "17:00:00"), "Mars/Base", day); err == nil {
		t.Error("unknown locale accepted")
	}
}

func TestTemplates(t *testing.T) {
	uc := njwt.NewUserClaims("UXXX")
	uc.Name = "bob"
	uc.Tags.Add("team:blue", "team:red")
	ac := njwt.NewAccountClaims("AXXX")
	ac.Name = "acme"
	var in njwt.UserPermissionLimits
	in.Pub.Allow.Add("a.{{name()}}", "t.{{tag(team)}}.>", "acc.{{account-name()}}.{{subject()}}")
	out, err := ExpandTemplates(in, uc, ac)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(out.Pub.Allow, " ")
	if got != "a.bob t.blue.> t.red.> acc.acme.UXXX" {
		t.Fatalf("got %q", got)
	}
	in.Pub.Allow = njwt.StringList{"x.{{tag(missing)}}"}
	if _, err := ExpandTemplates(in, uc, ac); err == nil {
		t.Error("missing tag accepted")
	}
	in.Pub.Allow = njwt.StringList{"x.{{bogus()}}"}
	if _, err := ExpandTemplates(in, uc, ac); err == nil {
		t.Error("unknown function accepted")
	}
}

func TestActivations(t *testing.T) {
	f := newFixture(t)
	expKP, exp, _ := f.account(t, func(ac *njwt.AccountClaims) {
		ac.Exports.Add(&njwt.Export{Subject: "p.>", Type: njwt.Stream, TokenReq: true})
	})
	_, imp, _ := f.account(t, nil)
	mk := func(edit func(*njwt.ActivationClaims), signer nkeys.KeyPair) *njwt.Import {
		act := njwt.NewActivationClaims(imp.Subject)
		act.ImportSubject = "p.>"
		act.ImportType = njwt.Stream
		if edit != nil {
			edit(act)
		}
		tok, _ := act.Encode(signer)
		return &njwt.Import{Account: exp.Subject, Subject: "p.>", Type: njwt.Stream, Token: tok}
	}
	stranger, _ := nkeys.CreateAccount()
	ex := exp.Exports[0]
	now := time.Now()
	if _, err := CheckActivation(exp, ex, imp.Subject, mk(nil, expKP), now); err != nil {
		t.Fatalf("good token: %v", err)
	}
	for name, im := range map[string]*njwt.Import{
		"no token":     {Account: exp.Subject, Subject: "p.>", Type: njwt.Stream},
		"wrong signer": mk(nil, stranger),
		"expired":      mk(func(a *njwt.ActivationClaims) { a.Expires = now.Add(-time.Minute).Unix() }, expKP),
		"other subj":   mk(func(a *njwt.ActivationClaims) { a.ImportSubject = "q.>" }, expKP),
	} {
		if _, err := CheckActivation(exp, ex, imp.Subject, im, now); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := CheckActivation(exp, ex, "AOTHER", mk(nil, expKP), now); err == nil {
		t.Error("token of another importer accepted")
	}
	exp.Exports[0].Revocations = njwt.RevocationList{}
	exp.Exports[0].RevokeAt(imp.Subject, now.Add(time.Minute))
	if _, err := CheckActivation(exp, ex, imp.Subject, mk(nil, expKP), now); err == nil {
		t.Error("revoked token accepted")
	}
}

type nopApply struct{ updated, deleted []string }

func (a *nopApply) AccountUpdated(pub, _ string, _ *njwt.AccountClaims) {
	a.updated = append(a.updated, pub)
}
func (a *nopApply) AccountDeleted(pub string) { a.deleted = append(a.deleted, pub) }
func (a *nopApply) SystemAccount() string     { return "ASYS" }
func (a *nopApply) AccountKnown(string) bool  { return false }

type nopLog struct{}

func (nopLog) Debugf(string, ...any) {}
func (nopLog) Errorf(string, ...any) {}

// The claims services refuse bad input with an error reply and no effect.
func TestClaimsBadInput(t *testing.T) {
	f := newFixture(t)
	d, _ := NewDir(DirConfig{Dir: t.TempDir(), Delete: HardDelete})
	ap := &nopApply{}
	c := &Claims{Trust: f.trust, Resolver: d, Apply: ap, Log: nopLog{}}
	_, ac, tok := f.account(t, nil)
	rogueOp, _ := nkeys.CreateOperator()
	rogueAcc := njwt.NewAccountClaims(ac.Subject)
	rogueTok, _ := rogueAcc.Encode(rogueOp)
	for name, c2 := range map[string]struct {
		subjAcc string
		msg     []byte
		want    string
	}{
		"oversized":        {"", make([]byte, MaxClaimsRequest+1), "too large"},
		"malformed":        {"", []byte("not a jwt"), "jwt update resulted in error"},
		"empty":            {"", nil, "jwt update resulted in error"},
		"other operator":   {"", []byte(rogueTok), "not trusted"},
		"subject mismatch": {"AOTHERACCOUNT", []byte(tok), "subject does not match"},
		"user jwt":         {"", []byte(userJWT(t)), "jwt update resulted in error"},
	} {
		r := c.Update(c2.subjAcc, c2.msg)
		if r.Error == nil || !strings.Contains(r.Error.Description, c2.want) {
			t.Errorf("%s: got %+v", name, r.Error)
		}
	}
	if len(ap.updated) > 0 || len(d.List()) > 0 {
		t.Fatalf("bad input had an effect: %v %v", ap.updated, d.List())
	}
	if r := c.Update("", []byte(tok)); r.Data == nil || r.Data.Message != "jwt updated" {
		t.Fatalf("good update: %+v", r)
	}
	del := func(signer nkeys.KeyPair, accs any) *Reply {
		pub, _ := signer.PublicKey()
		gc := njwt.NewGenericClaims(pub)
		gc.Data["accounts"] = accs
		tok, _ := gc.Encode(signer)
		return c.Delete([]byte(tok))
	}
	for name, r := range map[string]*Reply{
		"untrusted": del(rogueOp, []string{ac.Subject}),
		"malformed": del(f.op, "x"),
		"bad key":   del(f.op, []string{"nope"}),
		"system":    del(f.op, []string{"ASYS"}),
		"garbage":   c.Delete([]byte("garbage")),
	} {
		if r.Error == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if r := del(f.op, []string{ac.Subject}); r.Data == nil || r.Data.Message != "deleted 1 accounts" {
		t.Fatalf("delete: %+v %+v", r.Data, r.Error)
	}
}

func userJWT(t *testing.T) string {
	akp, _ := nkeys.CreateAccount()
	ukp, _ := nkeys.CreateUser()
	upub, _ := ukp.PublicKey()
	tok, _ := njwt.NewUserClaims(upub).Encode(akp)
	return tok
}

func TestTrustDecodeAccount(t *testing.T) {
	opKP, _ := nkeys.CreateOperator()
	opPub, _ := opKP.PublicKey()
	skKP, _ := nkeys.CreateOperator()
	skPub, _ := skKP.PublicKey()
	oc := njwt.NewOperatorClaims(opPub)
	oc.SigningKeys.Add(skPub)
	oc.StrictSigningKeyUsage = true
	tr, _ := NewTrust([]*njwt.OperatorClaims{oc}, nil)
	akp, _ := nkeys.CreateAccount()
	apub, _ := akp.PublicKey()
	sign := func(kp nkeys.KeyPair, edit func(*njwt.AccountClaims)) string {
		ac := njwt.NewAccountClaims(apub)
		if edit != nil {
			edit(ac)
		}
		tok, _ := ac.Encode(kp)
		return tok
	}
	if _, err := tr.DecodeAccount(sign(skKP, nil)); err != nil {
		t.Fatalf("signing key: %v", err)
	}
	if _, err := tr.DecodeAccount(sign(opKP, nil)); err == nil || !strings.Contains(err.Error(), "signing key") {
		t.Fatalf("strict operator identity: %v", err)
	}
	for name, edit := range map[string]func(*njwt.AccountClaims){
		"too many imports": func(ac *njwt.AccountClaims) {
			ac.Limits.Imports = 0
			ac.Imports.Add(&njwt.Import{Account: apub, Subject: "x", Type: njwt.Stream})
		},
		"wildcard export": func(ac *njwt.AccountClaims) {
			ac.Limits.WildcardExports = false
			ac.Limits.Exports = 5
			ac.Exports.Add(&njwt.Export{Subject: "x.>", Type: njwt.Stream})
		},
	} {
		if _, err := tr.DecodeAccount(sign(skKP, edit)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := NewTrust(nil, []string{"NOTAKEY"}); err == nil {
		t.Error("bad trusted key accepted")
	}
}
