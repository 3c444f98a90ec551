package pubcmd_test

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	pubcmd "github.com/sluicehq/sluice/internal/cli/pub"
)

// listen subscribes with nats.go so the test sees what pub sent.
func listen(t *testing.T, url, subject string) *nats.Subscription {
	t.Helper()
	nc := clitest.Connect(t, url)
	sub, err := nc.SubscribeSync(subject)
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return sub
}

func next(t *testing.T, sub *nats.Subscription) *nats.Msg {
	t.Helper()
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatalf("no message on %s: %v", sub.Subject, err)
	}
	return m
}

func TestPubBodyHeadersReply(t *testing.T) {
	url := clitest.Serve(t).URL
	sub := listen(t, url, "orders.new")
	r := clitest.Run(t, "pub", "orders.new", `{"id":1}`, "-H", "Nats-Msg-Id:abc", "-H", "Source: cli ", "--reply", "answers.here")
	clitest.ExpectCode(t, r, 0)
	if r.Stdout != "" || r.Stderr != "Published 8 bytes to \"orders.new\"\n" {
		t.Fatalf("stdout %q stderr %q", r.Stdout, r.Stderr)
	}
	m := next(t, sub)
	if string(m.Data) != `{"id":1}` || m.Reply != "answers.here" || m.Header.Get("Nats-Msg-Id") != "abc" || m.Header.Get("Source") != "cli" {
		t.Fatalf("got %q reply %q headers %v", m.Data, m.Reply, m.Header)
	}
}

func TestPubCountAndTemplates(t *testing.T) {
	url := clitest.Serve(t).URL
	sub := listen(t, url, "t.>")
	r := clitest.Run(t, "pub", "t.{{Count}}", "n={{Count}} r={{Random 4 4}}", "--count", "3", "--sleep", "1ms", "-H", "N:{{Cnt}}")
	clitest.ExpectCode(t, r, 0)
	for i := 1; i <= 3; i++ {
		m := next(t, sub)
		want := fmt.Sprintf("n=%d r=", i)
		if m.Subject != fmt.Sprintf("t.%d", i) || !strings.HasPrefix(string(m.Data), want) || len(m.Data) != len(want)+4 ||
			m.Header.Get("N") != fmt.Sprint(i) {
			t.Fatalf("message %d: %s %q %v", i, m.Subject, m.Data, m.Header)
		}
	}
	if !strings.Contains(r.Stderr, `Published 3 messages (`) {
		t.Fatalf("stderr: %s", r.Stderr)
	}
	// --templates=false sends the text as it is.
	clitest.ExpectCode(t, clitest.Run(t, "pub", "t.x", "{{Count}}", "--templates=false"), 0)
	if m := next(t, sub); string(m.Data) != "{{Count}}" {
		t.Fatalf("literal: %q", m.Data)
	}
}

func TestPubStdin(t *testing.T) {
	url := clitest.Serve(t).URL
	sub := listen(t, url, "in")
	r := clitest.RunWith(t, clitest.Opts{Stdin: "whole\ninput\n"}, "pub", "in")
	clitest.ExpectCode(t, r, 0)
	if m := next(t, sub); string(m.Data) != "whole\ninput\n" {
		t.Fatalf("eof body: %q", m.Data)
	}
	r = clitest.RunWith(t, clitest.Opts{Stdin: "a\nb\n"}, "pub", "in", "--send-on", "newline", "--count", "2")
	clitest.ExpectCode(t, r, 0)
	for _, want := range []string{"a", "a", "b", "b"} {
		if m := next(t, sub); string(m.Data) != want {
			t.Fatalf("got %q, want %q", m.Data, want)
		}
	}
}

func TestPubJSONAndQuiet(t *testing.T) {
	url := clitest.Serve(t).URL
	sub := listen(t, url, "j")
	r := clitest.Run(t, "pub", "j", "12345", "--count", "4", "--json")
	clitest.ExpectCode(t, r, 0)
	var res pubcmd.Result
	if err := json.Unmarshal([]byte(r.Stdout), &res); err != nil {
		t.Fatalf("%v: %s", err, r.Stdout)
	}
	if res.Subject != "j" || res.Messages != 4 || res.Bytes != 20 || res.Duration <= 0 || r.Stderr != "" {
		t.Fatalf("result %+v, stderr %q", res, r.Stderr)
	}
	r = clitest.Run(t, "pub", "j", "x", "--count", "2", "-q")
	clitest.ExpectCode(t, r, 0)
	if r.Stdout != "" || r.Stderr != "" {
		t.Fatalf("quiet printed %q %q", r.Stdout, r.Stderr)
	}
	for range 6 {
		next(t, sub)
	}
}

func TestPubTerminal(t *testing.T) {
	url := clitest.Serve(t).URL
	sub := listen(t, url, "asked")
	stub := &cmdutil.PromptStub{Answers: []any{"asked"}}
	r := clitest.RunWith(t, clitest.Opts{TTY: true, Prompter: stub, Stdin: "typed"}, "pub")
	clitest.ExpectCode(t, r, 0)
	if len(stub.Asked) != 1 || !strings.Contains(r.Stderr, "Reading the message body from stdin; end it with Ctrl-D") {
		t.Fatalf("asked %q, stderr %s", stub.Asked, r.Stderr)
	}
	if m := next(t, sub); string(m.Data) != "typed" {
		t.Fatalf("body %q", m.Data)
	}
	// Many messages draw a progress bar on a terminal, and only there.
	r = clitest.RunWith(t, clitest.Opts{TTY: true}, "pub", "asked", "x", "--count", "50")
	clitest.ExpectCode(t, r, 0)
	if !strings.Contains(r.Stderr, "Publishing") {
		t.Fatalf("no progress on a terminal: %s", r.Stderr)
	}
	r = clitest.Run(t, "pub", "asked", "x", "--count", "50")
	if strings.Contains(r.Stderr, "Publishing") || strings.Count(r.Stderr, "\n") != 1 {
		t.Fatalf("progress off a terminal: %s", r.Stderr)
	}
}

func TestPubErrors(t *testing.T) {
	clitest.Serve(t)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"pub"}, cmdutil.ExitUsage, "sluice: SUBJECT argument is required\n"},
		{[]string{"pub", "a.*", "x"}, cmdutil.ExitUsage, `cannot publish to "a.*": it holds the wildcard "*"`},
		{[]string{"pub", "a b", "x"}, cmdutil.ExitUsage, "may not contain whitespace"},
		{[]string{"pub", "a", "x", "--count", "0"}, cmdutil.ExitUsage, "--count must be at least 1, not 0"},
		{[]string{"pub", "a", "--send-on", "tab"}, cmdutil.ExitUsage, `--send-on must be eof or newline, not "tab"`},
		{[]string{"pub", "a", "{{Nope}}"}, cmdutil.ExitUsage, `bad template "{{Nope}}"`},
		{[]string{"pub", "a", "x", "-H", "NoColon"}, cmdutil.ExitUsage, `invalid header "NoColon": write it as Key:Value`},
		{[]string{"pub", "a", "x", "--reply", "r.>"}, cmdutil.ExitUsage, "--reply: cannot publish to"},
		{[]string{"pub", "a", "x", "y"}, cmdutil.ExitUsage, "takes at most 2 argument(s)"},
		{[]string{"pub", "a.{{Random 0 0}}.b", "x"}, cmdutil.ExitError, "empty token"},
	} {
		r := clitest.Run(t, c.args...)
		if r.Code != c.code || !strings.Contains(r.Stderr, c.want) || strings.Count(r.Stderr, "\n") != 1 {
			t.Errorf("%q: exit %d stderr %q; want %d and %q", c.args, r.Code, r.Stderr, c.code, c.want)
		}
	}
}

func TestPubCannotConnect(t *testing.T) {
	clitest.Isolate(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "nats://" + l.Addr().String()
	l.Close()
	r := clitest.Run(t, "pub", "a", "x", "-s", url)
	clitest.ExpectCode(t, r, cmdutil.ExitConnect)
	if !strings.HasPrefix(r.Stderr, "sluice: cannot connect to "+url+": connection refused; check that the server is running") {
		t.Fatalf("stderr: %s", r.Stderr)
	}
	// Without any server setting the hint says how to choose one.
	r = clitest.Run(t, "pub", "a", "x")
	if r.Code != cmdutil.ExitConnect || !strings.Contains(r.Stderr, "choose one with --server, $NATS_URL or 'sluice context select'") {
		t.Fatalf("default: %d %s", r.Code, r.Stderr)
	}
}

func TestPubFlags(t *testing.T) {
	io, _, _ := cmdutil.Test("")
	var got *pubcmd.Options
	cmd := pubcmd.NewCmd(&cmdutil.Factory{IO: io}, func(o *pubcmd.Options) error { got = o; return nil })
	cmd.SetArgs([]string{"s", "", "--count", "5", "--sleep", "2s", "-H", "a:b", "-H", "c:d", "--reply", "r", "--send-on", "newline", "-j"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Subject != "s" || got.Body != "" || !got.BodySet || got.Count != 5 || got.Sleep != 2*time.Second ||
		len(got.Headers) != 2 || got.Reply != "r" || got.SendOn != "newline" || !got.JSON || !got.Templates {
		t.Fatalf("%+v", got)
	}
}
