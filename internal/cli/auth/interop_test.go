package authcmd_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"

	"github.com/sluicehq/sluice/internal/cli/auth/authtest"
)

// TestNSCStoreWorksInSluice: a store nsc v2.15.0 made is read and
// extended by sluice, and nsc still validates it afterwards.
func TestNSCStoreWorksInSluice(t *testing.T) {
	home := authtest.Isolate(t)
	authtest.RunNSC(t, false, "init", "--name", "corp")
	authtest.RunNSC(t, false, "add", "account", "B")
	authtest.RunNSC(t, false, "add", "user", "-a", "B", "u1", "--allow-pub", "b.>")

	r := run(t, "auth", "list", "accounts", "--json")
	var accs []map[string]any
	json.Unmarshal([]byte(r.Stdout), &accs)
	if len(accs) != 3 {
		t.Fatalf("accounts of nsc's store: %s", r.Stdout)
	}
	if r := run(t, "auth", "env", "--json"); !strings.Contains(r.Stdout, `"operator": "corp"`) || !strings.Contains(r.Stdout, `"account": "B"`) {
		t.Fatalf("sluice does not see nsc's current context:\n%s", r.Stdout)
	}
	r = run(t, "auth", "describe", "user", "u1", "-a", "B", "--field", "nats.pub.allow")
	if strings.TrimSpace(r.Stdout) != "[\n  \"b.>\"\n]" {
		t.Fatalf("--field nats.pub.allow: %q", r.Stdout)
	}
	run(t, "auth", "add", "user", "u2", "-a", "B", "--allow-sub", "b.>")
	run(t, "auth", "add", "account", "C")
	run(t, "auth", "add", "user", "c1", "-a", "C")
	creds := filepath.Join(t.TempDir(), "u1.creds")
	run(t, "auth", "generate", "creds", "-a", "B", "-n", "u1", "--output-file", creds)

	out := authtest.RunNSC(t, false, "validate", "-A")
	if strings.Contains(out, "[ERR") || strings.Contains(out, "error") {
		t.Fatalf("nsc validate after sluice changes:\n%s", out)
	}
	out = authtest.RunNSC(t, false, "describe", "user", "-a", "B", "-n", "u2", "--json")
	var uc jwt.UserClaims
	if err := json.Unmarshal([]byte(out), &uc); err != nil || len(uc.Sub.Allow) != 1 || uc.Sub.Allow[0] != "b.>" {
		t.Fatalf("nsc describe user u2: %v\n%s", err, out)
	}
	authtest.RunNSC(t, false, "generate", "creds", "-a", "C", "-n", "c1")
	out = authtest.RunNSC(t, false, "list", "keys", "-A")
	if strings.Count(out, "*") < 8 {
		t.Fatalf("nsc does not find the seeds sluice stored:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(keysDir(home), "creds", "corp", "B", "u2.creds")); err != nil {
		t.Fatal(err)
	}
}

// TestSluiceStoreWorksInNSC: a store sluice made is read, validated and
// extended by nsc v2.15.0, and sluice reads nsc's additions.
func TestSluiceStoreWorksInNSC(t *testing.T) {
	authtest.Isolate(t)
	run(t, "auth", "add", "operator", "op1", "--sys", "--generate-signing-key", "--service-url", "nats://127.0.0.1:4222")
	run(t, "auth", "add", "account", "A", "--expiry", "1y")
	run(t, "auth", "add", "user", "a1", "--allow-pubsub", "a.>", "--bearer", "--tag", "team:a",
		"--source-network", "127.0.0.0/8", "--time", "00:00:00-23:59:59", "--locale", "UTC", "--conn-type", "STANDARD")

	out := authtest.RunNSC(t, false, "describe", "operator", "--json")
	var oc jwt.OperatorClaims
	if err := json.Unmarshal([]byte(out), &oc); err != nil || oc.Name != "op1" || len(oc.SigningKeys) != 1 || oc.SystemAccount == "" {
		t.Fatalf("nsc describe operator: %v\n%s", err, out)
	}
	out = authtest.RunNSC(t, false, "validate", "-A")
	if strings.Contains(out, "[ERR") {
		t.Fatalf("nsc validate:\n%s", out)
	}
	out = authtest.RunNSC(t, false, "describe", "user", "-a", "A", "-n", "a1", "--json")
	var uc jwt.UserClaims
	if err := json.Unmarshal([]byte(out), &uc); err != nil || !uc.BearerToken || len(uc.Times) != 1 || uc.Tags[0] != "team:a" {
		t.Fatalf("nsc describe user a1: %v\n%s", err, out)
	}
	authtest.RunNSC(t, false, "add", "user", "-a", "A", "a2")
	authtest.RunNSC(t, false, "add", "account", "N")
	authtest.RunNSC(t, false, "generate", "config", "--mem-resolver")
	r := run(t, "auth", "list", "users", "-a", "A", "--json")
	if !strings.Contains(r.Stdout, `"a2"`) {
		t.Fatalf("sluice does not see nsc's user:\n%s", r.Stdout)
	}
	run(t, "auth", "add", "user", "n1", "-a", "N")
	run(t, "auth", "generate", "creds", "-a", "N", "-n", "n1")
}
