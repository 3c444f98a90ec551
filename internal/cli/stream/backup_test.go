package streamcmd_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
)

// natsBin is the reference natscli (nats), found before tests move
// $HOME: $SLUICE_REF_NATS, beside the reference server, in the reference
// cache or in ~/peers/bin. (Once refbin lands: refbin.NATSCLI(t).)
var natsBin = natscli()

func natscli() string {
	cands := []string{os.Getenv("SLUICE_REF_NATS")}
	if bin := srvtest.ReferenceBinary(); bin != "" {
		cands = append(cands, filepath.Join(filepath.Dir(bin), "nats"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		cands = append(cands, filepath.Join(home, ".cache", "sluice", "reference", "natscli-v0.5.1", "nats"),
			filepath.Join(home, "peers", "bin", "nats"))
	}
	for _, p := range cands {
		if p == "" {
			continue
		}
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

func TestStreamBackupRestore(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		run(t, 0, "stream", "add", "BK", "--subjects", "bk.*", "--defaults")
		nc := connect(t, url)
		publish(t, nc, "bk.a", 2)
		publish(t, nc, "bk.b", 1)
		run(t, 0, "consumer", "add", "BK", "C1", "--pull", "--defaults")
		dir := filepath.Join(t.TempDir(), "bk")

		run(t, 0, "stream", "backup", "BK", dir)
		// The archive is named after the server version it reports
		// (stream.arc.s2 from 2.15 on, stream.tar.s2 before; sluice
		// reports an older version but sends the 2.15 archive format).
		data := "stream.arc.s2"
		if _, err := os.Stat(filepath.Join(dir, data)); err != nil {
			data = "stream.tar.s2"
		}
		for _, f := range []string{"backup.json", data} {
			if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
				t.Fatalf("%s: %v", f, err)
			}
		}
		// A second backup into the same directory is refused.
		r := run(t, cmdutil.ExitUsage, "stream", "backup", "BK", dir)
		if !strings.Contains(r.Stderr, "already holds a backup") {
			t.Fatal(r.Stderr)
		}
		// Restoring over an existing stream is refused.
		r = run(t, cmdutil.ExitError, "stream", "restore", dir)
		if !strings.Contains(r.Stderr, "already exists") {
			t.Fatal(r.Stderr)
		}
		run(t, 0, "stream", "rm", "BK", "-f")
		r = run(t, 0, "stream", "restore", dir)
		if !strings.Contains(r.Stdout, "Restored stream BK") {
			t.Fatal(r.Stdout)
		}
		i := streamInfo(t, "BK")
		if i.State.Msgs != 3 || i.Config.Subjects[0] != "bk.*" {
			t.Fatalf("restored stream: %+v", i)
		}
		if r = run(t, 0, "consumer", "ls", "BK", "--names"); r.Stdout != "C1\n" {
			t.Fatalf("restored consumers: %q", r.Stdout)
		}

		// Bad input changes nothing.
		run(t, cmdutil.ExitUsage, "stream", "restore", t.TempDir())
		run(t, cmdutil.ExitUsage, "stream", "backup", "BK", filepath.Join(t.TempDir(), "x"), "--chunk-size", "1")
		run(t, cmdutil.ExitNotFound, "stream", "backup", "NOPE", filepath.Join(t.TempDir(), "y"))

		nats := natsBin
		if nats == "" {
			t.Skip("natscli (nats) not installed beside the reference server; skipping the cross-tool restore")
		}
		natsRun := func(args ...string) {
			t.Helper()
			args = append([]string{"--server", url, "--user", srvtest.AppUser, "--password", srvtest.AppPass}, args...)
			out, err := exec.Command(nats, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("nats %v: %v\n%s", args, err, out)
			}
		}
		// Ours restores with natscli...
		run(t, 0, "stream", "rm", "BK", "-f")
		natsRun("stream", "restore", dir, "--no-progress")
		if i = streamInfo(t, "BK"); i.State.Msgs != 3 {
			t.Fatalf("natscli restored: %+v", i.State)
		}
		// ...and natscli's restores with ours.
		ndir := filepath.Join(t.TempDir(), "nbk")
		natsRun("stream", "backup", "BK", ndir, "--no-progress")
		run(t, 0, "stream", "rm", "BK", "-f")
		run(t, 0, "stream", "restore", ndir)
		if i = streamInfo(t, "BK"); i.State.Msgs != 3 {
			t.Fatalf("restored natscli's backup: %+v", i.State)
		}
		if r = run(t, 0, "consumer", "ls", "BK", "--names"); r.Stdout != "C1\n" {
			t.Fatalf("consumers from natscli's backup: %q", r.Stdout)
		}
	})
}
