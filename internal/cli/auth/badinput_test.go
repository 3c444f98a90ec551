package authcmd_test

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/sluicehq/sluice/internal/cli/auth/authtest"
	"github.com/sluicehq/sluice/internal/cli/clitest"
)

// snapshot hashes every file under dir, to show a failed command left
// the store as it was.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			b, _ := os.ReadFile(p)
			lines = append(lines, fmt.Sprintf("%s %x", p, sha256.Sum256(b)))
		} else {
			lines = append(lines, p+"/")
		}
		return nil
	})
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// fails runs a command that must fail with code and a message holding
// every want, and leave the store unchanged.
func fails(t *testing.T, home string, code int, want []string, args ...string) {
	t.Helper()
	before := snapshot(t, home)
	r := clitest.Run(t, args...)
	if r.Code != code {
		t.Fatalf("%v: exit %d, want %d\nstdout: %s\nstderr: %s", args, r.Code, code, r.Stdout, r.Stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.Stderr, w) {
			t.Fatalf("%v: error %q does not say %q", args, strings.TrimSpace(r.Stderr), w)
		}
	}
	if strings.Count(strings.TrimSpace(r.Stderr), "\n") > 0 {
		t.Errorf("%v: error is not one line:\n%s", args, r.Stderr)
	}
	if after := snapshot(t, home); after != before {
		t.Fatalf("%v changed the store", args)
	}
}

func TestBadInput(t *testing.T) {
	home := authtest.Isolate(t)
	run(t, "auth", "init", "--name", "acme")
	run(t, "auth", "add", "account", "orders")
	run(t, "auth", "add", "user", "app", "-a", "orders")
	userKP, _ := nkeys.CreateUser()
	userPub, _ := userKP.PublicKey()
	accKP, _ := nkeys.CreateAccount()
	accPub, _ := accKP.PublicKey()

	t.Run("names", func(t *testing.T) {
		fails(t, home, 2, []string{`invalid account name "a/b"`}, "auth", "add", "account", "a/b")
		fails(t, home, 2, []string{`invalid user name ".hidden"`}, "auth", "add", "user", ".hidden", "-a", "orders")
		fails(t, home, 2, []string{`invalid operator name "x\ty"`}, "auth", "add", "operator", "x\ty")
		fails(t, home, 2, []string{"--name is required"}, "auth", "init")
		fails(t, home, 2, []string{`account "orders" already exists`}, "auth", "add", "account", "orders")
		fails(t, home, 4, []string{`account "nope" not found`}, "auth", "describe", "account", "nope")
		fails(t, home, 4, []string{`operator "nope" not found`}, "auth", "select", "operator", "nope")
	})
	t.Run("key kinds", func(t *testing.T) {
		fails(t, home, 2, []string{"--public-key", "wrong kind", "want an account key"},
			"auth", "add", "account", "x", "--public-key", userPub)
		fails(t, home, 2, []string{"--public-key", "wrong kind", "want a user key"},
			"auth", "add", "user", "x", "-a", "orders", "--public-key", accPub)
		fails(t, home, 2, []string{"--sk", "wrong kind"}, "auth", "edit", "operator", "--sk", accPub)
		fails(t, home, 2, []string{"--public-key", "not a public key"}, "auth", "add", "user", "x", "-a", "orders", "--public-key", "bogus")
		fails(t, home, 2, []string{"--private-key", "neither"}, "auth", "add", "user", "x", "-a", "orders", "--private-key", string(mustSeed(accKP)))
	})
	t.Run("flags", func(t *testing.T) {
		fails(t, home, 2, []string{"--source-network"}, "auth", "add", "user", "x", "-a", "orders", "--source-network", "nonsense")
		fails(t, home, 2, []string{"--time"}, "auth", "add", "user", "x", "-a", "orders", "--time", "9-5")
		fails(t, home, 2, []string{"--conn-type"}, "auth", "add", "user", "x", "-a", "orders", "--conn-type", "CARRIER_PIGEON")
		fails(t, home, 2, []string{"--expiry", "in the past"}, "auth", "add", "user", "x", "-a", "orders", "--expiry", "2001-01-01")
		fails(t, home, 2, []string{"--expiry"}, "auth", "add", "user", "x", "-a", "orders", "--expiry", "soon")
		fails(t, home, 2, []string{"--payload"}, "auth", "edit", "account", "orders", "--payload", "lots")
		fails(t, home, 2, []string{"nothing to change"}, "auth", "edit", "account", "orders")
		fails(t, home, 2, []string{"--force"}, "auth", "delete", "user", "app", "-a", "orders")
		fails(t, home, 2, []string{"--mem-resolver", "--nats-resolver"}, "auth", "generate", "config")
	})

	accPath := filepath.Join(dataDir(home), "acme", "accounts", "orders", "orders.jwt")
	t.Run("tampered", func(t *testing.T) {
		good, _ := os.ReadFile(accPath)
		defer os.WriteFile(accPath, good, 0o600)
		ac, _ := jwt.DecodeAccountClaims(string(good))
		ac.Limits.Conn = 1000
		// Same signature, other claims.
		forged, _ := ac.Encode(accKP)
		parts := strings.Split(string(good), ".")
		fparts := strings.Split(forged, ".")
		os.WriteFile(accPath, []byte(parts[0]+"."+fparts[1]+"."+parts[2]), 0o600)
		fails(t, home, 1, []string{accPath, "not a valid account JWT"}, "auth", "describe", "account", "orders")
		fails(t, home, 1, []string{accPath}, "auth", "add", "user", "y", "-a", "orders")
		r := clitest.Run(t, "auth", "validate", "-A")
		clitest.ExpectCode(t, r, 1)
		if !strings.Contains(r.Stdout, "orders") {
			t.Fatalf("validate does not report the tampered account:\n%s", r.Stdout)
		}
		// Signed by a key that is not the operator's.
		os.WriteFile(accPath, []byte(forged), 0o600)
		r = clitest.Run(t, "auth", "validate", "-a", "orders")
		clitest.ExpectCode(t, r, 1)
		if !strings.Contains(r.Stdout, "neither operator") {
			t.Fatalf("validate does not report the wrong signer:\n%s", r.Stdout)
		}
	})
	t.Run("expired", func(t *testing.T) {
		userPath := filepath.Join(dataDir(home), "acme", "accounts", "orders", "users", "app.jwt")
		good, _ := os.ReadFile(userPath)
		defer os.WriteFile(userPath, good, 0o600)
		uc, _ := jwt.DecodeUserClaims(string(good))
		uc.Expires = 1000
		seed, _ := os.ReadFile(filepath.Join(keysDir(home), "keys", uc.Issuer[:1], uc.Issuer[1:3], uc.Issuer+".nk"))
		kp, _ := nkeys.FromSeed(seed)
		tok, _ := uc.Encode(kp)
		os.WriteFile(userPath, []byte(tok), 0o600)
		r := clitest.Run(t, "auth", "validate", "-a", "orders", "--json")
		clitest.ExpectCode(t, r, 1)
		if !strings.Contains(r.Stdout, "expired") || !strings.Contains(r.Stdout, userPath) {
			t.Fatalf("validate does not report the expired user:\n%s", r.Stdout)
		}
		if r := run(t, "auth", "expirations", "--json"); !strings.Contains(r.Stdout, `"status": "expired"`) {
			t.Fatalf("expirations:\n%s", r.Stdout)
		}
	})
	t.Run("missing operator key", func(t *testing.T) {
		r := run(t, "auth", "describe", "operator", "--field", "sub")
		opPub := strings.Trim(strings.TrimSpace(r.Stdout), `"`)
		keyPath := filepath.Join(keysDir(home), "keys", "O", opPub[1:3], opPub+".nk")
		seed, err := os.ReadFile(keyPath)
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(keyPath)
		defer os.WriteFile(keyPath, seed, 0o600)
		fails(t, home, 1, []string{"no private key of operator", keyPath}, "auth", "add", "account", "newacc")
		fails(t, home, 1, []string{"private key", keyPath}, "auth", "edit", "operator", "--tag", "x")
	})
	t.Run("unreadable store", func(t *testing.T) {
		cfg := filepath.Join(home, ".config", "nats", "nsc", "nsc.json")
		good, _ := os.ReadFile(cfg)
		defer os.WriteFile(cfg, good, 0o600)
		os.WriteFile(cfg, []byte("{not json"), 0o600)
		fails(t, home, 1, []string{cfg}, "auth", "list", "accounts")
		os.WriteFile(cfg, good, 0o600)
		nscFile := filepath.Join(dataDir(home), "acme", ".nsc")
		goodNSC, _ := os.ReadFile(nscFile)
		defer os.WriteFile(nscFile, goodNSC, 0o600)
		os.WriteFile(nscFile, []byte("]"), 0o600)
		fails(t, home, 1, []string{nscFile}, "auth", "describe", "operator", "acme")
	})
	// After all that the store still validates, with nsc too.
	run(t, "auth", "validate", "-A")
	if out := authtest.RunNSC(t, false, "validate", "-A"); strings.Contains(out, "[ERR") {
		t.Fatalf("nsc validate:\n%s", out)
	}
}

func mustSeed(kp nkeys.KeyPair) []byte {
	s, _ := kp.Seed()
	return s
}
