package authcmd_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/cli/auth/authtest"
	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// TestPrompts: on a terminal, missing names are asked for, choices are
// offered, and deletes ask for confirmation.
func TestPrompts(t *testing.T) {
	home := authtest.Isolate(t)
	tty := func(answers ...any) (clitest.Opts, *cmdutil.PromptStub) {
		p := &cmdutil.PromptStub{Answers: answers}
		return clitest.Opts{TTY: true, Prompter: p}, p
	}
	opts, p := tty("acme")
	clitest.ExpectCode(t, clitest.RunWith(t, opts, "auth", "init"), 0)
	if len(p.Asked) != 1 || !strings.Contains(p.Asked[0], "Name") {
		t.Fatalf("asked %q", p.Asked)
	}
	opts, _ = tty("orders")
	clitest.ExpectCode(t, clitest.RunWith(t, opts, "auth", "add", "account"), 0)
	opts, p = tty("SYS")
	clitest.ExpectCode(t, clitest.RunWith(t, opts, "auth", "select", "account"), 0)
	if r := run(t, "auth", "env", "--json"); !strings.Contains(r.Stdout, `"account": "SYS"`) || len(p.Asked) != 1 {
		t.Fatalf("select account by prompt: %s, asked %q", r.Stdout, p.Asked)
	}
	userJWT := filepath.Join(dataDir(home), "acme", "accounts", "acme", "users", "acme.jwt")
	opts, _ = tty(false)
	clitest.ExpectCode(t, clitest.RunWith(t, opts, "auth", "delete", "user", "acme", "-a", "acme"), cmdutil.ExitCancelled)
	if _, err := os.Stat(userJWT); err != nil {
		t.Fatal("declined delete removed the user")
	}
	opts, _ = tty(true)
	clitest.ExpectCode(t, clitest.RunWith(t, opts, "auth", "delete", "user", "acme", "-a", "acme"), 0)
	if _, err := os.Stat(userJWT); err == nil {
		t.Fatal("confirmed delete kept the user")
	}
}

// TestDirectories: $NSC_HOME, $NKEYS_PATH, --data-dir and -H place the
// store where nsc looks for it with the same settings.
func TestDirectories(t *testing.T) {
	authtest.Isolate(t)
	base := t.TempDir()
	t.Setenv("NSC_HOME", filepath.Join(base, "cfg"))
	t.Setenv("NKEYS_PATH", filepath.Join(base, "keys"))
	run(t, "auth", "init", "--name", "envop", "--data-dir", filepath.Join(base, "stores"))
	for _, p := range []string{"cfg/nsc.json", "stores/envop/envop.jwt", "keys/creds/envop/envop/envop.creds"} {
		if _, err := os.Stat(filepath.Join(base, p)); err != nil {
			t.Fatal(err)
		}
	}
	// nsc.json remembers the data directory for both tools.
	if r := run(t, "auth", "list", "operators", "--json"); !strings.Contains(r.Stdout, "envop") {
		t.Fatalf("list operators: %s", r.Stdout)
	}
	if out := authtest.RunNSC(t, false, "describe", "account", "envop"); !strings.Contains(out, "envop") {
		t.Fatalf("nsc with the same settings:\n%s", out)
	}
	all := t.TempDir()
	run(t, "auth", "-H", all, "init", "--name", "allop")
	for _, p := range []string{"nsc.json", "allop/allop.jwt", "creds/allop/allop/allop.creds"} {
		if _, err := os.Stat(filepath.Join(all, p)); err != nil {
			t.Fatal(err)
		}
	}
	if out := authtest.RunNSC(t, false, "-H", all, "list", "accounts"); !strings.Contains(out, "allop") {
		t.Fatalf("nsc -H:\n%s", out)
	}
}

// TestCompletion: --account completes with the store's account names.
func TestCompletion(t *testing.T) {
	authtest.Isolate(t)
	run(t, "auth", "init", "--name", "acme")
	run(t, "auth", "add", "account", "orders")
	r := run(t, "__complete", "auth", "add", "user", "x", "--account", "or")
	if !strings.Contains(r.Stdout, "orders\n") || strings.Contains(r.Stdout, "acme") {
		t.Fatalf("completion: %q", r.Stdout)
	}
}
