package objcmd_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
	"github.com/sluicehq/sluice/internal/testutil"
)

func run(t *testing.T, code int, args ...string) clitest.Result {
	t.Helper()
	r := clitest.Run(t, args...)
	clitest.ExpectCode(t, r, code)
	return r
}

func decode(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
}

type objInfo struct {
	Name        string              `json:"name"`
	Description string              `json:"description"`
	Headers     map[string][]string `json:"headers"`
	Size        uint64              `json:"size"`
	Chunks      uint32              `json:"chunks"`
	Digest      string              `json:"digest"`
}

func TestObjCommands(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		dir := t.TempDir()
		data := make([]byte, 1<<20+123)
		rand.Read(data)
		src := filepath.Join(dir, "data.bin")
		os.WriteFile(src, data, 0o600)

		run(t, 0, "obj", "add", "FILES", "--description", "files", "--storage", "memory")
		var i objInfo
		decode(t, run(t, 0, "obj", "put", "FILES", src, "--name", "data.bin", "--description", "d", "-H", "X-A:1", "--chunk-size", "65536", "--json").Stdout, &i)
		if i.Name != "data.bin" || i.Size != uint64(len(data)) || i.Chunks != 17 || !strings.HasPrefix(i.Digest, "SHA-256=") || i.Headers["X-A"][0] != "1" {
			t.Fatalf("put: %+v", i)
		}
		// Replacing asks; not on a terminal it needs --force.
		run(t, cmdutil.ExitUsage, "obj", "put", "FILES", src, "--name", "data.bin")
		out := filepath.Join(dir, "out.bin")
		run(t, 0, "obj", "get", "FILES", "data.bin", "-O", out)
		if got, _ := os.ReadFile(out); !bytes.Equal(got, data) {
			t.Fatal("get wrote other bytes")
		}
		// On a terminal: a progress bar, and a question before replacing.
		r := clitest.RunWith(t, clitest.Opts{TTY: true, StderrTTY: true, Answers: []any{true}}, "obj", "put", "FILES", src,
			"--name", "data.bin", "--description", "d", "-H", "X-A:1", "--chunk-size", "65536")
		clitest.ExpectCode(t, r, 0)
		if !strings.Contains(r.Stderr, "data.bin") || !strings.Contains(r.Stderr, "done! [1.05M") {
			t.Fatalf("no progress bar: %q", r.Stderr)
		}
		// stdin in, stdout out.
		r = clitest.RunWith(t, clitest.Opts{Stdin: "hello"}, "obj", "put", "FILES", "--name", "greeting")
		clitest.ExpectCode(t, r, 0)
		run(t, cmdutil.ExitUsage, "obj", "put", "FILES")
		if r := run(t, 0, "obj", "get", "FILES", "greeting", "-O", "-"); r.Stdout != "hello" {
			t.Fatalf("get to stdout: %q", r.Stdout)
		}
		if r := run(t, 0, "obj", "info", "FILES", "data.bin"); !strings.Contains(r.Stdout, "Object information for FILES > data.bin") || !strings.Contains(r.Stdout, "Header X-A: 1") {
			t.Fatalf("info: %s", r.Stdout)
		}
		var list []objInfo
		decode(t, run(t, 0, "obj", "ls", "FILES", "--json").Stdout, &list)
		if len(list) != 2 || list[0].Name != "data.bin" || list[1].Name != "greeting" {
			t.Fatalf("ls: %+v", list)
		}
		if r := run(t, 0, "obj", "ls"); !strings.Contains(r.Stdout, "FILES") {
			t.Fatalf("ls buckets: %s", r.Stdout)
		}
		if r := run(t, 0, "obj", "ls", "--names"); r.Stdout != "FILES\n" {
			t.Fatalf("ls --names: %q", r.Stdout)
		}
		if r := run(t, 0, "obj", "status", "FILES"); !strings.Contains(r.Stdout, "Description: files") || !strings.Contains(r.Stdout, "Sealed: false") {
			t.Fatalf("status: %s", r.Stdout)
		}
		// Missing things and bad names.
		run(t, cmdutil.ExitNotFound, "obj", "get", "FILES", "nope", "-O", filepath.Join(dir, "x"))
		run(t, cmdutil.ExitNotFound, "obj", "info", "NOPE")
		run(t, cmdutil.ExitNotFound, "obj", "put", "FILES", filepath.Join(dir, "missing"))
		run(t, cmdutil.ExitUsage, "obj", "add", "bad.name")
		// Delete asks, then removes the chunks too.
		run(t, cmdutil.ExitUsage, "obj", "del", "FILES", "greeting")
		run(t, 0, "obj", "del", "FILES", "greeting", "--force")
		run(t, cmdutil.ExitNotFound, "obj", "info", "FILES", "greeting")
		// Seal: no more puts.
		run(t, 0, "obj", "add", "SEALED")
		run(t, 0, "obj", "seal", "SEALED", "--force")
		run(t, cmdutil.ExitConflict, "obj", "put", "SEALED", src)
		var si struct {
			Config struct {
				Sealed bool `json:"sealed"`
			} `json:"config"`
		}
		decode(t, run(t, 0, "obj", "info", "SEALED", "--json").Stdout, &si)
		if !si.Config.Sealed {
			t.Fatal("not sealed")
		}
		run(t, 0, "obj", "rm", "SEALED", "--force")
		run(t, cmdutil.ExitNotFound, "obj", "status", "SEALED")
	})
}

// A chunk gone missing fails the digest check: exit 9, no file written.
func TestObjCorruptChunk(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		dir := t.TempDir()
		src := filepath.Join(dir, "f")
		data := make([]byte, 300_000)
		rand.Read(data)
		os.WriteFile(src, data, 0o600)
		run(t, 0, "obj", "add", "C")
		run(t, 0, "obj", "put", "C", src, "--name", "f")
		nc, err := nats.Connect(url, nats.UserInfo(srvtest.AppUser, srvtest.AppPass))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		m, err := nc.Request("$JS.API.STREAM.MSG.DELETE.OBJ_C", []byte(`{"seq":2,"no_erase":true}`), 5*time.Second)
		if err != nil || !strings.Contains(string(m.Data), `"success":true`) {
			t.Fatalf("delete chunk: %v %s", err, m.Data)
		}
		out := filepath.Join(dir, "out")
		r := run(t, cmdutil.ExitCorrupt, "obj", "get", "C", "f", "-O", out)
		if !strings.Contains(r.Stderr, "corrupt") {
			t.Fatalf("stderr: %q", r.Stderr)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Fatalf("files left behind: %v", ents)
		}
	})
}

func TestObjWatchCommand(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		run(t, 0, "obj", "add", "W")
		bg := clitest.Start(t, "Watching for changes", "obj", "watch", "W")
		// nats.go reports an empty bucket before its watcher's consumer
		// exists; a put and delete made before then would leave only the
		// delete (it rolls the put up), so wait for the consumer.
		nc, err := nats.Connect(url, nats.UserInfo(srvtest.AppUser, srvtest.AppPass))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		testutil.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
			m, err := nc.Request("$JS.API.STREAM.INFO.OBJ_W", nil, 5*time.Second)
			if err != nil {
				return err
			}
			var si struct {
				State struct {
					Consumers int `json:"consumer_count"`
				} `json:"state"`
			}
			if err := json.Unmarshal(m.Data, &si); err != nil || si.State.Consumers == 0 {
				return fmt.Errorf("no watcher consumer yet: %s", m.Data)
			}
			return nil
		})
		clitest.ExpectCode(t, clitest.RunWith(t, clitest.Opts{Stdin: "abc"}, "obj", "put", "W", "--name", "a"), 0)
		run(t, 0, "obj", "del", "W", "a", "--force")
		testutil.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
			if !strings.Contains(bg.Stdout(), "DEL W > a") {
				return fmt.Errorf("no delete yet: %q", bg.Stdout())
			}
			return nil
		})
		if r := bg.Stop(); !strings.Contains(r.Stdout, "PUT W > a: 3 bytes in 1 chunks") {
			t.Fatalf("watch: %q", r.Stdout)
		}
	})
}
