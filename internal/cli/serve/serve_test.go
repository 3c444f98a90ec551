package servecmd

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// buildBinary compiles sluice once per test binary run.
var builtBin string

func sluiceBinary(t *testing.T) string {
	t.Helper()
	if builtBin != "" {
		return builtBin
	}
	dir, err := os.MkdirTemp("", "sluice-bin")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "sluice")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/sluicehq/sluice/cmd/sluice").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	builtBin = bin
	return bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

var listenRE = regexp.MustCompile(`Listening for client connections on ([0-9.]+:\d+)`)

// serverProc is a running sluice binary whose stderr is collected.
type serverProc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs strings.Builder
}

// Logs returns what the server has logged so far.
func (p *serverProc) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// waitLog waits until the log contains want.
func (p *serverProc) waitLog(t *testing.T, want string) {
	t.Helper()
	waitFor(t, func() bool { return strings.Contains(p.Logs(), want) }, "log line %q; log so far:\n%s", want, p)
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, cond func() bool, format string, args ...any) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	for i, a := range args {
		if p, ok := a.(*serverProc); ok {
			args[i] = p.Logs()
		}
	}
	t.Fatalf("timed out waiting for "+format, args...)
}

// startProc runs the binary with args, collecting stderr.
func startProc(t *testing.T, bin string, args ...string) *serverProc {
	t.Helper()
	p := &serverProc{cmd: exec.Command(bin, args...)}
	// exec copies stderr into p and Wait waits for the copy to finish,
	// so nothing logged before exit is lost.
	p.cmd.Stderr = p
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	})
	return p
}

func (p *serverProc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.Write(b)
}

// startServer runs the binary and returns the client address once the
// log says the server is ready.
func startServer(t *testing.T, bin string, args ...string) (*serverProc, string) {
	t.Helper()
	p := startProc(t, bin, args...)
	p.waitLog(t, "[INF] Server is ready")
	m := listenRE.FindStringSubmatch(p.Logs())
	if m == nil {
		t.Fatalf("no listen address logged:\n%s", p.Logs())
	}
	return p, m[1]
}

func waitExit(t *testing.T, p *serverProc) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("server did not exit")
		return nil
	}
}

func TestServeBinaryRandomPortAndSIGTERM(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("signals")
	}
	bin := sluiceBinary(t)
	p, addr := startServer(t, bin, "serve", "-a", "127.0.0.1", "-p", "-1", "-n", "edge1")
	nc, err := nats.Connect("nats://"+addr, nats.MaxReconnects(0))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if got := nc.ConnectedServerName(); got != "edge1" {
		t.Fatalf("server name %q", got)
	}
	closed := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(closed) })
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := waitExit(t, p); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("client not disconnected by shutdown")
	}
}

func TestNATSServerPersonality(t *testing.T) {
	bin := sluiceBinary(t)
	link := filepath.Join(t.TempDir(), "nats-server")
	if err := os.Symlink(bin, link); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(link, "--version").CombinedOutput()
	if err != nil || !regexp.MustCompile(`^nats-server: v2\.\d+\.\d+`).Match(out) {
		t.Fatalf("version: %v %q", err, out)
	}
	sd := t.TempDir()
	// JetStream with a cluster but no server name: refused in nats-server's words.
	out, err = exec.Command(link, "-a", "127.0.0.1", "-p", "-1", "-js", "--store_dir="+sd, "--cluster_name=c", "-cluster", "nats://127.0.0.1:-1").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "jetstream cluster requires `server_name` to be set") {
		t.Fatalf("-js with -cluster: %v %q", err, out)
	}
	p, addr := startServer(t, link, "-a", "127.0.0.1", "-p", "-1", "-DV", "--cluster_name=c", "-cluster", "nats://127.0.0.1:-1", "-m", "-1", "--max_traced_msg_len=3")
	nc, err := nats.Connect("nats://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	nc.Publish("x", []byte("hello"))
	nc.Flush()
	nc.Close()
	p.cmd.Process.Signal(syscall.SIGINT)
	if err := waitExit(t, p); err != nil {
		t.Fatalf("exit after SIGINT: %v", err)
	}
	got := p.Logs()
	for _, want := range []string{
		"Cluster name is c", "Listening for route connections on 127.0.0.1:",
		"Starting http monitor on 127.0.0.1:",
		"[DBG]", "[TRC]", `<<- MSG_PAYLOAD: ["hel..."]`, "Server Exiting..",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %q:\n%s", want, got)
		}
	}
	if !regexp.MustCompile(`(?m)^\[\d+\] \d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{6} \[INF\] Server is ready$`).MatchString(got) {
		t.Errorf("log lines not in nats-server's format:\n%s", got)
	}
}

func TestNATSServerPersonalityBadFlag(t *testing.T) {
	io, _, errOut := cmdutil.Test("")
	if code := RunNATSServer(io, "nats-server", []string{"--no-such-flag"}); code != cmdutil.ExitUsage {
		t.Fatalf("exit code %d", code)
	}
	if !strings.Contains(errOut.String(), "no-such-flag") {
		t.Fatalf("error does not name the flag: %q", errOut.String())
	}
}

func TestServeRejectsBadSizes(t *testing.T) {
	for _, c := range []struct{ flag, value string }{
		{"max-payload", "lots"}, {"max-pending", "-3"}, {"max-payload", "4GB"}, {"log-size-limit", "big"},
	} {
		o := newServeOptions()
		o.changed[c.flag] = true
		switch c.flag {
		case "max-payload":
			o.maxPayload = c.value
		case "max-pending":
			o.maxPending = c.value
		default:
			o.logSizeLimit = c.value
		}
		io, _, _ := cmdutil.Test("")
		err := run(io, o)
		var ue *cmdutil.UsageError
		if !errors.As(err, &ue) {
			t.Errorf("--%s %s: want usage error, got %v", c.flag, c.value, err)
		}
	}
}

func TestParseSize(t *testing.T) {
	cases := map[string]int64{"0": 0, "1024": 1024, "1k": 1000, "1KB": 1024, "2mb": 2 << 20, "1M": 1000000, "1G": 1e9, "1gb": 1 << 30}
	for in, want := range cases {
		got, err := parseSize(in)
		if err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "1XB", "-1", "MB"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) succeeded", bad)
		}
	}
}
