package kvcmd_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
	"github.com/sluicehq/sluice/internal/testutil"
	"github.com/sluicehq/sluice/internal/testutil/refbin"
)

// natsCLI runs the reference natscli against url as the JetStream user,
// with a HOME of its own so that no stored context leaks in.
type natsCLI struct {
	bin, url, home string
}

func (n *natsCLI) cmd(stdin string, args ...string) *exec.Cmd {
	c := exec.Command(n.bin, append([]string{"--server", n.url, "--user", srvtest.AppUser, "--password", srvtest.AppPass, "--timeout", "10s"}, args...)...)
	c.Env = []string{"HOME=" + n.home, "XDG_CONFIG_HOME=" + n.home, "PATH=" + os.Getenv("PATH")}
	c.Stdin = strings.NewReader(stdin)
	return c
}

// run runs natscli and requires success, returning stdout and stderr.
func (n *natsCLI) run(t *testing.T, args ...string) string {
	t.Helper()
	return n.runIn(t, "", args...)
}

func (n *natsCLI) runIn(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := n.cmd(stdin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("nats %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// fail runs natscli and requires a failure.
func (n *natsCLI) fail(t *testing.T, args ...string) string {
	t.Helper()
	out, err := n.cmd("", args...).CombinedOutput()
	if err == nil {
		t.Fatalf("nats %s worked:\n%s", strings.Join(args, " "), out)
	}
	return string(out)
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestNatsCLIKeyValue drives natscli v0.5.1's `nats kv` against sluice.
func TestNatsCLIKeyValue(t *testing.T) {
	bin := refbin.NATSCLI(t)
	s := srvtest.StartSluice(t)
	n := &natsCLI{bin: bin, url: s.URL, home: t.TempDir()}

	n.run(t, "kv", "add", "CFG", "--history", "5", "--ttl", "1h", "--max-value-size", "1024", "--marker-ttl", "10s")
	n.run(t, "kv", "put", "CFG", "a", "1")
	n.runIn(t, "2", "kv", "put", "CFG", "a")
	if out := n.run(t, "kv", "get", "CFG", "a", "--raw"); out != "2" {
		t.Fatalf("get --raw: %q", out)
	}
	if out := n.run(t, "kv", "get", "CFG", "a", "--revision", "1"); !strings.Contains(out, "revision: 1") {
		t.Fatalf("get --revision: %q", out)
	}
	n.run(t, "kv", "create", "CFG", "b", "x", "--ttl", "5s")
	n.fail(t, "kv", "create", "CFG", "b", "y")
	n.run(t, "kv", "update", "CFG", "a", "3", "2")
	n.fail(t, "kv", "update", "CFG", "a", "4", "2")
	if out := n.run(t, "kv", "history", "CFG", "a"); strings.Count(out, "PUT") != 3 {
		t.Fatalf("history: %s", out)
	}
	n.run(t, "kv", "revert", "CFG", "a", "1", "--force")
	if out := n.run(t, "kv", "get", "CFG", "a", "--raw"); out != "1" {
		t.Fatalf("reverted: %q", out)
	}
	n.run(t, "kv", "put", "CFG", "c", "z")
	n.run(t, "kv", "del", "CFG", "c", "-f")
	n.run(t, "kv", "purge", "CFG", "a", "-f")
	if out := n.run(t, "kv", "ls", "CFG"); !strings.Contains(out, "b") || strings.Contains(out, "c\n") {
		t.Fatalf("ls keys: %q", out)
	}
	if out := n.run(t, "kv", "ls"); !strings.Contains(out, "CFG") {
		t.Fatalf("ls: %q", out)
	}
	if out := n.run(t, "kv", "info", "CFG"); !strings.Contains(out, "History Kept: 5") || !strings.Contains(out, "Per-Key TTL Supported: true") {
		t.Fatalf("info: %q", out)
	}
	n.run(t, "kv", "compact", "CFG", "-f")

	// watch runs until stopped: start it, change a key, see the change.
	var out syncBuf
	w := n.cmd("", "kv", "watch", "CFG")
	w.Stdout, w.Stderr = &out, &out
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Process.Kill(); w.Wait() })
	testutil.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		n.run(t, "kv", "put", "CFG", "w", "live")
		if !strings.Contains(out.String(), "CFG > w: live") {
			return fmt.Errorf("watch saw %q", out.String())
		}
		return nil
	})
	// The key created with a TTL goes away.
	testutil.CheckFor(t, 15*time.Second, 200*time.Millisecond, func() error {
		if out, err := n.cmd("", "kv", "get", "CFG", "b", "--raw").CombinedOutput(); err == nil {
			return fmt.Errorf("key with TTL still there: %s", out)
		}
		return nil
	})
	n.run(t, "kv", "del", "CFG", "-f")
	n.fail(t, "kv", "info", "CFG")
}
