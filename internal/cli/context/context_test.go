package contextcmd_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/natscontext"
)

func fileFields(t *testing.T, store *natscontext.Store, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(store.Path(name))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func expectCode(t *testing.T, r clitest.Result, code int) {
	t.Helper()
	if r.Code != code {
		t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.Code, code, r.Stdout, r.Stderr)
	}
}

func TestAddCreatesNatscliFileAndSelects(t *testing.T) {
	store := clitest.Isolate(t)
	r := clitest.Run(t, "context", "add", "dev", "--server", "nats://127.0.0.1:4333", "--description", "local", "--select")
	expectCode(t, r, 0)
	if r.Stdout != "" {
		t.Errorf("add wrote to stdout: %q", r.Stdout)
	}
	if !strings.Contains(r.Stderr, `Created context "dev"`) || !strings.Contains(r.Stderr, `Selected context "dev"`) {
		t.Errorf("stderr: %s", r.Stderr)
	}
	m := fileFields(t, store, "dev")
	if m["url"] != "nats://127.0.0.1:4333" || m["description"] != "local" {
		t.Fatalf("file: %v", m)
	}
	for _, k := range natscontext.Keys() {
		if _, ok := m[k]; !ok {
			t.Errorf("file lacks natscli key %q", k)
		}
	}
	if sel, _ := store.Selected(); sel != "dev" {
		t.Fatalf("selected %q", sel)
	}
}

func TestAddUpdatesOnlyWhatIsGiven(t *testing.T) {
	store := clitest.Isolate(t)
	expectCode(t, clitest.Run(t, "context", "add", "prod", "--server", "nats://p:4222", "--user", "app", "--password", "pw", "--js-domain", "hub"), 0)
	// Switching to creds replaces user/password instead of failing.
	expectCode(t, clitest.Run(t, "context", "add", "prod", "--creds", "/keys/prod.creds"), 0)
	m := fileFields(t, store, "prod")
	if m["url"] != "nats://p:4222" || m["jetstream_domain"] != "hub" || m["creds"] != "/keys/prod.creds" {
		t.Fatalf("update lost settings: %v", m)
	}
	if m["user"] != "" || m["password"] != "" {
		t.Fatalf("old credentials kept: %v", m)
	}
	// natscli: --user without --password is stored as a token.
	expectCode(t, clitest.Run(t, "context", "add", "tok", "--user", "s3cret"), 0)
	if m := fileFields(t, store, "tok"); m["token"] != "s3cret" || m["user"] != "" {
		t.Fatalf("token: %v", m)
	}
	// Values from the environment are stored too.
	t.Setenv("NATS_URL", "nats://from-env:1")
	expectCode(t, clitest.Run(t, "context", "add", "envctx"), 0)
	if m := fileFields(t, store, "envctx"); m["url"] != "nats://from-env:1" {
		t.Fatalf("env: %v", m)
	}
}

func TestAddEmbedsCredentials(t *testing.T) {
	store := clitest.Isolate(t)
	p := filepath.Join(t.TempDir(), "u.nk")
	os.WriteFile(p, []byte("SUAIBDPBAUTWCWBKIO6XHQNINK5FWJW4OHLXC3HQ2KFE4PEJUA44CNHTC4"), 0o600)
	expectCode(t, clitest.Run(t, "context", "add", "e", "--nkey", p, "--embed"), 0)
	if m := fileFields(t, store, "e"); !strings.HasPrefix(m["nkey"].(string), "data:;base64,") {
		t.Fatalf("not embedded: %v", m["nkey"])
	}
}

func TestAddUsageErrors(t *testing.T) {
	clitest.Isolate(t)
	r := clitest.Run(t, "context", "add")
	expectCode(t, r, cmdutil.ExitUsage)
	if strings.TrimSpace(r.Stderr) != "sluice: NAME argument is required" {
		t.Fatalf("stderr: %q", r.Stderr)
	}
	r = clitest.Run(t, "context", "add", "a/b")
	expectCode(t, r, cmdutil.ExitUsage)
	r = clitest.Run(t, "context", "add", "x", "--bogus")
	expectCode(t, r, cmdutil.ExitUsage)
	if !strings.Contains(r.Stderr, "unknown flag: --bogus") {
		t.Fatalf("stderr: %q", r.Stderr)
	}
}

func TestAddPromptsOnATerminal(t *testing.T) {
	store := clitest.Isolate(t)
	stub := &cmdutil.PromptStub{Answers: []any{"lab", "nats://lab:4222"}}
	r := clitest.RunWith(t, clitest.Opts{TTY: true, Prompter: stub}, "context", "add")
	expectCode(t, r, 0)
	if len(stub.Asked) != 2 {
		t.Fatalf("asked %q", stub.Asked)
	}
	if m := fileFields(t, store, "lab"); m["url"] != "nats://lab:4222" {
		t.Fatalf("file: %v", m)
	}
}

func TestLsTableJSONAndNames(t *testing.T) {
	clitest.Isolate(t)
	r := clitest.Run(t, "context", "ls")
	expectCode(t, r, 0)
	if r.Stdout != "" || !strings.Contains(r.Stderr, "No contexts yet") {
		t.Fatalf("empty ls: %+v", r)
	}
	clitest.Run(t, "context", "add", "b", "--server", "nats://u:secret@b:1", "--description", "bee")
	clitest.Run(t, "context", "add", "a", "--server", "nats://a:1", "--select")

	r = clitest.Run(t, "context", "ls")
	expectCode(t, r, 0)
	for _, want := range []string{"a*", "nats://a:1", "bee", "nats://u:xxxxx@b:1"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.Stdout)
		}
	}
	if strings.Contains(r.Stdout, "secret") {
		t.Errorf("table shows a password:\n%s", r.Stdout)
	}

	r = clitest.Run(t, "context", "ls", "--json")
	expectCode(t, r, 0)
	var list []map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil {
		t.Fatalf("json: %v\n%s", err, r.Stdout)
	}
	if len(list) != 2 || list[0]["name"] != "a" || list[1]["description"] != "bee" {
		t.Fatalf("json: %v", list)
	}

	r = clitest.Run(t, "context", "ls", "--names")
	if r.Stdout != "a\nb\n" {
		t.Fatalf("names: %q", r.Stdout)
	}
}

func TestSelectUnselectPrevious(t *testing.T) {
	store := clitest.Isolate(t)
	clitest.Run(t, "context", "add", "a")
	clitest.Run(t, "context", "add", "b")

	expectCode(t, clitest.Run(t, "context", "select", "a"), 0)
	expectCode(t, clitest.Run(t, "context", "select", "b"), 0)
	r := clitest.Run(t, "context", "previous")
	expectCode(t, r, 0)
	if sel, _ := store.Selected(); sel != "a" {
		t.Fatalf("after previous: %q", sel)
	}
	expectCode(t, clitest.Run(t, "context", "-"), 0) // natscli's alias
	if sel, _ := store.Selected(); sel != "b" {
		t.Fatalf("after -: %q", sel)
	}
	r = clitest.Run(t, "context", "unselect")
	expectCode(t, r, 0)
	if sel, _ := store.Selected(); sel != "" || !strings.Contains(r.Stderr, `Unselected context "b"`) {
		t.Fatalf("after unselect: %q, %s", sel, r.Stderr)
	}

	r = clitest.Run(t, "context", "select", "nope")
	expectCode(t, r, cmdutil.ExitNotFound)
	if !strings.Contains(r.Stderr, `context "nope" not found; list contexts with 'sluice context ls'`) {
		t.Fatalf("stderr: %s", r.Stderr)
	}
	r = clitest.Run(t, "context", "select")
	expectCode(t, r, cmdutil.ExitUsage)

	r = clitest.RunWith(t, clitest.Opts{TTY: true, Answers: []any{"a"}}, "context", "select")
	expectCode(t, r, 0)
	if sel, _ := store.Selected(); sel != "a" {
		t.Fatalf("prompted select: %q", sel)
	}
}

func TestPreviousWithoutHistory(t *testing.T) {
	clitest.Isolate(t)
	r := clitest.Run(t, "context", "previous")
	expectCode(t, r, cmdutil.ExitNotFound)
	if !strings.Contains(r.Stderr, "there is no previous context; select one") {
		t.Fatalf("stderr: %s", r.Stderr)
	}
}

func TestInfo(t *testing.T) {
	clitest.Isolate(t)
	r := clitest.Run(t, "context", "info")
	expectCode(t, r, cmdutil.ExitNotFound)

	clitest.Run(t, "context", "add", "dev", "--server", "nats://d:1", "--user", "bob", "--password", "hunter2", "--select")
	r = clitest.Run(t, "context", "info")
	expectCode(t, r, 0)
	for _, want := range []string{`Context "dev" (selected)`, "Server URLs: nats://d:1", "Username: bob", "Password: *******", "Path: "} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("info lacks %q:\n%s", want, r.Stdout)
		}
	}
	if strings.Contains(r.Stdout, "hunter2") {
		t.Errorf("info shows the password")
	}

	r = clitest.Run(t, "context", "info", "dev", "--json")
	expectCode(t, r, 0)
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &m); err != nil {
		t.Fatal(err)
	}
	if m["name"] != "dev" || m["user"] != "bob" || m["url"] != "nats://d:1" {
		t.Fatalf("json: %v", m)
	}
}

func TestRmConfirms(t *testing.T) {
	store := clitest.Isolate(t)
	clitest.Run(t, "context", "add", "a", "--select")

	r := clitest.Run(t, "context", "rm", "a")
	expectCode(t, r, cmdutil.ExitUsage)
	if !strings.Contains(r.Stderr, "--force") || !store.Exists("a") {
		t.Fatalf("rm without --force: %s", r.Stderr)
	}
	r = clitest.RunWith(t, clitest.Opts{TTY: true, Answers: []any{false}}, "context", "rm", "a")
	expectCode(t, r, cmdutil.ExitCancelled)
	if !store.Exists("a") {
		t.Fatal("declined rm removed the context")
	}
	stub := &cmdutil.PromptStub{Answers: []any{true}}
	r = clitest.RunWith(t, clitest.Opts{TTY: true, Prompter: stub}, "context", "rm", "a")
	expectCode(t, r, 0)
	if store.Exists("a") || !strings.Contains(stub.Asked[0], "selected context") {
		t.Fatalf("rm: %q", stub.Asked)
	}
	if sel, _ := store.Selected(); sel != "" {
		t.Fatalf("selection kept: %q", sel)
	}
	clitest.Run(t, "context", "add", "b")
	expectCode(t, clitest.Run(t, "context", "rm", "b", "--force"), 0)
	expectCode(t, clitest.Run(t, "context", "rm", "b", "-f"), cmdutil.ExitNotFound)
}

func TestCopy(t *testing.T) {
	store := clitest.Isolate(t)
	clitest.Run(t, "context", "add", "prod", "--server", "nats://p:1", "--token", "t", "--description", "prod")
	expectCode(t, clitest.Run(t, "context", "copy", "prod", "prod2", "--server", "nats://p2:1", "--select"), 0)
	m := fileFields(t, store, "prod2")
	if m["url"] != "nats://p2:1" || m["token"] != "t" || m["description"] != "prod" {
		t.Fatalf("copy: %v", m)
	}
	if sel, _ := store.Selected(); sel != "prod2" {
		t.Fatalf("selected %q", sel)
	}
	expectCode(t, clitest.Run(t, "context", "cp", "prod", "prod2"), cmdutil.ExitError)
	expectCode(t, clitest.Run(t, "context", "cp", "nope", "x"), cmdutil.ExitNotFound)
	expectCode(t, clitest.Run(t, "context", "cp", "prod"), cmdutil.ExitUsage)
}

func TestEditWithEditor(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses a shell script as the editor")
	}
	store := clitest.Isolate(t)
	clitest.Run(t, "context", "add", "dev", "--server", "nats://old:1")
	// An unknown field must survive editing.
	data, _ := os.ReadFile(store.Path("dev"))
	data = append(data[:len(data)-1], []byte(",\"x_extra\": 42}")...)
	os.WriteFile(store.Path("dev"), data, 0o600)

	editor := filepath.Join(t.TempDir(), "ed.sh")
	os.WriteFile(editor, []byte("#!/bin/sh\nsed 's#nats://old:1#nats://new:2#' \"$1\" > \"$1.tmp\" && mv \"$1.tmp\" \"$1\"\n"), 0o700)
	t.Setenv("VISUAL", "")
	t.Setenv("EDITOR", editor)
	r := clitest.Run(t, "context", "edit", "dev")
	expectCode(t, r, 0)
	m := fileFields(t, store, "dev")
	if m["url"] != "nats://new:2" || m["x_extra"] != float64(42) {
		t.Fatalf("edited: %v", m)
	}

	// An edit that breaks the JSON is refused and nothing is saved.
	bad := filepath.Join(t.TempDir(), "bad.sh")
	os.WriteFile(bad, []byte("#!/bin/sh\necho '{broken' > \"$1\"\n"), 0o700)
	t.Setenv("EDITOR", bad)
	r = clitest.Run(t, "context", "edit", "dev")
	expectCode(t, r, cmdutil.ExitError)
	if !strings.Contains(r.Stderr, "nothing was saved; your edit is in") {
		t.Fatalf("stderr: %s", r.Stderr)
	}
	if m := fileFields(t, store, "dev"); m["url"] != "nats://new:2" {
		t.Fatalf("broken edit saved: %v", m)
	}
	// No change: nothing is written.
	t.Setenv("EDITOR", "true")
	r = clitest.Run(t, "context", "edit", "dev")
	expectCode(t, r, 0)
	if !strings.Contains(r.Stderr, "No changes") {
		t.Fatalf("stderr: %s", r.Stderr)
	}
}

// TestNatscliContextFilesWork uses files in natscli's exact form.
func TestNatscliContextFilesWork(t *testing.T) {
	store := clitest.Isolate(t)
	for _, n := range []string{"prod", "edge"} {
		src, err := os.ReadFile(filepath.Join("..", "..", "natscontext", "testdata", "natscli", n+".json"))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(store.Dir(), 0o700)
		os.WriteFile(store.Path(n), src, 0o600)
	}
	// natscli writes the selection without a newline.
	os.WriteFile(store.SelectionPath(), []byte("prod"), 0o600)

	r := clitest.Run(t, "context", "ls", "--json")
	expectCode(t, r, 0)
	var list []map[string]any
	json.Unmarshal([]byte(r.Stdout), &list)
	if len(list) != 2 || list[0]["name"] != "edge" || list[1]["jetstream_domain"] != "hub" {
		t.Fatalf("ls: %v", list)
	}
	r = clitest.Run(t, "context", "info")
	expectCode(t, r, 0)
	if !strings.Contains(r.Stdout, `Context "prod" (selected)`) || !strings.Contains(r.Stdout, "JS Domain: hub") {
		t.Fatalf("info:\n%s", r.Stdout)
	}
	// Updating through sluice keeps the file in natscli's form.
	before, _ := os.ReadFile(store.Path("prod"))
	expectCode(t, clitest.Run(t, "context", "add", "prod", "--description", "Production cluster"), 0)
	after, _ := os.ReadFile(store.Path("prod"))
	if string(before) != string(after) {
		t.Fatalf("a no-op update changed natscli's file:\n%s\n---\n%s", before, after)
	}
}

func TestValidateOffline(t *testing.T) {
	clitest.Isolate(t)
	clitest.Run(t, "context", "add", "good", "--token", "t")
	clitest.Run(t, "context", "add", "bad", "--creds", "/no/such.creds")
	r := clitest.Run(t, "context", "validate", "--no-connect", "--json")
	expectCode(t, r, cmdutil.ExitError)
	var res []map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &res); err != nil {
		t.Fatalf("%v\n%s", err, r.Stdout)
	}
	if len(res) != 2 || res[0]["name"] != "bad" || res[0]["valid"] != false || res[1]["valid"] != true {
		t.Fatalf("results: %v", res)
	}
	if !strings.Contains(r.Stderr, "1 of 2 context(s) failed validation") {
		t.Fatalf("stderr: %s", r.Stderr)
	}
	r = clitest.Run(t, "context", "validate", "good", "--no-connect")
	expectCode(t, r, 0)
	if !strings.Contains(r.Stdout, "good") {
		t.Fatalf("table:\n%s", r.Stdout)
	}
}

func TestRmWithoutNameAsksWhichOnATerminal(t *testing.T) {
	store := clitest.Isolate(t)
	r := clitest.Run(t, "context", "rm")
	expectCode(t, r, cmdutil.ExitNotFound)
	if !strings.Contains(r.Stderr, "there are no contexts") {
		t.Fatalf("rm with no contexts: %s", r.Stderr)
	}
	clitest.Run(t, "context", "add", "a")
	clitest.Run(t, "context", "add", "b")

	r = clitest.Run(t, "context", "rm")
	expectCode(t, r, cmdutil.ExitUsage)
	if r.Stderr != "sluice: NAME argument is required: sluice context rm NAME\n" {
		t.Fatalf("rm without NAME off a terminal: %q", r.Stderr)
	}
	// Off a terminal even --force does not guess which one.
	expectCode(t, clitest.Run(t, "context", "rm", "--force"), cmdutil.ExitUsage)

	stub := &cmdutil.PromptStub{Answers: []any{"b", true}}
	r = clitest.RunWith(t, clitest.Opts{TTY: true, Prompter: stub}, "context", "rm")
	expectCode(t, r, 0)
	if store.Exists("b") || !store.Exists("a") {
		t.Fatalf("picked b, store has a=%v b=%v", store.Exists("a"), store.Exists("b"))
	}
	if len(stub.Asked) != 2 || stub.Asked[0] != "Context to remove:" || !strings.Contains(stub.Asked[1], `Remove context "b"?`) {
		t.Fatalf("questions: %q", stub.Asked)
	}
}

func TestCopyAsksForMissingNames(t *testing.T) {
	store := clitest.Isolate(t)
	clitest.Run(t, "context", "add", "prod", "--server", "nats://p:1")

	r := clitest.Run(t, "context", "cp")
	expectCode(t, r, cmdutil.ExitUsage)
	if !strings.Contains(r.Stderr, "SOURCE and NAME arguments are required") {
		t.Fatalf("cp without arguments: %s", r.Stderr)
	}
	r = clitest.Run(t, "context", "cp", "prod")
	expectCode(t, r, cmdutil.ExitUsage)
	if r.Stderr != "sluice: NAME argument is required\n" {
		t.Fatalf("cp without NAME: %q", r.Stderr)
	}
	// A missing source is reported before anything is asked.
	r = clitest.RunWith(t, clitest.Opts{TTY: true}, "context", "cp", "nope")
	expectCode(t, r, cmdutil.ExitNotFound)

	stub := &cmdutil.PromptStub{Answers: []any{"prod", "prod-copy"}}
	r = clitest.RunWith(t, clitest.Opts{TTY: true, Prompter: stub}, "context", "cp")
	expectCode(t, r, 0)
	if m := fileFields(t, store, "prod-copy"); m["url"] != "nats://p:1" {
		t.Fatalf("copy: %v", m)
	}
	if len(stub.Asked) != 2 || stub.Asked[0] != "Context to copy:" || stub.Asked[1] != "Name of the copy:" {
		t.Fatalf("questions: %q", stub.Asked)
	}
}
