package kvcmd_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

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

func runIn(t *testing.T, stdin string, code int, args ...string) clitest.Result {
	t.Helper()
	r := clitest.RunWith(t, clitest.Opts{Stdin: stdin}, args...)
	clitest.ExpectCode(t, r, code)
	return r
}

func decode(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
}

type entry struct {
	Key       string `json:"key"`
	Value     string `json:"value"`
	Revision  uint64 `json:"revision"`
	Operation string `json:"operation"`
}

func TestKVCommands(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		var si struct {
			Config struct {
				Name       string `json:"name"`
				MaxPer     int64  `json:"max_msgs_per_subject"`
				MaxMsgSize int32  `json:"max_msg_size"`
				MaxAge     int64  `json:"max_age"`
				Storage    string `json:"storage"`
			} `json:"config"`
			State struct {
				Msgs uint64 `json:"messages"`
			} `json:"state"`
		}
		decode(t, run(t, 0, "kv", "add", "CFG", "--history", "5", "--max-value-size", "64", "--ttl", "1d", "--storage", "memory", "--json").Stdout, &si)
		if si.Config.Name != "KV_CFG" || si.Config.MaxPer != 5 || si.Config.MaxMsgSize != 64 || si.Config.MaxAge != 24*3600*1e9 || si.Config.Storage != "memory" {
			t.Fatalf("add: %+v", si.Config)
		}
		if r := run(t, 0, "kv", "put", "CFG", "db.host", "one"); strings.TrimSpace(r.Stdout) != "1" {
			t.Fatalf("put: %q", r.Stdout)
		}
		runIn(t, "two", 0, "kv", "put", "CFG", "db.host")
		if r := run(t, 0, "kv", "get", "CFG", "db.host", "--raw"); r.Stdout != "two" {
			t.Fatalf("get --raw: %q", r.Stdout)
		}
		if r := run(t, 0, "kv", "get", "CFG", "db.host", "--revision", "1"); !strings.Contains(r.Stdout, "CFG > db.host revision: 1") || !strings.Contains(r.Stdout, "one") {
			t.Fatalf("get --revision: %q", r.Stdout)
		}
		var e entry
		decode(t, run(t, 0, "kv", "get", "CFG", "db.host", "--json").Stdout, &e)
		if e.Value != "two" || e.Revision != 2 || e.Operation != "PUT" {
			t.Fatalf("get --json: %+v", e)
		}
		// Conditional writes: conflicts exit 7 and change nothing.
		run(t, cmdutil.ExitConflict, "kv", "create", "CFG", "db.host", "x")
		run(t, cmdutil.ExitConflict, "kv", "update", "CFG", "db.host", "x", "1")
		run(t, 0, "kv", "update", "CFG", "db.host", "three", "2")
		run(t, 0, "kv", "create", "CFG", "db.port", "5432")
		// Limits, names and missing things.
		r := run(t, cmdutil.ExitTooLarge, "kv", "put", "CFG", "big", strings.Repeat("x", 100))
		if !strings.Contains(r.Stderr, "larger than the bucket's maximum value size") || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
			t.Fatalf("too big: %q", r.Stderr)
		}
		run(t, cmdutil.ExitUsage, "kv", "put", "CFG", ".bad", "x")
		run(t, cmdutil.ExitUsage, "kv", "put", "bad.bucket", "k", "x")
		run(t, cmdutil.ExitNotFound, "kv", "get", "CFG", "nope")
		run(t, cmdutil.ExitNotFound, "kv", "get", "NOPE", "k")
		run(t, cmdutil.ExitNotFound, "kv", "get", "CFG", "db.host", "--revision", "99")
		run(t, cmdutil.ExitUsage, "kv", "update", "CFG", "k", "v", "abc")
		// History, revert, delete, purge.
		var h []entry
		decode(t, run(t, 0, "kv", "history", "CFG", "db.host", "--json").Stdout, &h)
		if len(h) != 3 || h[2].Value != "three" {
			t.Fatalf("history: %+v", h)
		}
		if r := run(t, 0, "kv", "history", "CFG", "db.host"); !strings.Contains(r.Stdout, "three") {
			t.Fatalf("history table: %s", r.Stdout)
		}
		run(t, cmdutil.ExitUsage, "kv", "revert", "CFG", "db.host", "1")
		run(t, 0, "kv", "revert", "CFG", "db.host", "1", "--force")
		if r := run(t, 0, "kv", "get", "CFG", "db.host", "--raw"); r.Stdout != "one" {
			t.Fatalf("revert: %q", r.Stdout)
		}
		run(t, cmdutil.ExitUsage, "kv", "del", "CFG", "db.port")
		run(t, 0, "kv", "del", "CFG", "db.port", "--force")
		run(t, cmdutil.ExitNotFound, "kv", "get", "CFG", "db.port")
		run(t, 0, "kv", "purge", "CFG", "db.port", "--force")
		// Keys and listings.
		run(t, 0, "kv", "put", "CFG", "app.name", "x")
		var keys []string
		decode(t, run(t, 0, "kv", "keys", "CFG", "--json").Stdout, &keys)
		if strings.Join(keys, ",") != "app.name,db.host" {
			t.Fatalf("keys: %v", keys)
		}
		if r := run(t, 0, "kv", "ls", "CFG", "db.>"); r.Stdout != "db.host\n" {
			t.Fatalf("ls filter: %q", r.Stdout)
		}
		if r := run(t, 0, "kv", "ls", "CFG", "-v"); !strings.Contains(r.Stdout, "app.name") {
			t.Fatalf("ls -v: %q", r.Stdout)
		}
		run(t, 0, "kv", "add", "OTHER", "--defaults")
		if r := run(t, cmdutil.ExitUsage, "kv", "create", "OTHER", "ttl", "v", "--ttl", "5s"); !strings.Contains(r.Stderr, "does not allow per-key TTLs") {
			t.Fatalf("ttl without markers: %q", r.Stderr)
		}
		if r := run(t, 0, "kv", "ls", "--names"); r.Stdout != "CFG\nOTHER\n" {
			t.Fatalf("ls --names: %q", r.Stdout)
		}
		if r := run(t, 0, "kv", "ls"); !strings.Contains(r.Stdout, "CFG") || !strings.Contains(r.Stdout, "OTHER") {
			t.Fatalf("ls: %q", r.Stdout)
		}
		if r := run(t, 0, "kv", "info", "CFG"); !strings.Contains(r.Stdout, "History Kept: 5") || !strings.Contains(r.Stdout, "Values Stored: 6") {
			t.Fatalf("info: %q", r.Stdout)
		}
		decode(t, run(t, 0, "kv", "status", "CFG", "--json").Stdout, &si)
		if si.State.Msgs != 6 {
			t.Fatalf("status: %+v", si.State)
		}
		run(t, 0, "kv", "edit", "CFG", "--history", "10")
		decode(t, run(t, 0, "kv", "info", "CFG", "--json").Stdout, &si)
		if si.Config.MaxPer != 10 || si.Config.MaxMsgSize != 64 {
			t.Fatalf("edit kept the rest: %+v", si.Config)
		}
		run(t, cmdutil.ExitUsage, "kv", "add", "X", "--history", "65")
		run(t, cmdutil.ExitUsage, "kv", "add", "X", "--storage", "disk")
		run(t, cmdutil.ExitUsage, "kv", "add")
		// Compact, then remove with and without confirmation.
		run(t, 0, "kv", "compact", "CFG", "--older-than", "0", "--force")
		decode(t, run(t, 0, "kv", "info", "CFG", "--json").Stdout, &si)
		if si.State.Msgs != 5 {
			t.Fatalf("after compact: %d", si.State.Msgs)
		}
		run(t, cmdutil.ExitUsage, "kv", "rm", "OTHER")
		r = clitest.RunWith(t, clitest.Opts{TTY: true, Answers: []any{false}}, "kv", "rm", "OTHER")
		clitest.ExpectCode(t, r, cmdutil.ExitCancelled)
		run(t, 0, "kv", "rm", "OTHER", "--force")
		run(t, cmdutil.ExitNotFound, "kv", "info", "OTHER")
	})
}

func TestKVAddPrompts(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		r := clitest.RunWith(t, clitest.Opts{TTY: true, Answers: []any{"bad.name", "ASKED", "0", "3", "1h", "memory"}}, "kv", "add", "--json")
		clitest.ExpectCode(t, r, 0)
		var si struct {
			Config struct {
				MaxPer  int64  `json:"max_msgs_per_subject"`
				Storage string `json:"storage"`
			} `json:"config"`
		}
		decode(t, r.Stdout, &si)
		if si.Config.MaxPer != 3 || si.Config.Storage != "memory" {
			t.Fatalf("prompted add: %+v\n%s", si.Config, r.Stderr)
		}
	})
}

func TestKVWatchCommand(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		run(t, 0, "kv", "add", "W", "--history", "3", "--defaults")
		run(t, 0, "kv", "put", "W", "a", "1")
		bg := clitest.Start(t, "Watching for changes", "kv", "watch", "W")
		run(t, 0, "kv", "put", "W", "b", "2")
		run(t, 0, "kv", "del", "W", "a", "--force")
		testutil.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
			if !strings.Contains(bg.Stdout(), "DEL W > a") {
				return fmt.Errorf("no delete yet: %q", bg.Stdout())
			}
			return nil
		})
		r := bg.Stop()
		for _, want := range []string{"PUT W > a: 1", "PUT W > b: 2", "DEL W > a"} {
			if !strings.Contains(r.Stdout, want) {
				t.Fatalf("watch missing %q in %q", want, r.Stdout)
			}
		}
	})
}
