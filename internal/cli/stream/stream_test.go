package streamcmd_test

import (
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

func connect(t *testing.T, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, nats.UserInfo(srvtest.AppUser, srvtest.AppPass))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

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

type info struct {
	Config struct {
		Name       string   `json:"name"`
		Subjects   []string `json:"subjects"`
		Storage    string   `json:"storage"`
		MaxAge     int64    `json:"max_age"`
		MaxBytes   int64    `json:"max_bytes"`
		MaxMsgs    int64    `json:"max_msgs"`
		Retention  string   `json:"retention"`
		Discard    string   `json:"discard"`
		Sealed     bool     `json:"sealed"`
		DenyDelete bool     `json:"deny_delete"`
		Dupes      int64    `json:"duplicate_window"`
		Metadata   map[string]string
	} `json:"config"`
	State struct {
		Msgs     uint64 `json:"messages"`
		FirstSeq uint64 `json:"first_seq"`
		LastSeq  uint64 `json:"last_seq"`
	} `json:"state"`
}

func streamInfo(t *testing.T, name string) info {
	t.Helper()
	var i info
	decode(t, run(t, 0, "stream", "info", name, "--json").Stdout, &i)
	return i
}

func publish(t *testing.T, nc *nats.Conn, subject string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := nc.Request(subject, []byte("msg"), cmdutil.DefaultTimeout); err != nil {
			t.Fatalf("publish to %s: %v", subject, err)
		}
	}
}

func TestStreamLifecycle(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		r := run(t, 0, "stream", "add", "ORDERS", "--subjects", "orders.*", "--storage", "memory",
			"--max-age", "1d", "--max-bytes", "1MB", "--retention", "limits", "--discard", "new",
			"--metadata", "team=a", "--json")
		var i info
		decode(t, r.Stdout, &i)
		if i.Config.Name != "ORDERS" || i.Config.Storage != "memory" || i.Config.MaxAge != 24*3600*1e9 ||
			i.Config.MaxBytes != 1<<20 || i.Config.Discard != "new" || i.Config.MaxMsgs != -1 || i.Config.Metadata["team"] != "a" {
			t.Fatalf("config: %+v", i.Config)
		}
		// Without --json: the info for people.
		r = run(t, 0, "stream", "info", "ORDERS")
		for _, want := range []string{"Information for Stream ORDERS", "Subjects: orders.*", "Storage: Memory", "Maximum Age: 1d", "Messages: 0"} {
			if !strings.Contains(r.Stdout, want) {
				t.Fatalf("info lacks %q:\n%s", want, r.Stdout)
			}
		}
		nc := connect(t, url)
		publish(t, nc, "orders.new", 3)
		publish(t, nc, "orders.old", 2)

		if r = run(t, 0, "stream", "ls", "--names"); r.Stdout != "ORDERS\n" {
			t.Fatalf("ls --names: %q", r.Stdout)
		}
		if r = run(t, 0, "stream", "ls", "--names", "--subject", "nothing.>"); r.Stdout != "" {
			t.Fatalf("ls --subject: %q", r.Stdout)
		}
		if r = run(t, 0, "stream", "ls"); !strings.Contains(r.Stdout, "ORDERS") || !strings.Contains(r.Stdout, "5") {
			t.Fatalf("ls: %s", r.Stdout)
		}
		if r = run(t, 0, "stream", "report"); !strings.Contains(r.Stdout, "ORDERS") || !strings.Contains(r.Stdout, "Memory") {
			t.Fatalf("report: %s", r.Stdout)
		}
		var subs map[string]int
		decode(t, run(t, 0, "stream", "subjects", "ORDERS", "--json").Stdout, &subs)
		if subs["orders.new"] != 3 || subs["orders.old"] != 2 {
			t.Fatalf("subjects: %v", subs)
		}
		if r = run(t, 0, "stream", "subjects", "ORDERS", "--names", "--sort", "name"); r.Stdout != "orders.new\norders.old\n" {
			t.Fatalf("subjects --names: %q", r.Stdout)
		}

		// get by sequence and by subject.
		var m struct {
			Subject string `json:"subject"`
			Seq     uint64 `json:"seq"`
			Data    []byte `json:"data"`
		}
		decode(t, run(t, 0, "stream", "get", "ORDERS", "2", "--json").Stdout, &m)
		if m.Seq != 2 || m.Subject != "orders.new" || string(m.Data) != "msg" {
			t.Fatalf("get 2: %+v", m)
		}
		decode(t, run(t, 0, "stream", "get", "ORDERS", "--last-for", "orders.old", "--json").Stdout, &m)
		if m.Seq != 5 {
			t.Fatalf("get --last-for: %+v", m)
		}
		if r = run(t, 0, "stream", "get", "ORDERS", "1"); !strings.Contains(r.Stdout, "[1] Subject: orders.new") {
			t.Fatalf("get: %s", r.Stdout)
		}
		run(t, cmdutil.ExitNotFound, "stream", "get", "ORDERS", "99")

		// view prints everything when not on a terminal.
		r = run(t, 0, "stream", "view", "ORDERS", "2")
		if strings.Count(r.Stdout, "Subject: orders.") != 5 {
			t.Fatalf("view: %s", r.Stdout)
		}
		r = run(t, 0, "stream", "view", "ORDERS", "--subject", "orders.old", "--raw")
		if r.Stdout != "msg\nmsg\n" {
			t.Fatalf("view --raw: %q", r.Stdout)
		}

		// On a terminal view pages, asking before each next page.
		stub := &cmdutil.PromptStub{Answers: []any{true, false}}
		r = clitest.RunWith(t, clitest.Opts{TTY: true, Prompter: stub}, "stream", "view", "ORDERS", "2")
		clitest.ExpectCode(t, r, 0)
		if strings.Count(r.Stdout, "Subject: orders.") != 4 || len(stub.Asked) != 2 || stub.Asked[0] != "Next Page?" {
			t.Fatalf("view paging: asked %v\n%s", stub.Asked, r.Stdout)
		}

		// rmm, purge --subject --keep, purge --seq.
		run(t, cmdutil.ExitUsage, "stream", "rmm", "ORDERS", "1")
		run(t, 0, "stream", "rmm", "ORDERS", "1", "--force")
		if i = streamInfo(t, "ORDERS"); i.State.Msgs != 4 {
			t.Fatalf("after rmm: %+v", i.State)
		}
		run(t, 0, "stream", "purge", "ORDERS", "--subject", "orders.new", "--keep", "1", "--force")
		if i = streamInfo(t, "ORDERS"); i.State.Msgs != 3 {
			t.Fatalf("after purge --keep: %+v", i.State)
		}
		run(t, 0, "stream", "purge", "ORDERS", "--seq", "5", "--force")
		if i = streamInfo(t, "ORDERS"); i.State.Msgs != 1 || i.State.FirstSeq != 5 {
			t.Fatalf("after purge --seq: %+v", i.State)
		}

		// edit: refused without --force off a terminal, shown with --dry-run.
		r = run(t, cmdutil.ExitUsage, "stream", "edit", "ORDERS", "--max-msgs", "100")
		if !strings.Contains(r.Stderr, "--force") || !strings.Contains(r.Stderr, `+   "max_msgs": 100`) {
			t.Fatalf("edit without --force: %s", r.Stderr)
		}
		run(t, 0, "stream", "edit", "ORDERS", "--max-msgs", "100", "--dry-run")
		if i = streamInfo(t, "ORDERS"); i.Config.MaxMsgs != -1 {
			t.Fatalf("dry run changed the stream: %+v", i.Config)
		}
		run(t, 0, "stream", "edit", "ORDERS", "--max-msgs", "100", "--force")
		if i = streamInfo(t, "ORDERS"); i.Config.MaxMsgs != 100 {
			t.Fatalf("edit: %+v", i.Config)
		}
		// On a terminal, the question is asked.
		r = clitest.RunWith(t, clitest.Opts{TTY: true, Answers: []any{false}}, "stream", "edit", "ORDERS", "--max-msgs", "50")
		clitest.ExpectCode(t, r, cmdutil.ExitCancelled)
		r = clitest.RunWith(t, clitest.Opts{TTY: true, Answers: []any{true}}, "stream", "edit", "ORDERS", "--max-msgs", "50")
		clitest.ExpectCode(t, r, 0)
		if i = streamInfo(t, "ORDERS"); i.Config.MaxMsgs != 50 {
			t.Fatalf("edit on a terminal: %+v", i.Config)
		}

		// copy and find.
		run(t, 0, "stream", "copy", "ORDERS", "ORDERS2", "--subjects", "orders2.*")
		if i = streamInfo(t, "ORDERS2"); i.Config.MaxMsgs != 50 || i.Config.Subjects[0] != "orders2.*" || i.State.Msgs != 0 {
			t.Fatalf("copy: %+v", i)
		}
		if r = run(t, 0, "stream", "find", "--empty", "--names"); r.Stdout != "ORDERS2\n" {
			t.Fatalf("find --empty: %q", r.Stdout)
		}
		if r = run(t, 0, "stream", "find", "--empty", "--invert", "--names"); r.Stdout != "ORDERS\n" {
			t.Fatalf("find --invert: %q", r.Stdout)
		}

		// seal, then rm.
		run(t, 0, "stream", "seal", "ORDERS2", "--force")
		if i = streamInfo(t, "ORDERS2"); !i.Config.Sealed {
			t.Fatalf("seal: %+v", i.Config)
		}
		run(t, cmdutil.ExitUsage, "stream", "rm", "ORDERS2")
		run(t, 0, "stream", "rm", "ORDERS2", "-f")
		run(t, cmdutil.ExitNotFound, "stream", "info", "ORDERS2")
		if r = run(t, 0, "stream", "ls", "--names"); r.Stdout != "ORDERS\n" {
			t.Fatalf("after rm: %q", r.Stdout)
		}
	})
}

func TestStreamAddConfigAndPrompts(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		dir := t.TempDir()
		file := filepath.Join(dir, "s.json")
		// --output saves and creates nothing.
		run(t, 0, "stream", "add", "CFG", "--subjects", "cfg.>", "--max-msgs-per-subject", "5", "--defaults", "--output", file)
		run(t, cmdutil.ExitNotFound, "stream", "info", "CFG")
		// The file natscli would write creates the stream; flags win over it.
		run(t, 0, "stream", "add", "CFG2", "--config", file, "--description", "from file")
		var i info
		decode(t, run(t, 0, "stream", "info", "CFG2", "--json").Stdout, &i)
		if i.Config.Subjects[0] != "cfg.>" || i.Config.Name != "CFG2" {
			t.Fatalf("--config: %+v", i.Config)
		}
		run(t, 0, "stream", "rm", "CFG2", "-f")

		// On a terminal, what flags leave out is asked.
		answers := []any{"ask.>", "memory", "1", "Work Queue", "New", "10", "-1", "1KB", "1h", "-1", "1m", false, false, true}
		r := clitest.RunWith(t, clitest.Opts{TTY: true, Answers: answers}, "stream", "add", "ASK")
		clitest.ExpectCode(t, r, 0)
		i = streamInfo(t, "ASK")
		if i.Config.Subjects[0] != "ask.>" || i.Config.Storage != "memory" || i.Config.Retention != "workqueue" ||
			i.Config.Discard != "new" || i.Config.MaxMsgs != 10 || i.Config.MaxBytes != 1024 || !i.Config.DenyDelete {
			t.Fatalf("prompted config: %+v", i.Config)
		}
		// --defaults asks nothing but the name.
		r = clitest.RunWith(t, clitest.Opts{TTY: true, Answers: []any{"DEF"}}, "stream", "add", "--subjects", "def", "--defaults")
		clitest.ExpectCode(t, r, 0)
		if i = streamInfo(t, "DEF"); i.Config.Storage != "file" || i.Config.Dupes != 120e9 {
			t.Fatalf("defaults: %+v", i.Config)
		}
		// Not on a terminal: the name is required.
		r = run(t, cmdutil.ExitUsage, "stream", "add", "--subjects", "x")
		if !strings.Contains(r.Stderr, "STREAM argument is required") {
			t.Fatalf("stderr %s", r.Stderr)
		}
		// A mirror and a stream sourcing from two others; info shows their lag.
		nc := connect(t, url)
		publish(t, nc, "def", 2)
		run(t, 0, "stream", "add", "M", "--mirror", "DEF", "--defaults")
		run(t, 0, "stream", "add", "SRC", "--source", "DEF", "--source", `{"name":"ASK"}`, "--subjects", "src", "--defaults")
		testutil.CheckFor(t, 10*time.Second, 50*time.Millisecond, func() error {
			if i := streamInfo(t, "M"); i.State.Msgs != 2 {
				return fmt.Errorf("mirror holds %d", i.State.Msgs)
			}
			return nil
		})
		r = run(t, 0, "stream", "info", "M")
		if !strings.Contains(r.Stdout, "Mirror Information:") || !strings.Contains(r.Stdout, "Stream Name: DEF") {
			t.Fatalf("mirror info: %s", r.Stdout)
		}
		r = run(t, 0, "stream", "info", "SRC")
		if strings.Count(r.Stdout, "Source Information:") != 2 {
			t.Fatalf("source info: %s", r.Stdout)
		}
		if r = run(t, 0, "stream", "find", "--mirrored", "--names"); r.Stdout != "M\n" {
			t.Fatalf("find --mirrored: %q", r.Stdout)
		}
		if r = run(t, 0, "stream", "find", "--sourced", "--names"); r.Stdout != "SRC\n" {
			t.Fatalf("find --sourced: %q", r.Stdout)
		}
		run(t, 0, "stream", "edit", "M", "--no-mirror", "-f")
		if r = run(t, 0, "stream", "find", "--mirrored", "--names"); r.Stdout != "" {
			t.Fatalf("mirror not removed: %q", r.Stdout)
		}

		// The server refuses an overlap: exit 1, its words.
		r = run(t, cmdutil.ExitError, "stream", "add", "DUP", "--subjects", "def", "--defaults")
		if !strings.Contains(r.Stderr, "overlap") {
			t.Fatalf("overlap: %s", r.Stderr)
		}
	})
}

func TestStreamBadInput(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		run(t, 0, "stream", "add", "S", "--subjects", "s.>", "--defaults")
		bad := file(t, "bad.json", "{not json")
		for _, c := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"stream", "add", "X", "--storage", "disk"}, 2, `--storage must be file or memory, not "disk"`},
			{[]string{"stream", "add", "X", "--retention", "forever"}, 2, "--retention"},
			{[]string{"stream", "add", "X", "--discard", "all"}, 2, "--discard"},
			{[]string{"stream", "add", "X", "--max-age", "soon"}, 2, "--max-age"},
			{[]string{"stream", "add", "X", "--max-bytes", "lots"}, 2, "--max-bytes"},
			{[]string{"stream", "add", "X", "--max-msg-size", "8GB"}, 2, "--max-msg-size"},
			{[]string{"stream", "add", "X", "--replicas", "9"}, 2, "--replicas"},
			{[]string{"stream", "add", "X", "--subjects", "a..b"}, 2, "--subjects"},
			{[]string{"stream", "add", "X", "--compression", "zip"}, 2, "--compression"},
			{[]string{"stream", "add", "X", "--persist-mode", "lazy"}, 2, "--persist-mode"},
			{[]string{"stream", "add", "X", "--mirror", "S", "--subjects", "m"}, 2, "mirror"},
			{[]string{"stream", "add", "X", "--config", bad}, 2, "--config"},
			{[]string{"stream", "add", "X", "--config", "/nonexistent.json"}, 2, "--config"},
			{[]string{"stream", "add", "a.b", "--defaults"}, 2, "STREAM"},
			{[]string{"stream", "add", "X", "--discard-per-subject", "--defaults"}, 2, "--max-msgs-per-subject"},
			{[]string{"stream", "info"}, 2, "missing STREAM"},
			{[]string{"stream", "info", "NOPE"}, 4, `stream "NOPE" not found`},
			{[]string{"stream", "edit", "S"}, 2, "nothing to change"},
			{[]string{"stream", "edit", "S", "--retention", "x", "-f"}, 2, "--retention"},
			{[]string{"stream", "purge", "S", "--seq", "1", "--keep", "1", "-f"}, 2, "--seq and --keep"},
			{[]string{"stream", "purge", "S"}, 2, "--force"},
			{[]string{"stream", "get", "S", "zero"}, 2, "SEQUENCE"},
			{[]string{"stream", "get", "S", "1", "--last-for", "x"}, 2, "not both"},
			{[]string{"stream", "view", "S", "99"}, 2, "PAGE_SIZE"},
			{[]string{"stream", "subjects", "S", "--sort", "size"}, 2, "--sort"},
			{[]string{"stream", "find", "--server-name", "("}, 2, "--server-name"},
			{[]string{"stream", "rmm", "S", "0", "-f"}, 2, "SEQUENCE"},
			{[]string{"stream", "copy", "S", "bad name"}, 2, "DESTINATION"},
			{[]string{"stream", "cluster", "step-down", "S"}, 1, "not replicated"},
			{[]string{"stream", "frob"}, 2, "unknown command"},
		} {
			r := clitest.Run(t, c.args...)
			if r.Code != c.code || !strings.Contains(r.Stderr, c.want) || strings.Count(strings.TrimSpace(r.Stderr), "\n") > 0 {
				t.Errorf("%v: exit %d, stderr %q; want exit %d and %q on one line", c.args, r.Code, r.Stderr, c.code, c.want)
			}
		}
		// Nothing changed on the server.
		if r := run(t, 0, "stream", "ls", "--names"); r.Stdout != "S\n" {
			t.Fatalf("streams after bad input: %q", r.Stdout)
		}
	})
}

func file(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
