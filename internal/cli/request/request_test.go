package requestcmd_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/msgutil"
	requestcmd "github.com/sluicehq/sluice/internal/cli/request"
)

// respond answers requests on subject with what answer returns; a nil
// answer sends nothing.
func respond(t *testing.T, url, subject string, answer func(*nats.Msg) *nats.Msg) {
	t.Helper()
	nc := clitest.Connect(t, url)
	if _, err := nc.Subscribe(subject, func(m *nats.Msg) {
		if a := answer(m); a != nil {
			m.RespondMsg(a)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
}

// upper answers with the request body in capitals and its headers.
func upper(m *nats.Msg) *nats.Msg {
	a := nats.NewMsg(m.Reply)
	a.Data = []byte(strings.ToUpper(string(m.Data)))
	for k, v := range m.Header {
		a.Header[k] = v
	}
	a.Header.Set("Served-By", "upper")
	return a
}

func TestRequestPrintsReply(t *testing.T) {
	url := clitest.Serve(t).URL
	respond(t, url, "svc.upper", upper)
	r := clitest.Run(t, "request", "svc.upper", "hello {{Count}}", "-H", "Trace:on")
	clitest.ExpectCode(t, r, 0)
	if r.Stdout != "HELLO 1\n" {
		t.Fatalf("stdout %q", r.Stdout)
	}
	for _, want := range []string{`Sending request on "svc.upper"`, "Received with rtt ", "Served-By: upper\n", "Trace: on\n"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.Stderr)
		}
	}
	r = clitest.Run(t, "request", "svc.upper", "a", "--raw", "--count", "3")
	clitest.ExpectCode(t, r, 0)
	if r.Stdout != "A\nA\nA\n" || r.Stderr != "" {
		t.Fatalf("--raw --count 3: %q %q", r.Stdout, r.Stderr)
	}
	r = clitest.RunWith(t, clitest.Opts{Stdin: "x\ny\n"}, "request", "svc.upper", "--send-on", "newline", "--raw")
	clitest.ExpectCode(t, r, 0)
	if r.Stdout != "X\nY\n" {
		t.Fatalf("stdin lines: %q", r.Stdout)
	}
}

func TestRequestJSON(t *testing.T) {
	url := clitest.Serve(t).URL
	respond(t, url, "svc", upper)
	r := clitest.Run(t, "request", "svc", "json", "--json", "-H", "A:1")
	clitest.ExpectCode(t, r, 0)
	var m msgutil.Message
	if err := json.Unmarshal([]byte(r.Stdout), &m); err != nil {
		t.Fatalf("%v: %q", err, r.Stdout)
	}
	if m.Data != "JSON" || m.RTT <= 0 || m.Headers["A"][0] != "1" || m.Size != 4 || r.Stderr != "" {
		t.Fatalf("reply %+v, stderr %q", m, r.Stderr)
	}
}

func TestRequestManyReplies(t *testing.T) {
	url := clitest.Serve(t).URL
	for range 3 {
		respond(t, url, "all", upper)
	}
	lines := func(s string) int { return strings.Count(s, "\n") }
	r := clitest.Run(t, "request", "all", "x", "--replies", "0", "--timeout", "300ms", "--raw")
	clitest.ExpectCode(t, r, 0)
	if lines(r.Stdout) != 3 {
		t.Fatalf("--replies 0: %q", r.Stdout)
	}
	r = clitest.Run(t, "request", "all", "x", "--replies", "2", "--raw")
	clitest.ExpectCode(t, r, 0)
	if lines(r.Stdout) != 2 {
		t.Fatalf("--replies 2: %q", r.Stdout)
	}
	// Asking for more than arrive says so, and still succeeds.
	r = clitest.Run(t, "request", "all", "x", "--replies", "5", "--reply-timeout", "50ms")
	clitest.ExpectCode(t, r, 0)
	if lines(r.Stdout) != 3 || !strings.Contains(r.Stderr, "Received 3 of 5 replies") {
		t.Fatalf("--replies 5: %q %q", r.Stdout, r.Stderr)
	}
}

func TestRequestWaitForEmpty(t *testing.T) {
	url := clitest.Serve(t).URL
	nc := clitest.Connect(t, url)
	nc.Subscribe("stream", func(m *nats.Msg) {
		for _, part := range []string{"one", "two", ""} {
			nc.Publish(m.Reply, []byte(part))
		}
	})
	nc.Flush()
	r := clitest.Run(t, "request", "stream", "go", "--wait-for-empty", "--raw")
	clitest.ExpectCode(t, r, 0)
	if r.Stdout != "one\ntwo\n\n" {
		t.Fatalf("stdout %q", r.Stdout)
	}
}

func TestRequestNoRespondersAndTimeout(t *testing.T) {
	url := clitest.Serve(t).URL
	r := clitest.Run(t, "request", "nobody.home", "hi")
	clitest.ExpectCode(t, r, cmdutil.ExitNoResponders)
	if !strings.Contains(r.Stderr, "sluice: no responders on \"nobody.home\": nobody is subscribed to it; start one with 'sluice reply nobody.home'") {
		t.Fatalf("stderr %q", r.Stderr)
	}
	respond(t, url, "silent", func(*nats.Msg) *nats.Msg { return nil })
	r = clitest.Run(t, "request", "silent", "hi", "--timeout", "100ms", "--raw")
	clitest.ExpectCode(t, r, cmdutil.ExitTimeout)
	if r.Stderr != "sluice: no reply on \"silent\" within 100ms; the responder may be slow or stuck; raise --timeout\n" || r.Stdout != "" {
		t.Fatalf("stdout %q stderr %q", r.Stdout, r.Stderr)
	}
}

func TestRequestPromptsOnATerminal(t *testing.T) {
	url := clitest.Serve(t).URL
	respond(t, url, "asked", upper)
	stub := &cmdutil.PromptStub{Answers: []any{"asked"}}
	r := clitest.RunWith(t, clitest.Opts{TTY: true, Prompter: stub}, "request", "", "body")
	clitest.ExpectCode(t, r, 0)
	if r.Stdout != "BODY\n" || len(stub.Asked) != 1 {
		t.Fatalf("stdout %q asked %q", r.Stdout, stub.Asked)
	}
}

func TestRequestErrors(t *testing.T) {
	clitest.Serve(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"request"}, "sluice: SUBJECT argument is required\n"},
		{[]string{"request", "a.*", "x"}, `cannot publish to "a.*"`},
		{[]string{"request", "a", "x", "--count", "0"}, "--count must be at least 1, not 0"},
		{[]string{"request", "a", "x", "--replies", "-1"}, "--replies must not be negative"},
		{[]string{"request", "a", "x", "--raw", "--json"}, "choose one of --raw and --json"},
		{[]string{"request", "a", "--send-on", "x"}, `--send-on must be eof or newline, not "x"`},
		{[]string{"request", "a", "x", "-H", ":v"}, `invalid header ":v"`},
		{[]string{"request", "a", "{{Count"}, `bad template "{{Count"`},
		{[]string{"request", "a", "x", "--timeout", "0s"}, `--timeout must be positive`},
	} {
		r := clitest.Run(t, c.args...)
		if r.Code != cmdutil.ExitUsage || !strings.Contains(r.Stderr, c.want) || strings.Count(r.Stderr, "\n") != 1 {
			t.Errorf("%q: exit %d stderr %q; want 2 and %q", c.args, r.Code, r.Stderr, c.want)
		}
	}
}

func TestRequestFlags(t *testing.T) {
	io, _, _ := cmdutil.Test("")
	var got *requestcmd.Options
	cmd := requestcmd.NewCmd(&cmdutil.Factory{IO: io}, func(o *requestcmd.Options) error { got = o; return nil })
	cmd.SetArgs([]string{"s", "b", "--replies", "4", "--reply-timeout", "1s", "--wait-for-empty", "-r", "-H", "k:v", "--count", "2"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Subject != "s" || got.Body != "b" || got.Replies != 4 || got.ReplyTimeout != time.Second || !got.WaitForEmpty ||
		!got.Raw || len(got.Headers) != 1 || got.Count != 2 {
		t.Fatalf("%+v", got)
	}
}
