package cmdutil

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/natscontext"
)

// resolve runs a one-command tree with args and returns its settings.
func resolve(t *testing.T, args ...string) (*Settings, error) {
	t.Helper()
	io, _, _ := Test("")
	f := &Factory{IO: io}
	var s *Settings
	var serr error
	root := &cobra.Command{Use: "x", SilenceErrors: true, SilenceUsage: true,
		RunE: func(*cobra.Command, []string) error { s, serr = f.Settings(); return nil }}
	f.AddConnectionFlags(root)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	return s, serr
}

// isolate points the context store at a temp dir and clears NATS_*.
func isolate(t *testing.T) *natscontext.Store {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	for _, cf := range connFlags {
		if cf.env != "" {
			t.Setenv(cf.env, "")
			os.Unsetenv(cf.env)
		}
	}
	return natscontext.NewStore(dir)
}

func TestPrecedenceFlagEnvContextDefault(t *testing.T) {
	store := isolate(t)
	if err := store.Save(&natscontext.Context{Name: "dev", URL: "nats://ctx:1", JSDomain: "ctxdom", InboxPrefix: "_CTX"}); err != nil {
		t.Fatal(err)
	}
	if err := store.Select("dev"); err != nil {
		t.Fatal(err)
	}

	// default < context
	s, err := resolve(t)
	if err != nil {
		t.Fatal(err)
	}
	if s.Context.URL != "nats://ctx:1" || s.Source(KeyServer) != FromContext {
		t.Fatalf("context layer: %q from %s", s.Context.URL, s.Source(KeyServer))
	}
	if s.Context.Name != "dev" || s.Timeout != DefaultTimeout || s.Source(KeyTimeout) != FromDefault {
		t.Fatalf("name %q timeout %v from %s", s.Context.Name, s.Timeout, s.Source(KeyTimeout))
	}

	// context < env
	t.Setenv("NATS_URL", "nats://env:2")
	t.Setenv("NATS_TIMEOUT", "7s")
	s, _ = resolve(t)
	if s.Context.URL != "nats://env:2" || s.Source(KeyServer) != FromEnv || s.Timeout != 7*time.Second {
		t.Fatalf("env layer: %q from %s, timeout %v", s.Context.URL, s.Source(KeyServer), s.Timeout)
	}
	if s.Context.JSDomain != "ctxdom" {
		t.Fatalf("other context values lost: %+v", s.Context)
	}

	// env < flag
	s, _ = resolve(t, "--server", "nats://flag:3", "--timeout", "1s", "--js-domain", "flagdom")
	if s.Context.URL != "nats://flag:3" || s.Source(KeyServer) != FromFlag || s.Timeout != time.Second {
		t.Fatalf("flag layer: %q from %s", s.Context.URL, s.Source(KeyServer))
	}
	if s.Context.JSDomain != "flagdom" || s.Context.InboxPrefix != "_CTX" {
		t.Fatalf("mixed layers: %+v", s.Context)
	}
	s, _ = resolve(t, "-s", "nats://short:4")
	if s.Context.URL != "nats://short:4" {
		t.Fatalf("-s: %q", s.Context.URL)
	}
}

func TestNoContextAndDefaults(t *testing.T) {
	store := isolate(t)
	store.Save(&natscontext.Context{Name: "dev", URL: "nats://ctx:1"})
	store.Select("dev")
	s, err := resolve(t, "--no-context")
	if err != nil {
		t.Fatal(err)
	}
	if s.Context.ServerURL() != natscontext.DefaultURL || s.Context.Name != "" || s.Source(KeyServer) != FromDefault {
		t.Fatalf("--no-context: %+v", s.Context)
	}
	if !strings.HasPrefix(s.ConnectionName, "sluice ") {
		t.Fatalf("connection name %q", s.ConnectionName)
	}
}

func TestContextByNameEnvAndPath(t *testing.T) {
	store := isolate(t)
	store.Save(&natscontext.Context{Name: "a", URL: "nats://a:1"})
	store.Save(&natscontext.Context{Name: "b", URL: "nats://b:1"})
	store.Select("a")

	s, _ := resolve(t, "--context", "b")
	if s.Context.URL != "nats://b:1" {
		t.Fatalf("--context b: %q", s.Context.URL)
	}
	t.Setenv("NATS_CONTEXT", "b")
	s, _ = resolve(t)
	if s.Context.URL != "nats://b:1" {
		t.Fatalf("NATS_CONTEXT=b: %q", s.Context.URL)
	}
	s, _ = resolve(t, "--context", "a")
	if s.Context.URL != "nats://a:1" {
		t.Fatalf("flag beats NATS_CONTEXT: %q", s.Context.URL)
	}

	p := filepath.Join(t.TempDir(), "ci.json")
	os.WriteFile(p, []byte(`{"url":"nats://file:9","token":"ft"}`), 0o600)
	s, err := resolve(t, "--context", p)
	if err != nil {
		t.Fatal(err)
	}
	if s.Context.URL != "nats://file:9" || s.Context.Token != "ft" || s.ContextPath != p {
		t.Fatalf("context file: %+v", s.Context)
	}
}

func TestContextErrorsSayWhatToDo(t *testing.T) {
	store := isolate(t)
	_, err := resolve(t, "--context", "nope")
	if err == nil || ExitCode(err) != ExitNotFound || !strings.Contains(err.Error(), "sluice context ls") {
		t.Fatalf("missing context: %v (exit %d)", err, ExitCode(err))
	}
	_, err = resolve(t, "--context", "/no/such/file.json")
	if err == nil || ExitCode(err) != ExitNotFound {
		t.Fatalf("missing file: %v", err)
	}
	// A stale selection: the file was removed behind our back.
	store.Save(&natscontext.Context{Name: "gone"})
	store.Select("gone")
	os.Remove(store.Path("gone"))
	_, err = resolve(t)
	if err == nil || !strings.Contains(err.Error(), "sluice context unselect") {
		t.Fatalf("stale selection: %v", err)
	}
}

func TestFlagCredentialsReplaceContextCredentials(t *testing.T) {
	store := isolate(t)
	store.Save(&natscontext.Context{Name: "dev", URL: "nats://ctx:1", User: "ctxuser", Password: "ctxpw", Cert: "/c.pem", Key: "/k.pem", CA: "/ca.pem"})
	store.Select("dev")

	s, _ := resolve(t, "--creds", "/my.creds")
	c := s.Context
	if c.Creds != "/my.creds" || c.User != "" || c.Password != "" {
		t.Fatalf("creds flag mixed with context user: %+v", c)
	}
	if c.CA != "/ca.pem" || c.Cert != "/c.pem" {
		t.Fatalf("TLS settings lost: %+v", c)
	}
	if err := c.Validate(); err != nil && !strings.Contains(err.Error(), "name") {
		t.Fatalf("effective context invalid: %v", err)
	}

	s, _ = resolve(t, "--tlscert", "/other.pem", "--tlskey", "/other-key.pem")
	if s.Context.Cert != "/other.pem" || s.Context.Key != "/other-key.pem" || s.Context.User != "ctxuser" {
		t.Fatalf("tls override: %+v", s.Context)
	}

	t.Setenv("NATS_USER", "envuser")
	t.Setenv("NATS_PASSWORD", "envpw")
	s, _ = resolve(t)
	if s.Context.User != "envuser" || s.Context.Password != "envpw" {
		t.Fatalf("env credentials: %+v", s.Context)
	}
}

func TestUserWithoutPasswordIsToken(t *testing.T) {
	isolate(t)
	s, _ := resolve(t, "--user", "s3cr3t")
	if s.Context.Token != "s3cr3t" || s.Context.User != "" {
		t.Fatalf("natscli's --user as token: %+v", s.Context)
	}
	s, _ = resolve(t, "--user", "bob", "--password", "pw")
	if s.Context.User != "bob" || s.Context.Password != "pw" || s.Context.Token != "" {
		t.Fatalf("user and password: %+v", s.Context)
	}
}

func TestBadTimeout(t *testing.T) {
	isolate(t)
	_, err := resolve(t, "--timeout", "0s")
	if ExitCode(err) != ExitUsage {
		t.Fatalf("zero timeout: %v", err)
	}
}
