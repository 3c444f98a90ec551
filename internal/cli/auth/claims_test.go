package authcmd_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/cli/auth/authtest"
)

// TestExportsImportsScopesLimits: exports (public stream, service,
// private with an activation), imports, a mapping, a scoped signing key
// with templates and account limits, checked on nats-server v2.15.2.
func TestExportsImportsScopesLimits(t *testing.T) {
	home := authtest.Isolate(t)
	run(t, "auth", "init", "--name", "acme")
	run(t, "auth", "add", "account", "orders")
	run(t, "auth", "add", "account", "billing")
	run(t, "auth", "add", "export", "-a", "orders", "--subject", "orders.events.>")
	run(t, "auth", "add", "export", "-a", "orders", "--subject", "orders.api", "--service", "--response-type", "Stream",
		"--latency", "orders.latency", "--sampling", "50")
	run(t, "auth", "add", "export", "-a", "orders", "--subject", "orders.private.*", "--private", "--account-token-position", "3")
	run(t, "auth", "add", "import", "-a", "billing", "--src-account", "orders", "--remote-subject", "orders.events.>",
		"--local-subject", "from.orders.>")
	run(t, "auth", "add", "import", "-a", "billing", "--src-account", "orders", "--remote-subject", "orders.api", "--service")
	act := filepath.Join(t.TempDir(), "act.jwt")
	run(t, "auth", "generate", "activation", "-a", "orders", "--subject", "orders.private.*", "--target-account", "billing",
		"--output-file", act)
	run(t, "auth", "add", "import", "-a", "billing", "--token", act)
	run(t, "auth", "add", "mapping", "-a", "orders", "--from", "orders.old", "--to", "orders.events.old")

	// A scoped signing key whose role template uses the user's name.
	r := run(t, "auth", "add", "signing-key", "-a", "orders", "--role", "worker", "--json",
		"--allow-pub", "orders.{{name()}}.>,orders.events.>,orders.old", "--allow-sub", "_INBOX.>,orders.{{tag(team)}}.>")
	sk := jsonField(t, r.Stdout, "public_key")
	if r := clitestRun(t, "auth", "add", "user", "bad", "-a", "orders", "-K", sk, "--allow-pub", "x"); r.Code != 2 {
		t.Fatalf("a scoped key's user with its own permissions: exit %d, %s", r.Code, r.Stderr)
	}
	run(t, "auth", "add", "user", "w1", "-a", "orders", "-K", sk, "--tag", "team:blue")
	if r := clitestRun(t, "auth", "edit", "user", "w1", "-a", "orders", "--allow-pub", "x"); r.Code != 2 || !strings.Contains(r.Stderr, "scoped") {
		t.Fatalf("editing a scoped user's permissions: exit %d, %s", r.Code, r.Stderr)
	}
	run(t, "auth", "edit", "user", "w1", "-a", "orders", "--tag", "x")
	run(t, "auth", "add", "user", "svc", "-a", "orders")
	run(t, "auth", "add", "user", "b", "-a", "billing")
	run(t, "auth", "add", "user", "lim", "-a", "billing", "--subs", "1", "--allow-sub", ">")
	run(t, "auth", "edit", "account", "billing", "--conns", "2", "--js-enable", "0", "--js-disk-storage", "1GB")
	if r := run(t, "auth", "describe", "account", "billing", "--field", "nats.limits.disk_storage"); strings.TrimSpace(r.Stdout) != "1000000000" {
		t.Fatalf("disk_storage %q", r.Stdout)
	}

	conf := filepath.Join(t.TempDir(), "mem.conf")
	run(t, "auth", "generate", "config", "--mem-resolver", "--config-file", conf)
	url := authtest.RefServer(t, conf)
	creds := func(acc, user string) string {
		return filepath.Join(keysDir(home), "creds", "acme", acc, user+".creds")
	}
	w1, w1errs := connect(t, url, creds("orders", "w1"))
	svc, _ := connect(t, url, creds("orders", "svc"))
	b, _ := connect(t, url, creds("billing", "b"))

	// Stream export/import with the local subject, fed through the mapping.
	sub, _ := b.SubscribeSync("from.orders.>")
	b.Flush()
	w1.Publish("orders.events.x", []byte("e"))
	w1.Publish("orders.old", []byte("m"))
	for _, want := range []string{"from.orders.x", "from.orders.old"} {
		if m, err := sub.NextMsg(5 * time.Second); err != nil || m.Subject != want {
			t.Fatalf("billing got %v, %v; want %s", m, err, want)
		}
	}
	// Service export/import.
	svc.Subscribe("orders.api", func(m *nats.Msg) { m.Respond([]byte("pong")) })
	svc.Subscribe("orders.private.>", func(m *nats.Msg) { m.Respond([]byte("secret")) })
	svc.Flush()
	if m, err := b.Request("orders.api", nil, 5*time.Second); err != nil || string(m.Data) != "pong" {
		t.Fatalf("service import: %v %v", m, err)
	}
	// The scoped role's template: orders.w1.> allowed, orders.w2.> not.
	w1.Publish("orders.w1.job", nil)
	w1.Publish("orders.w2.job", nil)
	w1.Flush()
	expectErr(t, w1errs, `permissions violation for publish to "orders.w2.job"`)
	if _, err := w1.SubscribeSync("orders.blue.x"); err != nil {
		t.Fatal(err)
	}
	w1.Flush()
	w1.SubscribeSync("orders.red.x")
	expectErr(t, w1errs, `permissions violation for subscription to "orders.red.x"`)
	// The user's subscription limit.
	lim, limErrs := connect(t, url, creds("billing", "lim"))
	lim.SubscribeSync("a")
	lim.SubscribeSync("b")
	expectErr(t, limErrs, "maximum subscriptions exceeded")
	lim.Close()
	// The account connection limit. lim's close reaches the server after
	// Close returns: until then the account still counts it.
	for deadline := time.Now().Add(5 * time.Second); ; {
		_, err := nats.Connect(url, nats.UserCredentials(creds("billing", "b")))
		if err == nil {
			break
		}
		if !strings.Contains(err.Error(), "maximum account active connections") || time.Now().After(deadline) {
			t.Fatalf("second billing connection: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if nc, err := nats.Connect(url, nats.UserCredentials(creds("billing", "b"))); err == nil {
		nc.Close()
		t.Fatal("third billing connection accepted; --conns 2")
	}

	// nsc agrees with all of it.
	out := authtest.RunNSC(t, false, "validate", "-A")
	if strings.Contains(out, "[ERR") {
		t.Fatalf("nsc validate:\n%s", out)
	}
	if out := authtest.RunNSC(t, false, "describe", "account", "billing"); !strings.Contains(out, "orders.private.") {
		t.Fatalf("nsc does not see the activation import:\n%s", out)
	}
	os.Remove(act)
}
