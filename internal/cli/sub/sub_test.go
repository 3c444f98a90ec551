package subcmd_test

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/msgutil"
	subcmd "github.com/sluicehq/sluice/internal/cli/sub"
	"github.com/sluicehq/sluice/internal/testutil"
)

// publish sends messages with nats.go and flushes them.
func publish(t *testing.T, nc *nats.Conn, msgs ...*nats.Msg) {
	t.Helper()
	for _, m := range msgs {
		if err := nc.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
}

func msg(subject, data string, hdr ...string) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Data = []byte(data)
	for i := 0; i+1 < len(hdr); i += 2 {
		m.Header.Add(hdr[i], hdr[i+1])
	}
	return m
}

func TestSubWildcardsAndCount(t *testing.T) {
	nc := clitest.Connect(t, clitest.Serve(t).URL)
	b := clitest.Start(t, "Subscribing on", "sub", "orders.*", "audit.>", "--count", "3")
	publish(t, nc, msg("orders.new", "one", "K", "v"), msg("other.z", "skipped"), msg("audit.a.b", "two"),
		&nats.Msg{Subject: "orders.cancel", Reply: "r.1"})
	r := b.Wait(10 * time.Second)
	clitest.ExpectCode(t, r, 0)
	want := "[#1] Received on \"orders.new\"\nK: v\n\none\n\n" +
		"[#2] Received on \"audit.a.b\"\ntwo\n\n" +
		"[#3] Received on \"orders.cancel\" with reply \"r.1\"\nnil body\n\n"
	if r.Stdout != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", r.Stdout, want)
	}
	if !strings.Contains(r.Stderr, "Subscribing on orders.*, audit.>, stopping after 3 message(s)") {
		t.Fatalf("stderr: %s", r.Stderr)
	}
}

func TestSubOutputModes(t *testing.T) {
	nc := clitest.Connect(t, clitest.Serve(t).URL)
	run := func(args ...string) string {
		t.Helper()
		b := clitest.Start(t, "Subscribing on m", append([]string{"sub", "m", "--count", "2"}, args...)...)
		publish(t, nc, msg("m", "body1", "H", "1"), msg("m", "body2"))
		r := b.Wait(10 * time.Second)
		clitest.ExpectCode(t, r, 0)
		return r.Stdout
	}
	if got := run("--raw"); got != "body1\nbody2\n" {
		t.Fatalf("--raw: %q", got)
	}
	if got := run("--headers-only"); got != "[#1] Received on \"m\"\nH: 1\n\n[#2] Received on \"m\"\n" {
		t.Fatalf("--headers-only: %q", got)
	}
	if got := run("--subjects-only"); got != "[#1] Received on \"m\"\n[#2] Received on \"m\"\n" {
		t.Fatalf("--subjects-only: %q", got)
	}
	got := run("--timestamp")
	if !regexp.MustCompile(`^\[#1\] @ \w{3} [ \d]\d \d\d:\d\d:\d\d\.\d{6} Received on "m"\n`).MatchString(got) {
		t.Fatalf("--timestamp: %q", got)
	}
	got = run("--delta-time")
	if !regexp.MustCompile(`^\[#1\] @ [\d.]+[µmn]?s Received on "m"\n`).MatchString(got) {
		t.Fatalf("--delta-time: %q", got)
	}
}

func TestSubJSONLines(t *testing.T) {
	nc := clitest.Connect(t, clitest.Serve(t).URL)
	b := clitest.Start(t, "Subscribing on", "sub", "j.>", "--count", "2", "--json", "--timestamp")
	publish(t, nc, msg("j.text", "héllo", "A", "1", "A", "2"), &nats.Msg{Subject: "j.bin", Reply: "re", Data: []byte{0xff, 0, 1}})
	r := b.Wait(10 * time.Second)
	clitest.ExpectCode(t, r, 0)
	sc := bufio.NewScanner(strings.NewReader(r.Stdout))
	var got []msgutil.Message
	for sc.Scan() {
		var m msgutil.Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		got = append(got, m)
	}
	if len(got) != 2 {
		t.Fatalf("lines: %q", r.Stdout)
	}
	a, bin := got[0], got[1]
	if a.Seq != 1 || a.Subject != "j.text" || a.Data != "héllo" || a.Size != 6 || len(a.Headers["A"]) != 2 || a.Received.IsZero() {
		t.Fatalf("first: %+v", a)
	}
	if bin.Seq != 2 || bin.Reply != "re" || bin.Data != "" || bin.DataBase64 != base64.StdEncoding.EncodeToString([]byte{0xff, 0, 1}) {
		t.Fatalf("binary: %+v", bin)
	}
}

func TestSubQueueGroupSharesMessages(t *testing.T) {
	nc := clitest.Connect(t, clitest.Serve(t).URL)
	a := clitest.Start(t, "Subscribing on", "sub", "work", "--queue", "workers", "--raw")
	b := clitest.Start(t, "Subscribing on", "sub", "work", "--queue", "workers", "--raw")
	for i := range 20 {
		publish(t, nc, msg("work", fmt.Sprint(i)))
	}
	lines := func() int { return strings.Count(a.Stdout(), "\n") + strings.Count(b.Stdout(), "\n") }
	testutil.CheckFor(t, 5*time.Second, 5*time.Millisecond, func() error {
		if n := lines(); n != 20 {
			return fmt.Errorf("%d of 20 delivered", n)
		}
		return nil
	})
	ra, rb := a.Stop(), b.Stop()
	clitest.ExpectCode(t, ra, 0)
	clitest.ExpectCode(t, rb, 0)
	if lines() != 20 {
		t.Fatalf("a queue group got each message once; a:\n%s\nb:\n%s", ra.Stdout, rb.Stdout)
	}
}

func TestSubWaitAndIgnore(t *testing.T) {
	nc := clitest.Connect(t, clitest.Serve(t).URL)
	b := clitest.Start(t, "Subscribing on", "sub", "w.>", "--wait", "200ms", "-I", "w.noise.*", "--raw")
	publish(t, nc, msg("w.noise.1", "skip"), msg("w.real", "keep"))
	r := b.Wait(10 * time.Second)
	clitest.ExpectCode(t, r, 0)
	if r.Stdout != "keep\n" {
		t.Fatalf("stdout %q", r.Stdout)
	}
}

func TestSubPromptsOnATerminal(t *testing.T) {
	nc := clitest.Connect(t, clitest.Serve(t).URL)
	stub := &cmdutil.PromptStub{Answers: []any{"asked"}}
	b := clitest.StartWith(t, clitest.Opts{TTY: true, Prompter: stub}, "Subscribing on asked", "sub", "--count", "1")
	publish(t, nc, msg("asked", "yes"))
	r := b.Wait(10 * time.Second)
	clitest.ExpectCode(t, r, 0)
	if !strings.Contains(r.Stdout, "yes") || len(stub.Asked) != 1 {
		t.Fatalf("stdout %q asked %q", r.Stdout, stub.Asked)
	}
}

func TestSubErrors(t *testing.T) {
	clitest.Serve(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sub"}, "sluice: SUBJECT argument is required\n"},
		{[]string{"sub", "a.>.b"}, "'>' may only be the last token"},
		{[]string{"sub", "a", "b..c"}, "empty token"},
		{[]string{"sub", "a", "--count", "-1"}, "--count must not be negative"},
		{[]string{"sub", "a", "--raw", "--json"}, "choose one of --raw, --json, --headers-only and --subjects-only"},
		{[]string{"sub", "a", "--wait", "soon"}, `invalid argument "soon" for "--wait"`},
	} {
		r := clitest.Run(t, c.args...)
		if r.Code != cmdutil.ExitUsage || !strings.Contains(r.Stderr, c.want) || strings.Count(r.Stderr, "\n") != 1 {
			t.Errorf("%q: exit %d stderr %q; want 2 and %q", c.args, r.Code, r.Stderr, c.want)
		}
	}
}

func TestSubFlags(t *testing.T) {
	io, _, _ := cmdutil.Test("")
	var got *subcmd.Options
	cmd := subcmd.NewCmd(&cmdutil.Factory{IO: io}, func(o *subcmd.Options) error { got = o; return nil })
	cmd.SetArgs([]string{"a", "b.*", "--queue", "q", "--count", "3", "-r", "-t", "--wait", "1s", "-I", "x", "-I", "y"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if len(got.Subjects) != 2 || got.Queue != "q" || got.Count != 3 || !got.Raw || !got.Timestamps ||
		got.Wait != time.Second || len(got.Ignore) != 2 {
		t.Fatalf("%+v", got)
	}
}
