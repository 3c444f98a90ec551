package benchcmd_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	benchcmd "github.com/sluicehq/sluice/internal/cli/bench"
	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/testutil"
)

// waitStderr waits until a background command has printed every want
// on stderr.
func waitStderr(t *testing.T, b *clitest.Background, want ...string) {
	t.Helper()
	testutil.CheckFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		for _, w := range want {
			if !strings.Contains(b.Stderr(), w) {
				return fmt.Errorf("stderr lacks %q:\n%s", w, b.Stderr())
			}
		}
		return nil
	})
}

func decode(t *testing.T, s string) benchcmd.Result {
	t.Helper()
	var r benchcmd.Result
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	return r
}

func TestPubAndSub(t *testing.T) {
	clitest.Serve(t)
	sub := clitest.Start(t, "[1] Starting", "bench", "sub", "demo", "--msgs", "3000", "--clients", "2", "--json")
	waitStderr(t, sub, "[2] Starting Core NATS subscriber, expecting 3,000 messages")

	r := clitest.Run(t, "bench", "pub", "demo", "--msgs", "3000", "--clients", "3", "--size", "16", "--json")
	clitest.ExpectCode(t, r, 0)
	pub := decode(t, r.Stdout)
	if pub.Kind != "pub" || pub.Subject != "demo" || pub.Messages != 3000 || pub.Bytes != 48000 || len(pub.Clients) != 3 {
		t.Fatalf("pub result: %+v", pub)
	}
	for _, c := range pub.Clients {
		if c.Messages != 1000 || c.MsgsPerSec <= 0 || c.Latency != nil {
			t.Fatalf("pub client: %+v", c)
		}
	}
	if pub.MsgRates == nil || pub.MsgRates.Min > pub.MsgRates.Max {
		t.Fatalf("spread: %+v", pub.MsgRates)
	}
	if !strings.Contains(r.Stderr, "Starting Core NATS publisher benchmark [clients=3, msg-size=16 B, msgs=3,000,") {
		t.Fatalf("banner: %s", r.Stderr)
	}

	res := sub.Wait(10 * time.Second)
	clitest.ExpectCode(t, res, 0)
	got := decode(t, res.Stdout)
	if got.Kind != "sub" || got.Messages != 6000 || len(got.Clients) != 2 {
		t.Fatalf("sub result: %+v", got)
	}
	for _, c := range got.Clients {
		if c.Messages != 3000 || c.Bytes != 48000 {
			t.Fatalf("each subscriber gets every message: %+v", c)
		}
	}
}

func TestMultiSubject(t *testing.T) {
	clitest.Serve(t)
	sub := clitest.Start(t, "[1] Starting", "bench", "sub", "ms", "--multisubject", "--msgs", "50")
	r := clitest.Run(t, "bench", "pub", "ms", "--multisubject", "--multisubject-max", "7", "--msgs", "50")
	clitest.ExpectCode(t, r, 0)
	res := sub.Wait(10 * time.Second)
	clitest.ExpectCode(t, res, 0)
	if !strings.HasPrefix(res.Stdout, "Core NATS subscriber stats: ") || !strings.Contains(res.Stdout, "(50 msgs in ") {
		t.Fatalf("report:\n%s", res.Stdout)
	}
}

func TestRequestAndReply(t *testing.T) {
	clitest.Serve(t)
	rep := clitest.Start(t, "[1] Starting", "bench", "reply", "svc", "--clients", "2", "--msgs", "400", "--json")
	waitStderr(t, rep, `[2] Starting Core NATS service server on "svc", until 400 requests are answered`)

	r := clitest.Run(t, "bench", "request", "svc", "--msgs", "300", "--clients", "2", "--size", "1KB", "-H", "K:V", "--json")
	clitest.ExpectCode(t, r, 0)
	req := decode(t, r.Stdout)
	if req.Kind != "request" || req.Messages != 300 || req.Bytes != 300*1024 || len(req.Clients) != 2 {
		t.Fatalf("request result: %+v", req)
	}
	l := req.Latency
	if l == nil || l.Min <= 0 || l.Min > l.P50 || l.P50 > l.P90 || l.P90 > l.P99 || l.P99 > l.P999 || l.P999 > l.Max {
		t.Fatalf("latency: %+v", l)
	}
	for _, c := range req.Clients {
		if c.Messages != 150 || c.Latency == nil {
			t.Fatalf("requester: %+v", c)
		}
	}

	// The people's report, single client.
	r = clitest.Run(t, "bench", "request", "svc", "--msgs", "100")
	clitest.ExpectCode(t, r, 0)
	if !strings.HasPrefix(r.Stdout, "Core NATS service requester stats: ") || !strings.Contains(r.Stdout, "  latency: min ") ||
		!strings.Contains(r.Stdout, "| P99.9 ") {
		t.Fatalf("report:\n%s", r.Stdout)
	}

	res := rep.Wait(10 * time.Second)
	clitest.ExpectCode(t, res, 0)
	got := decode(t, res.Stdout)
	if got.Kind != "reply" || got.Messages != 400 || len(got.Clients) != 2 || got.Clients[0].Messages+got.Clients[1].Messages != 400 {
		t.Fatalf("reply result: %+v", got)
	}
}

func TestReplyUntilInterrupted(t *testing.T) {
	clitest.Serve(t)
	rep := clitest.Start(t, "[1] Starting", "bench", "reply", "svc")
	clitest.ExpectCode(t, clitest.Run(t, "bench", "request", "svc", "--msgs", "20"), 0)
	res := rep.Stop()
	clitest.ExpectCode(t, res, 0)
	if !strings.Contains(res.Stdout, "Core NATS service server stats: ") || !strings.Contains(res.Stdout, "(20 msgs in ") {
		t.Fatalf("report:\n%s", res.Stdout)
	}
}

func TestSubInterrupted(t *testing.T) {
	clitest.Serve(t)
	sub := clitest.Start(t, "[1] Starting", "bench", "sub", "demo", "--msgs", "10")
	clitest.ExpectCode(t, clitest.Run(t, "bench", "pub", "demo", "--msgs", "4"), 0)
	res := sub.Stop()
	clitest.ExpectCode(t, res, cmdutil.ExitCancelled)
	// The last of the 4 may still be in flight, so the count is not checked.
	if !strings.Contains(res.Stderr, "stopped after receiving ") || !strings.Contains(res.Stderr, " of 10 messages") {
		t.Fatalf("stderr: %s", res.Stderr)
	}
}

func TestNoResponders(t *testing.T) {
	clitest.Serve(t)
	r := clitest.Run(t, "bench", "request", "nobody", "--msgs", "5")
	clitest.ExpectCode(t, r, cmdutil.ExitNoResponders)
	if !strings.Contains(r.Stderr, `sluice: no responders on "nobody": nobody is subscribed to it; start some with 'sluice bench reply nobody'`) {
		t.Fatalf("stderr: %s", r.Stderr)
	}
	if r.Stdout != "" {
		t.Fatalf("stdout: %q", r.Stdout)
	}
}

func TestCSVFile(t *testing.T) {
	clitest.Serve(t)
	path := filepath.Join(t.TempDir(), "pub.csv")
	r := clitest.Run(t, "bench", "pub", "demo", "--msgs", "100", "--clients", "2", "--csv", path)
	clitest.ExpectCode(t, r, 0)
	if !strings.Contains(r.Stderr, "Saved per-client figures in "+path) {
		t.Fatalf("stderr: %s", r.Stderr)
	}
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	rows, err := csv.NewReader(fh).ReadAll()
	if err != nil || len(rows) != 3 || rows[1][1] != "P0" || rows[2][1] != "P1" || rows[1][3] != "6400" {
		t.Fatalf("csv %v: %v", err, rows)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
	r = clitest.Run(t, "bench", "pub", "demo", "--msgs", "1", "--csv", filepath.Join(path, "nodir", "x.csv"))
	clitest.ExpectCode(t, r, cmdutil.ExitError)
	if !strings.Contains(r.Stderr, "cannot save --csv") {
		t.Fatalf("stderr: %s", r.Stderr)
	}
}

func TestProgressOnlyOnATerminal(t *testing.T) {
	clitest.Serve(t)
	r := clitest.RunWith(t, clitest.Opts{TTY: true}, "bench", "pub", "demo", "--msgs", "2000")
	clitest.ExpectCode(t, r, 0)
	if !strings.Contains(r.Stderr, "Client 1") {
		t.Fatalf("no progress bar on a terminal:\n%s", r.Stderr)
	}
	r = clitest.RunWith(t, clitest.Opts{TTY: true}, "bench", "pub", "demo", "--msgs", "2000", "--no-progress")
	clitest.ExpectCode(t, r, 0)
	if strings.Contains(r.Stderr, "Client 1") {
		t.Fatalf("--no-progress drew a bar:\n%s", r.Stderr)
	}
	r = clitest.Run(t, "bench", "pub", "demo", "--msgs", "2000")
	clitest.ExpectCode(t, r, 0)
	if strings.Contains(r.Stderr, "Client 1") {
		t.Fatalf("progress bar off a terminal:\n%s", r.Stderr)
	}
}

func TestPromptsForSubjectOnATerminal(t *testing.T) {
	clitest.Serve(t)
	stub := &cmdutil.PromptStub{Answers: []any{"asked"}}
	r := clitest.RunWith(t, clitest.Opts{TTY: true, Prompter: stub}, "bench", "pub", "--msgs", "10", "--no-progress")
	clitest.ExpectCode(t, r, 0)
	if len(stub.Asked) != 1 || !strings.Contains(r.Stderr, "subject=asked") {
		t.Fatalf("asked %q; stderr: %s", stub.Asked, r.Stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	clitest.Serve(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "pub"}, "SUBJECT argument is required"},
		{[]string{"bench", "sub"}, "SUBJECT argument is required"},
		{[]string{"bench", "pub", "a.*"}, `cannot publish to "a.*"`},
		{[]string{"bench", "request", "a.>"}, `cannot publish to "a.>"`},
		{[]string{"bench", "sub", "a..b"}, "empty token"},
		{[]string{"bench", "pub", "x", "--clients", "0"}, "--clients must be at least 1, not 0"},
		{[]string{"bench", "pub", "x", "--msgs", "0"}, "--msgs must be at least 1, not 0"},
		{[]string{"bench", "reply", "x", "--msgs", "-1"}, "--msgs must be at least 0, not -1"},
		{[]string{"bench", "pub", "x", "--size", "lots"}, `--size: "lots" is not a size`},
		{[]string{"bench", "pub", "x", "--size", "65MB"}, "--size 65MB is too large"},
		{[]string{"bench", "pub", "x", "--size", "2MB", "--msgs", "1"}, "--size 2.0 MiB is larger than the server's max_payload of 1.0 MiB"},
		{[]string{"bench", "pub", "x", "--sleep", "-1s"}, "--sleep must not be negative"},
		{[]string{"bench", "request", "x", "--sleep", "-1s"}, "--sleep must not be negative"},
		{[]string{"bench", "reply", "x", "--sleep", "-1s"}, "--sleep must not be negative"},
		{[]string{"bench", "pub", "x", "--multisubject-max", "-1"}, "--multisubject-max must not be negative"},
		{[]string{"bench", "pub", "x", "-H", "novalue"}, `invalid header "novalue"`},
		{[]string{"bench", "pub", "x", "y"}, "takes at most 1 argument"},
		{[]string{"bench", "pub", "x", "--bogus"}, "unknown flag: --bogus"},
	} {
		r := clitest.Run(t, c.args...)
		if r.Code != cmdutil.ExitUsage || !strings.Contains(r.Stderr, c.want) || strings.Count(r.Stderr, "\n") > 2 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", c.args, r.Code, r.Stderr, c.want)
		}
	}
}

func TestConnectionRefused(t *testing.T) {
	clitest.Isolate(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	r := clitest.Run(t, "bench", "pub", "x", "--server", "nats://"+addr, "--timeout", "1s")
	clitest.ExpectCode(t, r, cmdutil.ExitConnect)
	if !strings.Contains(r.Stderr, "cannot connect to nats://"+addr) {
		t.Fatalf("stderr: %s", r.Stderr)
	}
}

func TestFlagsParse(t *testing.T) {
	io, _, _ := cmdutil.Test("")
	var got *benchcmd.PubOptions
	cmd := benchcmd.NewCmdPub(&cmdutil.Factory{IO: io}, func(o *benchcmd.PubOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"demo", "--clients", "4", "--msgs", "10", "--size", "4KB", "--no-progress", "--csv", "f.csv",
		"-H", "A:1", "--sleep", "1ms", "--multisubject", "--multisubject-max", "9", "-j"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Subject != "demo" || got.Clients != 4 || got.Msgs != 10 || got.Size != "4KB" || !got.NoProgress ||
		got.CSV != "f.csv" || len(got.Headers) != 1 || got.Sleep != time.Millisecond || !got.MultiSubject ||
		got.MultiSubjectMax != 9 || !got.JSON {
		t.Fatalf("options: %+v", got)
	}
}
