package keystore

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

func env(vals map[string]string) func(string) string {
	return func(k string) string { return vals[k] }
}

func TestResolveDirs(t *testing.T) {
	home := t.TempDir()
	d, w := ResolveDirs(env(nil), home, Dirs{})
	if d.Config != filepath.Join(home, ".config", "nats", "nsc") || d.Data != filepath.Join(home, ".local", "share", "nats", "nsc", "stores") ||
		d.Keys != filepath.Join(home, ".local", "share", "nats", "nsc", "keys") || w.Config != "default" {
		t.Fatalf("defaults: %+v %+v", d, w)
	}
	d, w = ResolveDirs(env(map[string]string{"NSC_HOME": "~/cfg", "NKEYS_PATH": "/k", "XDG_DATA_HOME": "/xd"}), home, Dirs{})
	if d.Config != filepath.Join(home, "cfg") || d.Keys != "/k" || d.Data != "/xd/nats/nsc/stores" || w.Keys != "$NKEYS_PATH" {
		t.Fatalf("env: %+v %+v", d, w)
	}
	// The data directory comes from nsc.json's store_root.
	cfg := filepath.Join(home, "c")
	os.MkdirAll(cfg, 0o700)
	os.WriteFile(filepath.Join(cfg, ConfigFile), []byte(`{"store_root":"/stores"}`), 0o600)
	if d, w = ResolveDirs(env(nil), home, Dirs{Config: cfg}); d.Data != "/stores" || w.Data != "nsc.json" {
		t.Fatalf("store_root: %+v %+v", d, w)
	}
	// nsc's older ~/.nsc and ~/.nkeys when only they exist.
	old := t.TempDir()
	os.MkdirAll(filepath.Join(old, ".nsc", "nats"), 0o700)
	os.WriteFile(filepath.Join(old, ".nsc", ConfigFile), []byte(`{}`), 0o600)
	os.MkdirAll(filepath.Join(old, ".nkeys"), 0o700)
	if d, _ = ResolveDirs(env(nil), old, Dirs{}); d.Config != filepath.Join(old, ".nsc") || d.Keys != filepath.Join(old, ".nkeys") ||
		d.Data != filepath.Join(old, ".nsc", "nats") {
		t.Fatalf("old layout: %+v", d)
	}
}

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"a", "My Account", "ops-1", "ünïcode"} {
		if err := ValidateName("account", ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", " ", " a", "a/b", `a\b`, ".", "..", ".x", "a\nb", strings.Repeat("x", 201)} {
		if err := ValidateName("account", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "f.jwt")
	if err := writeFile(p, []byte("one")); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	dst, _ := os.Stat(filepath.Dir(p))
	if st.Mode().Perm() != 0o600 || dst.Mode().Perm() != 0o700 {
		t.Fatalf("modes %v %v", st.Mode(), dst.Mode())
	}
	// A failed write (the target is a directory) leaves no temp file and
	// names the file.
	os.Mkdir(filepath.Join(dir, "d"), 0o700)
	err := writeFile(filepath.Join(dir, "d"), []byte("x"))
	var fe *FileError
	if !errors.As(err, &fe) || fe.Path != filepath.Join(dir, "d") {
		t.Fatalf("error %v", err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp") {
			t.Fatalf("temp file left: %s", e.Name())
		}
	}
}

func TestStoreRoundTrip(t *testing.T) {
	root := t.TempDir()
	e, err := Open(Dirs{Config: filepath.Join(root, "cfg"), Data: filepath.Join(root, "stores"), Keys: filepath.Join(root, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	okp, _ := nkeys.CreateOperator()
	opub, _ := okp.PublicKey()
	oc := jwt.NewOperatorClaims(opub)
	oc.Name = "op"
	otok, _ := oc.Encode(okp)
	op, err := e.CreateOperator("op", otok)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateOperator("op", otok); !errors.Is(err, ErrExists) {
		t.Fatalf("second create: %v", err)
	}
	akp, _ := nkeys.CreateAccount()
	apub, _ := akp.PublicKey()
	ac := jwt.NewAccountClaims(apub)
	ac.Name = "acc"
	atok, _ := ac.Encode(okp)
	if _, err := op.SaveAccount(atok); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Keys.Store(akp); err != nil {
		t.Fatal(err)
	}
	got, err := e.Keys.Get(apub)
	if err != nil || got == nil {
		t.Fatal(err)
	}
	e2, _ := Open(e.Dirs)
	if e2.Config.Operator != "op" || e2.Config.Account != "acc" {
		t.Fatalf("defaults: %+v", e2.Config)
	}
	if name, _, err := op.AccountByKey(apub); err != nil || name != "acc" {
		t.Fatalf("AccountByKey: %q %v", name, err)
	}
	var nf *NotFoundError
	if _, _, err := op.Account("nope"); !errors.As(err, &nf) {
		t.Fatalf("missing account: %v", err)
	}
	ukp, _ := nkeys.CreateUser()
	upub, _ := ukp.PublicKey()
	if _, err := e.Keys.Get(upub); !errors.As(err, &nf) || !strings.Contains(err.Error(), e.Keys.KeyPath(upub)) {
		t.Fatalf("missing key: %v", err)
	}
	// A seed stored under the wrong name is caught.
	seed, _ := ukp.Seed()
	os.MkdirAll(filepath.Dir(e.Keys.KeyPath(apub)), 0o700)
	os.WriteFile(e.Keys.KeyPath(apub), seed, 0o600)
	if _, err := e.Keys.Get(apub); err == nil || !strings.Contains(err.Error(), "holds the seed of") {
		t.Fatalf("wrong seed: %v", err)
	}
}
