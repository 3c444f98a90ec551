package authcmd_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"

	"github.com/sluicehq/sluice/internal/cli/auth/authtest"
	"github.com/sluicehq/sluice/internal/cli/clitest"
)

func accountClaims(t *testing.T, name string) *jwt.AccountClaims {
	t.Helper()
	r := run(t, "auth", "describe", "account", name, "--raw")
	ac, err := jwt.DecodeAccountClaims(strings.TrimSpace(r.Stdout))
	if err != nil {
		t.Fatal(err)
	}
	return ac
}

// TestEditDeleteRevoke walks the edit, delete and revocation verbs and
// checks the JWTs they leave, and that nsc reads them the same way.
func TestEditDeleteRevoke(t *testing.T) {
	home := authtest.Isolate(t)
	run(t, "auth", "init", "--name", "acme")
	run(t, "auth", "add", "account", "A")
	run(t, "auth", "add", "account", "B")
	run(t, "auth", "add", "user", "u", "-a", "A", "--allow-pub", "a.>,b.>")

	run(t, "auth", "edit", "operator", "--service-url", "nats://n2:4222", "--account-jwt-server-url", "nats://n1:4222",
		"--sk", "generate", "--tag", "prod")
	r := run(t, "auth", "describe", "operator", "--json")
	var oc jwt.OperatorClaims
	json.Unmarshal([]byte(r.Stdout), &oc)
	if len(oc.SigningKeys) != 1 || oc.AccountServerURL != "nats://n1:4222" || len(oc.OperatorServiceURLs) != 2 {
		t.Fatalf("edit operator: %s", r.Stdout)
	}
	run(t, "auth", "edit", "operator", "--require-signing-keys")
	// With signing keys required, accounts are signed by the signing key.
	run(t, "auth", "edit", "account", "A", "--conns", "10", "--leaf-conns", "2", "--data", "1MiB", "--exports", "5",
		"--imports", "6", "--payload", "1K", "--subscriptions", "100", "--wildcard-exports=false", "--disallow-bearer",
		"--description", "team A", "--info-url", "https://example.com", "--tag", "t1")
	ac := accountClaims(t, "A")
	l := ac.Limits
	if ac.Issuer != oc.SigningKeys[0] || l.Conn != 10 || l.LeafNodeConn != 2 || l.Data != 1<<20 || l.Exports != 5 ||
		l.Imports != 6 || l.Payload != 1000 || l.Subs != 100 || l.WildcardExports || !l.DisallowBearer || ac.Description != "team A" {
		t.Fatalf("edit account: %+v issuer %s", l, ac.Issuer)
	}
	run(t, "auth", "edit", "operator", "--require-signing-keys=false")
	run(t, "auth", "edit", "account", "A", "--js-tier", "1", "--js-mem-storage", "1G", "--js-disk-storage", "2G",
		"--js-streams", "3", "--js-consumer", "4", "--js-max-ack-pending", "5", "--js-max-mem-stream", "6", "--js-max-disk-stream", "7",
		"--js-max-bytes-required")
	run(t, "auth", "edit", "account", "A", "--js-enable", "3")
	ac = accountClaims(t, "A")
	r1, r3 := ac.Limits.JetStreamTieredLimits["R1"], ac.Limits.JetStreamTieredLimits["R3"]
	if r1.MemoryStorage != 1e9 || r1.DiskStorage != 2e9 || r1.Streams != 3 || r1.Consumer != 4 || r1.MaxAckPending != 5 ||
		r1.MemoryMaxStreamBytes != 6 || r1.DiskMaxStreamBytes != 7 || !r1.MaxBytesRequired || r3.DiskStorage != -1 {
		t.Fatalf("JetStream tiers: %+v", ac.Limits.JetStreamTieredLimits)
	}
	if r := clitest.Run(t, "auth", "edit", "account", "A", "--js-tier", "0", "--js-streams", "1"); r.Code != 2 {
		t.Fatalf("global limits beside tiers: exit %d", r.Code)
	}
	run(t, "auth", "edit", "account", "A", "--rm-js-tier", "3")
	run(t, "auth", "edit", "account", "B", "--js-disable")

	// Users: permissions, limits and tags; the creds file follows.
	run(t, "auth", "edit", "user", "u", "-a", "A", "--rm", "b.>", "--deny-sub", "secret.>", "--subs", "7",
		"--payload", "512", "--data", "-1", "--conn-type", "standard,websocket", "--rm-conn-type", "websocket",
		"--source-network", "10.0.0.0/8", "--time", "08:00:00-17:00:00", "--locale", "Europe/Berlin", "--tag", "x",
		"--allow-pub-response=3", "--response-ttl", "2s")
	r = run(t, "auth", "describe", "user", "u", "-a", "A", "--json")
	var uc jwt.UserClaims
	json.Unmarshal([]byte(r.Stdout), &uc)
	if len(uc.Pub.Allow) != 1 || uc.Sub.Deny[0] != "secret.>" || uc.Subs != 7 || uc.Limits.Payload != 512 ||
		len(uc.AllowedConnectionTypes) != 1 || uc.Src[0] != "10.0.0.0/8" || uc.Times[0].Start != "08:00:00" ||
		uc.Locale != "Europe/Berlin" || uc.Resp.MaxMsgs != 3 || uc.Resp.Expires.Seconds() != 2 {
		t.Fatalf("edit user: %s", r.Stdout)
	}
	creds, _ := os.ReadFile(filepath.Join(keysDir(home), "creds", "acme", "A", "u.creds"))
	if tok, _ := jwt.ParseDecoratedJWT(creds); !strings.Contains(r.Stdout, `"jti": "`+mustJTI(t, tok)+`"`) {
		t.Fatal("the creds file was not rewritten with the edited JWT")
	}

	// Signing keys: add plain, scope it, unscope it.
	r = run(t, "auth", "add", "signing-key", "-a", "A", "--json")
	sk := jsonField(t, r.Stdout, "public_key")
	run(t, "auth", "edit", "signing-key", "-a", "A", "--sk", sk, "--role", "r", "--allow-sub", "{{account-name()}}.{{subject()}}")
	if scope, ok := accountClaims(t, "A").SigningKeys.GetScope(sk); !ok || scope.(*jwt.UserScope).Role != "r" {
		t.Fatal("signing key not scoped")
	}
	run(t, "auth", "edit", "signing-key", "-a", "A", "--sk", sk, "--unscope")
	if scope, _ := accountClaims(t, "A").SigningKeys.GetScope(sk); scope != nil {
		t.Fatal("signing key still scoped")
	}

	// Exports, imports, mappings: add, edit, delete.
	run(t, "auth", "add", "export", "-a", "A", "--subject", "svc", "--service")
	run(t, "auth", "edit", "export", "-a", "A", "--subject", "svc", "--response-type", "Chunked", "--response-threshold", "3s",
		"--latency", "lat", "--sampling", "header", "--description", "d", "--advertise")
	ex := accountClaims(t, "A").Exports[0]
	if ex.ResponseType != jwt.ResponseTypeChunked || ex.Latency.Sampling != jwt.Headers || ex.Description != "d" || !ex.Advertise {
		t.Fatalf("edit export: %+v", ex)
	}
	run(t, "auth", "add", "import", "-a", "B", "--src-account", "A", "--remote-subject", "svc")
	run(t, "auth", "edit", "import", "-a", "B", "--subject", "svc", "--local-subject", "a.svc", "--share")
	if im := accountClaims(t, "B").Imports[0]; im.LocalSubject != "a.svc" || !im.Share || im.Type != jwt.Service {
		t.Fatalf("edit import: %+v", im)
	}
	run(t, "auth", "add", "mapping", "-a", "A", "--from", "m", "--to", "m1", "--weight", "40")
	run(t, "auth", "add", "mapping", "-a", "A", "--from", "m", "--to", "m2", "--weight", "60")
	if m := accountClaims(t, "A").Mappings["m"]; len(m) != 2 {
		t.Fatalf("mappings: %+v", m)
	}
	out := authtest.RunNSC(t, false, "validate", "-A")
	if strings.Contains(out, "[ERR") {
		t.Fatalf("nsc validate:\n%s", out)
	}
	run(t, "auth", "delete", "mapping", "-a", "A", "--from", "m", "--to", "m1", "--force")
	run(t, "auth", "delete", "import", "-a", "B", "--subject", "a.svc", "--force")
	run(t, "auth", "delete", "export", "-a", "A", "--subject", "svc", "--force")
	ac = accountClaims(t, "A")
	if len(ac.Exports) != 0 || len(ac.Mappings["m"]) != 1 || len(accountClaims(t, "B").Imports) != 0 {
		t.Fatalf("deletes left: exports %d mappings %v", len(ac.Exports), ac.Mappings)
	}

	// Revocations of users and activations.
	run(t, "auth", "revocations", "add-user", "-a", "A", "-n", "u")
	r = run(t, "auth", "revocations", "list-users", "-a", "A", "--json")
	if !strings.Contains(r.Stdout, `"name": "u"`) {
		t.Fatalf("list-users: %s", r.Stdout)
	}
	run(t, "auth", "revocations", "delete-user", "-a", "A", "-n", "u")
	run(t, "auth", "add", "export", "-a", "A", "--subject", "p.x", "--private")
	run(t, "auth", "revocations", "add-activation", "-a", "A", "--subject", "p.x", "--target-account", "B")
	r = run(t, "auth", "revocations", "list-activations", "-a", "A", "--subject", "p.x", "--json")
	if !strings.Contains(r.Stdout, `"name": "B"`) {
		t.Fatalf("list-activations: %s", r.Stdout)
	}
	run(t, "auth", "revocations", "delete-activation", "-a", "A", "--subject", "p.x", "--target-account", "B")

	// Deleting a user and an account, with their keys and creds.
	run(t, "auth", "delete", "user", "u", "-a", "A", "--revoke", "--rm-nkey", "--rm-creds", "--force")
	if _, err := os.Stat(filepath.Join(keysDir(home), "creds", "acme", "A", "u.creds")); err == nil {
		t.Fatal("creds file left")
	}
	if len(accountClaims(t, "A").Revocations) != 1 {
		t.Fatal("--revoke did not revoke")
	}
	run(t, "auth", "delete", "account", "B", "--force", "--rm-nkey")
	if r := run(t, "auth", "list", "accounts", "--json"); strings.Contains(r.Stdout, `"B"`) {
		t.Fatalf("account B still listed: %s", r.Stdout)
	}
	if r := clitest.Run(t, "auth", "delete", "account", "SYS", "--force"); r.Code != 2 {
		t.Fatalf("deleting the system account: exit %d", r.Code)
	}
	out = authtest.RunNSC(t, false, "validate", "-A")
	if strings.Contains(out, "[ERR") {
		t.Fatalf("nsc validate:\n%s", out)
	}

	// Auth callout configuration.
	run(t, "auth", "add", "account", "AUTH")
	run(t, "auth", "add", "user", "cb", "-a", "AUTH")
	run(t, "auth", "edit", "authorization", "-a", "AUTH", "--auth-user", "cb", "--allowed-account", "A", "--curve", "generate")
	ac = accountClaims(t, "AUTH")
	if len(ac.Authorization.AuthUsers) != 1 || ac.Authorization.AllowedAccounts[0] != accountClaims(t, "A").Subject ||
		!strings.HasPrefix(ac.Authorization.XKey, "X") {
		t.Fatalf("authorization: %+v", ac.Authorization)
	}
	if out := authtest.RunNSC(t, false, "describe", "account", "AUTH"); !strings.Contains(out, ac.Authorization.XKey) {
		t.Fatalf("nsc does not show the callout:\n%s", out)
	}
	run(t, "auth", "edit", "authorization", "-a", "AUTH", "--disable")
	if ac = accountClaims(t, "AUTH"); ac.Authorization.XKey != "" || len(ac.Authorization.AuthUsers) != 0 {
		t.Fatalf("--disable left %+v", ac.Authorization)
	}

	// Strict mode: users need account signing keys.
	run(t, "auth", "edit", "operator", "--require-signing-keys")
	run(t, "auth", "add", "account", "C")
	if r := clitest.Run(t, "auth", "add", "user", "s1", "-a", "C"); r.Code != 1 || !strings.Contains(r.Stderr, "requires signing keys") {
		t.Fatalf("user in strict mode without an account signing key: exit %d %s", r.Code, r.Stderr)
	}
	run(t, "auth", "add", "signing-key", "-a", "C")
	run(t, "auth", "add", "user", "s1", "-a", "C")
	if r := run(t, "auth", "describe", "user", "s1", "-a", "C", "--field", "nats.issuer_account"); !strings.Contains(r.Stdout, "\"A") {
		t.Fatalf("strict-mode user not signed by a signing key: %s", r.Stdout)
	}
}

func mustJTI(t *testing.T, tok string) string {
	t.Helper()
	uc, err := jwt.DecodeUserClaims(tok)
	if err != nil {
		t.Fatal(err)
	}
	return uc.ID
}

// TestReissueMigrateMisc: reissue operator, keys migrate, describe jwt,
// nkeys, list keys --not-referenced, env and select.
func TestReissueMigrateMisc(t *testing.T) {
	home := authtest.Isolate(t)
	run(t, "auth", "init", "--name", "acme")
	run(t, "auth", "add", "operator", "other")
	if r := run(t, "auth", "env", "--json"); !strings.Contains(r.Stdout, `"operator": "other"`) {
		t.Fatalf("add operator did not select it: %s", r.Stdout)
	}
	run(t, "auth", "select", "operator", "acme")
	run(t, "auth", "select", "account", "SYS")
	if r := run(t, "auth", "env", "--json"); !strings.Contains(r.Stdout, `"account": "SYS"`) {
		t.Fatalf("select account: %s", r.Stdout)
	}
	old := strings.Trim(strings.TrimSpace(run(t, "auth", "describe", "operator", "--field", "sub").Stdout), `"`)
	run(t, "auth", "reissue", "operator")
	oc := strings.TrimSpace(run(t, "auth", "describe", "operator", "--raw").Stdout)
	c, _ := jwt.DecodeOperatorClaims(oc)
	if c.Subject == old || accountClaims(t, "acme").Issuer != c.Subject {
		t.Fatal("reissue did not re-sign the accounts with the new key")
	}
	run(t, "auth", "reissue", "operator", "--convert-to-signing-key")
	run(t, "auth", "validate", "-A")

	// An operator imported from its JWT alone: readable, but nothing can
	// be signed without its key.
	opJWT := filepath.Join(t.TempDir(), "op.jwt")
	os.WriteFile(opJWT, []byte(oc), 0o600)
	other := t.TempDir()
	run(t, "auth", "-H", other, "add", "operator", "--url", opJWT, "--name", "imported")
	r := clitest.Run(t, "auth", "-H", other, "add", "account", "x", "--operator", "imported")
	if r.Code != 1 || !strings.Contains(r.Stderr, "no private key of operator") {
		t.Fatalf("add account to an operator without its key: %d %s", r.Code, r.Stderr)
	}

	// describe jwt of a creds file, from a file and stdin.
	credsPath := filepath.Join(keysDir(home), "creds", "acme", "acme", "acme.creds")
	if r := run(t, "auth", "describe", "jwt", credsPath, "--field", "name"); strings.TrimSpace(r.Stdout) != `"acme"` {
		t.Fatalf("describe jwt: %s", r.Stdout)
	}
	b, _ := os.ReadFile(credsPath)
	if r := clitest.RunWith(t, clitest.Opts{Stdin: string(b)}, "auth", "describe", "jwt", "-"); r.Code != 0 || !strings.Contains(r.Stdout, "User acme") {
		t.Fatalf("describe jwt -: %d %s %s", r.Code, r.Stdout, r.Stderr)
	}
	// nkeys: printed, or stored and only the public key printed.
	r = run(t, "auth", "generate", "nkey", "--user")
	if lines := strings.Fields(r.Stdout); len(lines) != 2 || !strings.HasPrefix(lines[0], "SU") || !strings.HasPrefix(lines[1], "U") {
		t.Fatalf("generate nkey: %q", r.Stdout)
	}
	r = run(t, "auth", "generate", "nkey", "--account", "--store")
	if seedRE.MatchString(r.Stdout) {
		t.Fatal("generate nkey --store printed the seed")
	}
	if lr := run(t, "auth", "list", "keys", "--not-referenced", "--json"); !strings.Contains(lr.Stdout, strings.TrimSpace(r.Stdout)) {
		t.Fatalf("--not-referenced misses the stored key:\n%s", lr.Stdout)
	}

	// An old-layout keystore migrates.
	oldKeys := filepath.Join(t.TempDir(), "nkeys")
	seed, _ := os.ReadFile(filepath.Join(keysDir(home), "keys", "O", c.Subject[1:3], c.Subject+".nk"))
	os.MkdirAll(filepath.Join(oldKeys, "acme", "accounts", "acme", "users"), 0o700)
	os.WriteFile(filepath.Join(oldKeys, "acme", "acme.nk"), seed, 0o600)
	os.WriteFile(filepath.Join(oldKeys, "acme", "accounts", "acme", "users", "acme.creds"), b, 0o600)
	t.Setenv("NKEYS_PATH", oldKeys)
	if r := run(t, "auth", "env", "--json"); !strings.Contains(r.Stdout, `"keys_need_migration": true`) {
		t.Fatalf("env does not see the old layout: %s", r.Stdout)
	}
	run(t, "auth", "keys", "migrate")
	for _, p := range []string{filepath.Join(oldKeys, "keys", "O", c.Subject[1:3], c.Subject+".nk"),
		filepath.Join(oldKeys, "creds", "acme", "acme", "acme.creds")} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("after migrate: %v", err)
		}
	}
	if out := authtest.RunNSC(t, false, "env"); strings.Contains(out, "needs migration") {
		t.Fatalf("nsc still wants a migration:\n%s", out)
	}
}
