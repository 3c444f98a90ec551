package natscontext

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

func envOf(m map[string]string) Env { return func(k string) string { return m[k] } }

func TestResolveForms(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "secret")
	writeFile(t, p, []byte("from-file\n"))
	env := envOf(map[string]string{"HOME": dir, "SECRET": "from-env", "D": dir})

	cases := []struct{ ref, want string }{
		{p, "from-file\n"},
		{"file://" + p, "from-file\n"},
		{"~/secret", "from-file\n"},
		{"$D/secret", "from-file\n"},
		{"env://SECRET", "from-env"},
		{EncodeData([]byte("inline")), "inline"},
		{"data:application/octet-stream;base64,aW5saW5l", "inline"},
	}
	for _, tc := range cases {
		got, err := Resolve(tc.ref, env)
		if err != nil {
			t.Errorf("%s: %v", tc.ref, err)
			continue
		}
		if string(got) != tc.want {
			t.Errorf("%s = %q, want %q", tc.ref, got, tc.want)
		}
	}

	bad := []struct{ ref, want string }{
		{filepath.Join(dir, "none"), "cannot read"},
		{"env://UNSET", "UNSET is not set"},
		{"env://", "names no environment variable"},
		{"data:,plain", "must be base64"},
		{"data:;base64,***", "not valid base64"},
		{"op://vault/item/field", "not supported"},
		{"nsc://op/acc/user", "not supported"},
		{"vault://x", "unknown credential scheme"},
	}
	for _, tc := range bad {
		_, err := Resolve(tc.ref, env)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.ref, err, tc.want)
		}
		if err != nil && strings.Contains(tc.ref, "vault/item") && strings.Contains(err.Error(), "vault/item") {
			t.Errorf("error leaks the reference: %v", err)
		}
	}
}

func TestSchemeIgnoresDriveLetters(t *testing.T) {
	for ref, want := range map[string]string{
		`C:\keys\u.creds`: "", "/a/b": "", "ENV://X": "env", "data:;base64,": "data", "pass:word": "pass",
	} {
		if got := Scheme(ref); got != want {
			t.Errorf("Scheme(%q) = %q, want %q", ref, got, want)
		}
	}
}

func applied(t *testing.T, c *Context, env Env) nats.Options {
	t.Helper()
	opts, err := c.NATSOptions(env)
	if err != nil {
		t.Fatal(err)
	}
	o := nats.GetDefaultOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			t.Fatal(err)
		}
	}
	return o
}

func TestNATSOptionsUserPasswordToken(t *testing.T) {
	env := envOf(map[string]string{"PW": "hunter2"})
	o := applied(t, &Context{Name: "a", User: "bob", Password: "env://PW", Token: "data:;base64," + "dG9r", InboxPrefix: "_I.bob", TLSFirst: true}, env)
	if o.User != "bob" || o.Password != "hunter2" {
		t.Fatalf("user/password = %q/%q", o.User, o.Password)
	}
	if o.Token != "tok" {
		t.Fatalf("token = %q", o.Token)
	}
	if o.InboxPrefix != "_I.bob" || !o.TLSHandshakeFirst {
		t.Fatalf("inbox %q tlsfirst %v", o.InboxPrefix, o.TLSHandshakeFirst)
	}
	// A password that merely looks like a URI is taken literally.
	o = applied(t, &Context{Name: "a", User: "bob", Password: "pass:word"}, env)
	if o.Password != "pass:word" {
		t.Fatalf("password = %q", o.Password)
	}
}

func testCreds(t *testing.T) (creds []byte, kp nkeys.KeyPair) {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := kp.Seed()
	creds = fmt.Appendf(nil, `-----BEGIN NATS USER JWT-----
eyJhbGciOiJlZDI1NTE5In0.e30.c2ln
------END NATS USER JWT------

************************* IMPORTANT *************************
NKEY Seed printed below can be used to sign and prove identity.

-----BEGIN USER NKEY SEED-----
%s
------END USER NKEY SEED------
`, seed)
	return creds, kp
}

func TestNATSOptionsCreds(t *testing.T) {
	creds, kp := testCreds(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "u.creds")
	writeFile(t, p, creds)
	env := envOf(map[string]string{"CREDS": string(creds)})

	for _, ref := range []string{p, "file://" + p, "env://CREDS", EncodeData(creds)} {
		o := applied(t, &Context{Name: "a", Creds: ref}, env)
		if o.UserJWT == nil || o.SignatureCB == nil {
			t.Fatalf("%s: no jwt callbacks", ref)
		}
		jwt, err := o.UserJWT()
		if err != nil || jwt != "eyJhbGciOiJlZDI1NTE5In0.e30.c2ln" {
			t.Fatalf("%s: jwt = %q, %v", ref, jwt, err)
		}
		sig, err := o.SignatureCB([]byte("nonce"))
		if err != nil {
			t.Fatal(err)
		}
		if err := kp.Verify([]byte("nonce"), sig); err != nil {
			t.Fatalf("%s: signature does not verify: %v", ref, err)
		}
	}

	_, err := (&Context{Name: "a", Creds: filepath.Join(dir, "missing.creds")}).NATSOptions(env)
	if err == nil || !strings.Contains(err.Error(), "creds: cannot read") {
		t.Fatalf("missing creds: %v", err)
	}
}

func TestNATSOptionsNKey(t *testing.T) {
	kp, _ := nkeys.CreateUser()
	seed, _ := kp.Seed()
	pub, _ := kp.PublicKey()
	p := filepath.Join(t.TempDir(), "u.nk")
	writeFile(t, p, seed)
	for _, ref := range []string{p, EncodeData(seed)} {
		o := applied(t, &Context{Name: "a", NKey: ref}, nil)
		if o.Nkey != pub || o.SignatureCB == nil {
			t.Fatalf("%s: nkey = %q", ref, o.Nkey)
		}
	}
}

func TestNATSOptionsJWTAndSeed(t *testing.T) {
	kp, _ := nkeys.CreateUser()
	seed, _ := kp.Seed()
	o := applied(t, &Context{Name: "a", UserJWT: "eyJ.x.y", UserSeed: string(seed)}, nil)
	if o.UserJWT == nil {
		t.Fatal("no jwt callback")
	}
	if jwt, _ := o.UserJWT(); jwt != "eyJ.x.y" {
		t.Fatalf("jwt = %q", jwt)
	}
}

func TestNATSOptionsUnsupported(t *testing.T) {
	for _, c := range []*Context{
		{Name: "a", NSC: "nsc://o/a/u"},
		{Name: "a", SocksProxy: "socks5://h:1080"},
		{Name: "a", WindowsCertStore: "user", WindowsCertMatch: "x"},
		{Name: "a", Cert: "data:;base64,AA==", Key: "/k"},
	} {
		if _, err := c.NATSOptions(nil); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "u.creds")
	writeFile(t, p, []byte("x"))
	c := &Context{Name: "a", Creds: p, Token: "env://TOK", Password: "lit", CA: filepath.Join(dir, "ca.pem")}
	got := map[string]CredentialStatus{}
	for _, st := range c.Check(envOf(nil)) {
		got[st.Field] = st
	}
	if !got["creds"].OK || got["creds"].Source != "file" {
		t.Errorf("creds: %+v", got["creds"])
	}
	if got["token"].OK || got["token"].Source != "environment" {
		t.Errorf("token: %+v", got["token"])
	}
	if !got["password"].OK || got["password"].Source != "literal" {
		t.Errorf("password: %+v", got["password"])
	}
	if got["ca"].OK {
		t.Errorf("ca: %+v", got["ca"])
	}
}

func TestEmbed(t *testing.T) {
	creds, _ := testCreds(t)
	p := filepath.Join(t.TempDir(), "u.creds")
	writeFile(t, p, creds)
	c := &Context{Name: "a", Creds: p, Token: "env://X"}
	if err := c.Embed(nil); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.Creds, "data:;base64,") || c.Token != "env://X" {
		t.Fatalf("after embed: %+v", c)
	}
	os.Remove(p)
	c.Token = ""
	if _, err := c.NATSOptions(nil); err != nil {
		t.Fatalf("embedded creds unusable: %v", err)
	}
}
