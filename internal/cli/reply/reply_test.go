package replycmd_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/msgutil"
	replycmd "github.com/sluicehq/sluice/internal/cli/reply"
)

func request(t *testing.T, nc *nats.Conn, subject, body string, hdr ...string) *nats.Msg {
	t.Helper()
	m := nats.NewMsg(subject)
	m.Data = []byte(body)
	for i := 0; i+1 < len(hdr); i += 2 {
		m.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := nc.RequestMsg(m, 5*time.Second)
	if err != nil {
		t.Fatalf("request %s: %v", subject, err)
	}
	return resp
}

func TestReplyEchoes(t *testing.T) {
	nc := clitest.Connect(t, clitest.Serve(t).URL)
	b := clitest.Start(t, "Listening on", "reply", "echo", "--count", "2")
	for i, body := range []string{"first", "second"} {
		resp := request(t, nc, "echo", body, "Trace", "t1")
		if string(resp.Data) != body || resp.Header.Get("Trace") != "t1" || resp.Header.Get("NATS-Reply-Counter") != []string{"1", "2"}[i] {
			t.Fatalf("reply %d: %q %v", i, resp.Data, resp.Header)
		}
	}
	r := b.Wait(10 * time.Second)
	clitest.ExpectCode(t, r, 0)
	if r.Stdout != "first\nsecond\n" {
		t.Fatalf("stdout %q", r.Stdout)
	}
	for _, want := range []string{"No body or --command given: echoing requests back", `Listening on "echo" in queue group "NATS-RPLY-22"`, `[#2] Received on "echo"`} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.Stderr)
		}
	}
}

func TestReplyStaticBodyWithTemplates(t *testing.T) {
	nc := clitest.Connect(t, clitest.Serve(t).URL)
	clitest.Start(t, "Listening on", "reply", "svc.*", "#{{Count}} got {{Request}}", "-H", "Server:{{Count}}", "--queue", "mine")
	resp := request(t, nc, "svc.a", "ping")
	if string(resp.Data) != "#1 got ping" || resp.Header.Get("Server") != "1" {
		t.Fatalf("reply %q %v", resp.Data, resp.Header)
	}
	if resp = request(t, nc, "svc.b", "again"); string(resp.Data) != "#2 got again" {
		t.Fatalf("second reply %q", resp.Data)
	}
}

func TestReplyRunsACommand(t *testing.T) {
	nc := clitest.Connect(t, clitest.Serve(t).URL)
	clitest.Start(t, "Listening on", "reply", "tool.>", "--command", `sh -c 'printf "%s:%s:" "$NATS_REQUEST_SUBJECT" {{1}}; tr a-z A-Z'`)
	if resp := request(t, nc, "tool.upper", "make me loud"); string(resp.Data) != "tool.upper:upper:MAKE ME LOUD" {
		t.Fatalf("reply %q", resp.Data)
	}
	b := clitest.Start(t, "Listening on", "reply", "fails", "--command", "sh -c 'echo broken >&2; exit 3'")
	if resp := request(t, nc, "fails", ""); string(resp.Data) != "broken\n" {
		t.Fatalf("a failing command still answers with its output: %q", resp.Data)
	}
	r := b.Stop()
	clitest.ExpectCode(t, r, 0)
	if !strings.Contains(r.Stderr, `sluice: request #1: command "sh" failed: exit status 3`) {
		t.Fatalf("stderr: %s", r.Stderr)
	}
}

func TestReplyJSONLines(t *testing.T) {
	nc := clitest.Connect(t, clitest.Serve(t).URL)
	b := clitest.Start(t, "Listening on", "reply", "j", "ok", "--json", "--count", "1")
	resp := request(t, nc, "j", "req")
	if string(resp.Data) != "ok" {
		t.Fatalf("reply %q", resp.Data)
	}
	r := b.Wait(10 * time.Second)
	clitest.ExpectCode(t, r, 0)
	var m msgutil.Message
	if err := json.Unmarshal([]byte(r.Stdout), &m); err != nil {
		t.Fatalf("%v: %q", err, r.Stdout)
	}
	if m.Seq != 1 || m.Subject != "j" || m.Data != "req" || !strings.HasPrefix(m.Reply, "_INBOX.") || strings.Contains(r.Stderr, "Received") {
		t.Fatalf("line %+v, stderr %q", m, r.Stderr)
	}
}

func TestReplyPromptsOnATerminal(t *testing.T) {
	nc := clitest.Connect(t, clitest.Serve(t).URL)
	stub := &cmdutil.PromptStub{Answers: []any{"asked"}}
	b := clitest.StartWith(t, clitest.Opts{TTY: true, Prompter: stub}, `Listening on "asked"`, "reply", "--count", "1")
	request(t, nc, "asked", "x")
	clitest.ExpectCode(t, b.Wait(10*time.Second), 0)
}

func TestReplyErrors(t *testing.T) {
	clitest.Serve(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"reply"}, "sluice: SUBJECT argument is required\n"},
		{[]string{"reply", "a..b"}, "empty token"},
		{[]string{"reply", "a", "body", "--echo"}, "choose one of BODY, --echo and --command"},
		{[]string{"reply", "a", "--echo", "--command", "date"}, "choose one of BODY, --echo and --command"},
		{[]string{"reply", "a", "--command", "sh -c 'oops"}, "--command: command \"sh -c 'oops\" has an unclosed single quote"},
		{[]string{"reply", "a", "--count", "-2"}, "--count must not be negative"},
		{[]string{"reply", "a", "{{Bad}}"}, `bad template "{{Bad}}"`},
		{[]string{"reply", "a", "-H", "x"}, `invalid header "x"`},
	} {
		r := clitest.Run(t, c.args...)
		if r.Code != cmdutil.ExitUsage || !strings.Contains(r.Stderr, c.want) || strings.Count(r.Stderr, "\n") > 2 {
			t.Errorf("%q: exit %d stderr %q; want 2 and %q", c.args, r.Code, r.Stderr, c.want)
		}
	}
}

func TestReplyFlags(t *testing.T) {
	io, _, _ := cmdutil.Test("")
	var got *replycmd.Options
	cmd := replycmd.NewCmd(&cmdutil.Factory{IO: io}, func(o *replycmd.Options) error { got = o; return nil })
	cmd.SetArgs([]string{"s", "--command", "date", "-q", "g", "--sleep", "1s", "--count", "3", "-H", "a:b"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Subject != "s" || got.Command != "date" || got.Queue != "g" || got.Sleep != time.Second || got.Count != 3 || len(got.Headers) != 1 {
		t.Fatalf("%+v", got)
	}
}
