package authcmd_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/cli/auth/authtest"
	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/testutil"
)

// TestPushPullPrune drives the full resolver of nats-server v2.15.2 and of
// sluice: an account added after the server started is pushed and its user
// connects; pull fetches the accounts back; a revocation pushed cuts the
// user off; an account deleted from the store is pruned from the server.
func TestPushPullPrune(t *testing.T) {
	for _, srv := range authtest.Servers {
		t.Run(srv.Name, func(t *testing.T) { testPushPullPrune(t, srv.Start) })
	}
}

func testPushPullPrune(t *testing.T, start func(testing.TB, string) string) {
	home := authtest.Isolate(t)
	run(t, "auth", "init", "--name", "acme")
	work := t.TempDir()
	conf := filepath.Join(work, "server.conf")
	run(t, "auth", "generate", "config", "--nats-resolver", "--allow-delete", "--config-file", conf, "--dir", filepath.Join(work, "jwt"))
	url := start(t, conf)

	run(t, "auth", "add", "account", "late")
	run(t, "auth", "add", "user", "u", "-a", "late")
	creds := filepath.Join(keysDir(home), "creds", "acme", "late", "u.creds")
	if nc, err := nats.Connect(url, nats.UserCredentials(creds)); err == nil {
		nc.Close()
		t.Fatal("a user of an account the server does not know connected")
	}
	r := run(t, "auth", "push", "-a", "late", "--server", url, "--json")
	var pushed []map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &pushed); err != nil || len(pushed) != 1 || pushed[0]["ok"] != true {
		t.Fatalf("push: %v\n%s%s", err, r.Stdout, r.Stderr)
	}
	nc, err := nats.Connect(url, nats.UserCredentials(creds))
	if err != nil {
		t.Fatalf("connect after push: %v", err)
	}
	nc.Close()

	// Pull every account into a fresh copy of the account's JWT.
	// JWTs are issued to the second: the edit must be issued after the
	// push for the store's copy to be the newer one.
	time.Sleep(time.Until(time.Unix(time.Now().Unix()+1, 0)))
	run(t, "auth", "edit", "account", "late", "--conns", "5")
	r = run(t, "auth", "pull", "-A", "--server", url, "--json")
	if !strings.Contains(r.Stdout, `"kept the store's newer JWT"`) || strings.Count(r.Stdout, `"account"`) != 3 {
		t.Fatalf("pull -A:\n%s", r.Stdout)
	}
	run(t, "auth", "pull", "-a", "late", "--server", url, "--overwrite-newer")
	if r := run(t, "auth", "describe", "account", "late", "--field", "nats.limits.conn"); strings.TrimSpace(r.Stdout) != "-1" {
		t.Fatalf("after pull --overwrite-newer, conns = %s, want the server's -1", r.Stdout)
	}

	// A revoked user is refused once the account is pushed.
	run(t, "auth", "revocations", "add-user", "-a", "late", "-n", "u")
	run(t, "auth", "push", "-a", "late", "--server", url)
	testutil.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		nc, err := nats.Connect(url, nats.UserCredentials(creds))
		if err == nil {
			nc.Close()
			return errString("revoked user still connects")
		}
		return nil
	})

	// nsc pushes to the same resolver from the same store, and sluice
	// pulls what nsc pushed.
	run(t, "auth", "add", "account", "bynsc")
	if out := authtest.RunNSC(t, false, "push", "-a", "bynsc", "-u", url); !strings.Contains(out, "jwt updated") {
		t.Fatalf("nsc push:\n%s", out)
	}
	if r := run(t, "auth", "pull", "-a", "bynsc", "--server", url, "--json"); !strings.Contains(r.Stdout, `"stored"`) {
		t.Fatalf("pull of nsc's push: %s", r.Stdout)
	}
	// With the account server URL set, neither tool needs --server.
	run(t, "auth", "edit", "operator", "--account-jwt-server-url", url)
	authtest.RunNSC(t, false, "pull", "-A")
	run(t, "auth", "pull", "-A")

	// Delete from the store, prune from the server.
	run(t, "auth", "delete", "account", "late", "--force")
	r = run(t, "auth", "push", "--prune", "--server", url, "--json")
	if !strings.Contains(r.Stdout, "deleted 1 accounts") {
		t.Fatalf("push --prune:\n%s%s", r.Stdout, r.Stderr)
	}
	r = run(t, "auth", "pull", "-A", "--server", url, "--json")
	if strings.Contains(r.Stdout, `"late"`) {
		t.Fatalf("the pruned account is still on the server:\n%s", r.Stdout)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// TestPushNoServer: a clear error and exit 3 when nothing listens.
func TestPushNoServer(t *testing.T) {
	authtest.Isolate(t)
	run(t, "auth", "init", "--name", "acme")
	r := clitest.Run(t, "auth", "push", "-A", "--server", "nats://127.0.0.1:1")
	clitest.ExpectCode(t, r, 3)
	if !strings.Contains(r.Stderr, "nats://127.0.0.1:1") {
		t.Fatalf("error does not name the server: %s", r.Stderr)
	}
}
