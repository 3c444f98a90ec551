package authcmd_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/cli/auth/authtest"
	"github.com/sluicehq/sluice/internal/cli/clitest"
)

// run runs sluice and fails the test unless it exits 0.
func run(t *testing.T, args ...string) clitest.Result {
	t.Helper()
	r := clitest.Run(t, args...)
	clitest.ExpectCode(t, r, 0)
	return r
}

func keysDir(home string) string {
	return filepath.Join(home, ".local", "share", "nats", "nsc", "keys")
}
func dataDir(home string) string {
	return filepath.Join(home, ".local", "share", "nats", "nsc", "stores")
}

// connect dials url with creds and records asynchronous errors.
func connect(t *testing.T, url, creds string) (*nats.Conn, chan error) {
	t.Helper()
	errs := make(chan error, 16)
	nc, err := nats.Connect(url, nats.UserCredentials(creds), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		errs <- err
	}))
	if err != nil {
		t.Fatalf("connect with %s: %v", creds, err)
	}
	t.Cleanup(nc.Close)
	return nc, errs
}

func expectErr(t *testing.T, errs chan error, want string) {
	t.Helper()
	select {
	case err := <-errs:
		if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(want)) {
			t.Fatalf("error %q, want one containing %q", err, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no error containing %q", want)
	}
}

// TestServerConfigRunsNatsServer makes an operator, accounts and users
// with sluice, starts nats-server v2.15.2 from `generate config` (both
// resolvers) and checks with nats.go that the creds connect and the
// permissions hold as written.
func TestServerConfigRunsNatsServer(t *testing.T) {
	home := authtest.Isolate(t)
	run(t, "auth", "init", "--name", "acme")
	run(t, "auth", "add", "account", "orders")
	run(t, "auth", "add", "user", "app", "-a", "orders", "--allow-pub", "orders.>", "--deny-pub", "orders.secret",
		"--allow-sub", "_INBOX.>,replies")
	run(t, "auth", "add", "user", "reader", "-a", "orders", "--allow-sub", "orders.>", "--deny-sub", "orders.private")
	work := t.TempDir()
	creds := filepath.Join(work, "app.creds")
	run(t, "auth", "generate", "creds", "-a", "orders", "-n", "app", "--output-file", creds)
	if st, err := os.Stat(creds); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("creds file: %v, mode %v; want 0600", err, st.Mode())
	}
	readerCreds := filepath.Join(keysDir(home), "creds", "acme", "orders", "reader.creds")

	for _, srv := range authtest.Servers {
		for _, resolver := range []string{"--mem-resolver", "--nats-resolver"} {
			t.Run(srv.Name+resolver, func(t *testing.T) {
				conf := filepath.Join(work, srv.Name+strings.TrimPrefix(resolver, "--")+".conf")
				run(t, "auth", "generate", "config", resolver, "--config-file", conf, "--dir", filepath.Join(work, srv.Name+"jwt"+resolver))
				url := srv.Start(t, conf)

				reader, rerrs := connect(t, url, readerCreds)
				sub, err := reader.SubscribeSync("orders.>")
				if err != nil {
					t.Fatal(err)
				}
				reader.Flush()
				app, errs := connect(t, url, creds)
				app.Publish("orders.new", []byte("1"))
				app.Publish("orders.secret", []byte("2"))
				app.Flush()
				msg, err := sub.NextMsg(5 * time.Second)
				if err != nil || msg.Subject != "orders.new" {
					t.Fatalf("reader got %v, %v; want orders.new", msg, err)
				}
				expectErr(t, errs, `permissions violation for publish to "orders.secret"`)
				if m, err := sub.NextMsg(100 * time.Millisecond); err == nil {
					t.Fatalf("denied publish delivered: %s", m.Subject)
				}
				reader.SubscribeSync("orders.private")
				expectErr(t, rerrs, `permissions violation for subscription to "orders.private"`)
				app.SubscribeSync("other")
				expectErr(t, errs, `permissions violation for subscription to "other"`)

				// A context made from the user publishes with its creds.
				run(t, "auth", "generate", "context", "-a", "orders", "-n", "app", "--context-name", "app", "--select")
				run(t, "pub", "orders.ctx", "hi", "--server", url)
				if msg, err := sub.NextMsg(5 * time.Second); err != nil || msg.Subject != "orders.ctx" {
					t.Fatalf("pub with the generated context: %v, %v", msg, err)
				}

				// The system user works too.
				sys, _ := connect(t, url, filepath.Join(keysDir(home), "creds", "acme", "SYS", "sys.creds"))
				if _, err := sys.Request("$SYS.REQ.SERVER.PING", nil, 5*time.Second); err != nil {
					t.Fatalf("system account request: %v", err)
				}
			})
		}
	}
}

// TestStoreLayoutAndModes checks nsc's layout and the file modes.
func TestStoreLayoutAndModes(t *testing.T) {
	home := authtest.Isolate(t)
	r := run(t, "auth", "init", "--name", "acme", "--json")
	var made []map[string]string
	if err := json.Unmarshal([]byte(r.Stdout), &made); err != nil || len(made) != 6 {
		t.Fatalf("init --json: %v\n%s", err, r.Stdout)
	}
	for _, p := range []string{
		filepath.Join(home, ".config", "nats", "nsc", "nsc.json"),
		filepath.Join(dataDir(home), "acme", ".nsc"),
		filepath.Join(dataDir(home), "acme", "acme.jwt"),
		filepath.Join(dataDir(home), "acme", "accounts", "SYS", "SYS.jwt"),
		filepath.Join(dataDir(home), "acme", "accounts", "SYS", "users", "sys.jwt"),
		filepath.Join(dataDir(home), "acme", "accounts", "acme", "users", "acme.jwt"),
		filepath.Join(keysDir(home), "creds", "acme", "acme", "acme.creds"),
		filepath.Join(keysDir(home), ".gitignore"),
	} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", p, st.Mode().Perm())
		}
	}
	filepath.Walk(home, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.IsDir() && p != home && strings.Contains(p, "nsc") && info.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, want 0700", p, info.Mode().Perm())
		}
		if err == nil && strings.HasSuffix(p, ".nk") && info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", p, info.Mode().Perm())
		}
		return nil
	})
	var cfg map[string]any
	b, _ := os.ReadFile(filepath.Join(home, ".config", "nats", "nsc", "nsc.json"))
	json.Unmarshal(b, &cfg)
	if cfg["operator"] != "acme" || cfg["account"] != "acme" || cfg["store_root"] != dataDir(home) {
		t.Fatalf("nsc.json: %s", b)
	}
	// No command prints a seed unless asked.
	for _, args := range [][]string{{"auth", "list", "keys", "-A"}, {"auth", "describe", "user", "acme"}, {"auth", "env"}} {
		if r := run(t, args...); seedRE.MatchString(r.Stdout + r.Stderr) {
			t.Errorf("%v printed what looks like a seed:\n%s", args, r.Stdout)
		}
	}
	if r := run(t, "auth", "list", "keys", "-A", "--show-seeds"); !seedRE.MatchString(r.Stdout) {
		t.Errorf("--show-seeds printed no operator seed:\n%s", r.Stdout)
	}
}

// seedRE matches an nkey seed: S, the key's kind, 56 more characters.
var seedRE = regexp.MustCompile(`S[OAUNCX][A-Z2-7]{56}`)

func clitestRun(t *testing.T, args ...string) clitest.Result {
	t.Helper()
	return clitest.Run(t, args...)
}

func jsonField(t *testing.T, out, key string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	s, _ := m[key].(string)
	return s
}
