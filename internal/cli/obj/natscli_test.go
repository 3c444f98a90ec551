package objcmd_test

import (
	"bytes"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
	"github.com/sluicehq/sluice/internal/testutil/refbin"
)

// TestNatsCLIObject drives natscli v0.5.1's `nats object` against sluice.
func TestNatsCLIObject(t *testing.T) {
	bin := refbin.NATSCLI(t)
	s := srvtest.StartSluice(t)
	home, dir := t.TempDir(), t.TempDir()
	nats := func(fail bool, args ...string) string {
		t.Helper()
		c := exec.Command(bin, append([]string{"--server", s.URL, "--user", srvtest.AppUser, "--password", srvtest.AppPass, "--timeout", "10s"}, args...)...)
		c.Env = []string{"HOME=" + home, "XDG_CONFIG_HOME=" + home, "PATH=" + os.Getenv("PATH")}
		c.Dir = dir
		out, err := c.CombinedOutput()
		if (err != nil) != fail {
			t.Fatalf("nats %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	data := make([]byte, 700_000)
	rand.Read(data)
	src := filepath.Join(dir, "in.bin")
	os.WriteFile(src, data, 0o600)

	nats(false, "object", "add", "FILES", "--description", "files")
	nats(false, "object", "put", "FILES", src, "--name", "x/in.bin", "--description", "d", "-H", "A:1", "--no-progress")
	nats(false, "object", "put", "FILES", src, "--name", "other", "--no-progress", "--chunk-size", "10000")
	out := filepath.Join(dir, "out.bin")
	nats(false, "object", "get", "FILES", "x/in.bin", "-O", out, "--no-progress")
	if got, _ := os.ReadFile(out); !bytes.Equal(got, data) {
		t.Fatal("nats object get returned other bytes")
	}
	if o := nats(false, "object", "ls", "FILES"); !strings.Contains(o, "x/in.bin") || !strings.Contains(o, "other") {
		t.Fatalf("ls: %s", o)
	}
	if o := nats(false, "object", "info", "FILES", "x/in.bin"); !strings.Contains(o, "SHA-256 ") || !strings.Contains(o, "A: 1") {
		t.Fatalf("info object: %s", o)
	}
	if o := nats(false, "object", "info", "FILES"); !strings.Contains(o, "files") {
		t.Fatalf("info bucket: %s", o)
	}
	if o := nats(false, "object", "ls"); !strings.Contains(o, "FILES") {
		t.Fatalf("ls buckets: %s", o)
	}
	nats(false, "object", "del", "FILES", "other", "-f")
	nats(true, "object", "get", "FILES", "other", "-O", filepath.Join(dir, "o2"), "--no-progress")
	nats(false, "object", "seal", "FILES", "-f")
	nats(true, "object", "put", "FILES", src, "--name", "late", "--no-progress", "-f")
	if o := nats(false, "object", "info", "FILES"); !strings.Contains(o, "Sealed: true") {
		t.Fatalf("sealed info: %s", o)
	}
	nats(false, "object", "del", "FILES", "-f")
	nats(true, "object", "info", "FILES")
}
