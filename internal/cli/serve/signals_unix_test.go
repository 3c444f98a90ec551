//go:build !windows

package servecmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/nats-io/nats.go"
)

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// authConf is a configuration with one user; the password varies.
func authConf(dir, password string, extra string) string {
	return fmt.Sprintf(`# written by the test
host: 127.0.0.1
port: -1
server_name: "conf1"
pid_file: %q
ports_file_dir: %q
authorization {
  user: alice
  password: %q
}
%s
`, filepath.Join(dir, "sluice.pid"), dir, password, extra)
}

func connectAs(addr, user, pass string, opts ...nats.Option) (*nats.Conn, error) {
	opts = append(opts, nats.UserInfo(user, pass), nats.MaxReconnects(0))
	return nats.Connect("nats://"+addr, opts...)
}

// A reload applies a new password and a new max_payload: the client with
// the old password is cut, new clients need the new one, and a bad file
// on a later reload changes nothing.
func TestServeConfigFileReloadOnSIGHUP(t *testing.T) {
	bin := sluiceBinary(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "nats-server.conf")
	writeFile(t, conf, authConf(dir, "s3cr3t-one", "max_payload: 512KB"))
	p, addr := startServer(t, bin, "serve", "-c", conf, "--debug", "--trace")

	closed := make(chan struct{})
	old, err := connectAs(addr, "alice", "s3cr3t-one", nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if got := old.ConnectedServerName(); got != "conf1" {
		t.Errorf("server_name from the file: got %q", got)
	}
	if got := old.MaxPayload(); got != 512*1024 {
		t.Errorf("max_payload from the file: got %d", got)
	}

	// Reload 1: only max_payload changes; the client stays connected.
	writeFile(t, conf, authConf(dir, "s3cr3t-one", "max_payload: 256KB"))
	p.cmd.Process.Signal(syscall.SIGHUP)
	p.waitLog(t, "Reload applied changes to MaxPayload")
	if err := old.Flush(); err != nil {
		t.Fatalf("client dropped by a reload that did not concern it: %v", err)
	}
	nc, err := connectAs(addr, "alice", "s3cr3t-one")
	if err != nil {
		t.Fatal(err)
	}
	if got := nc.MaxPayload(); got != 256*1024 {
		t.Errorf("max_payload after reload: got %d", got)
	}
	nc.Close()

	// Reload 2: a new password cuts the old client and is required of new ones.
	writeFile(t, conf, authConf(dir, "s3cr3t-two", "max_payload: 256KB"))
	p.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, func() bool {
		select {
		case <-closed:
			return true
		default:
			return false
		}
	}, "old-password client to be disconnected")
	if _, err := connectAs(addr, "alice", "s3cr3t-one"); err == nil {
		t.Error("old password still accepted after reload")
	}
	nc, err = connectAs(addr, "alice", "s3cr3t-two")
	if err != nil {
		t.Fatalf("new password refused: %v", err)
	}
	defer nc.Close()

	// Reload 3: a broken file is rejected and nothing changes.
	writeFile(t, conf, "port: 4222\nauthorization {\n  user: alice\n")
	p.cmd.Process.Signal(syscall.SIGHUP)
	p.waitLog(t, "Configuration reload failed")
	if err := nc.Flush(); err != nil {
		t.Fatalf("client lost after a failed reload: %v", err)
	}
	if c, err := connectAs(addr, "alice", "s3cr3t-two"); err != nil {
		t.Errorf("running configuration not kept after a failed reload: %v", err)
	} else {
		c.Close()
	}

	// Reload 4: the port cannot change at runtime; that is said, and ignored.
	writeFile(t, conf, strings.Replace(authConf(dir, "s3cr3t-two", ""), "port: -1", "port: 4999", 1))
	p.cmd.Process.Signal(syscall.SIGHUP)
	p.waitLog(t, "changes to Port cannot be applied at runtime")
	if err := nc.Flush(); err != nil {
		t.Fatalf("client lost after a port change: %v", err)
	}

	logs := p.Logs()
	for _, secret := range []string{"s3cr3t-one", "s3cr3t-two"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log reveals the password %q:\n%s", secret, logs)
		}
	}
	if !strings.Contains(logs, "[TRC]") {
		t.Errorf("--trace logged no protocol traffic:\n%s", logs)
	}
}

// The pid file and the ports file are written as nats-server writes them,
// --signal finds the server through either, and both are removed on exit.
func TestServePidPortsFilesAndSignalCommand(t *testing.T) {
	bin := sluiceBinary(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "s.conf")
	writeFile(t, conf, authConf(dir, "pw", "lame_duck_grace_period: 0s"))
	p, addr := startServer(t, bin, "serve", "-c", conf, "-m", "-1")
	pid := p.cmd.Process.Pid

	pidText, err := os.ReadFile(filepath.Join(dir, "sluice.pid"))
	if err != nil || strings.TrimSpace(string(pidText)) != strconv.Itoa(pid) {
		t.Fatalf("pid file: %q, %v; want %d", pidText, err, pid)
	}
	portsPath := filepath.Join(dir, fmt.Sprintf("sluice_%d.ports", pid))
	b, err := os.ReadFile(portsPath)
	if err != nil {
		t.Fatalf("ports file: %v", err)
	}
	var ports map[string][]string
	if err := json.Unmarshal(b, &ports); err != nil {
		t.Fatalf("ports file %q: %v", b, err)
	}
	if want := []string{"nats://" + addr}; fmt.Sprint(ports["nats"]) != fmt.Sprint(want) {
		t.Errorf("ports file nats = %v, want %v (file %s)", ports["nats"], want, b)
	}
	if len(ports["monitoring"]) != 1 || !strings.HasPrefix(ports["monitoring"][0], "http://127.0.0.1:") {
		t.Fatalf("ports file monitoring = %v (file %s)", ports["monitoring"], b)
	}
	resp, err := http.Get(ports["monitoring"][0] + "/varz")
	if err != nil {
		t.Fatalf("monitoring port from -m -1: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /varz: %s", resp.Status)
	}

	out, err := exec.Command(bin, "serve", "--signal", "reload="+filepath.Join(dir, "sluice.pid")).CombinedOutput()
	if err != nil {
		t.Fatalf("--signal reload=PIDFILE: %v\n%s", err, out)
	}
	p.waitLog(t, "reloading configuration")

	ldm := make(chan struct{}, 1)
	nc, err := connectAs(addr, "alice", "pw", nats.LameDuckModeHandler(func(*nats.Conn) { ldm <- struct{}{} }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	out, err = exec.Command(bin, "serve", "--signal", "ldm="+strconv.Itoa(pid)).CombinedOutput()
	if err != nil {
		t.Fatalf("--signal ldm=PID: %v\n%s", err, out)
	}
	waitFor(t, func() bool { return len(ldm) > 0 }, "the client to be told of lame duck mode")
	if c, err := connectAs(addr, "alice", "pw"); err == nil {
		c.Close()
		t.Error("new connection accepted in lame duck mode")
	}

	out, err = exec.Command(bin, "serve", "--signal", "term="+strconv.Itoa(pid)).CombinedOutput()
	if err != nil {
		t.Fatalf("--signal term=PID: %v\n%s", err, out)
	}
	if err := waitExit(t, p); err != nil {
		t.Fatalf("exit after term: %v", err)
	}
	for _, f := range []string{filepath.Join(dir, "sluice.pid"), portsPath} {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind after exit (%v)", f, err)
		}
	}
}

func TestServeSignalCommandErrors(t *testing.T) {
	bin := sluiceBinary(t)
	for _, c := range []struct{ arg, want string }{
		{"explode=1", `unknown signal "explode"`},
		{"reload=" + filepath.Join(t.TempDir(), "missing.pid"), "read pid file"},
	} {
		out, err := exec.Command(bin, "serve", "--signal", c.arg).CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Errorf("--signal %s: err %v, output %q; want %q", c.arg, err, out, c.want)
		}
	}
}

// SIGQUIT stops the server at once.
func TestServeSIGQUIT(t *testing.T) {
	bin := sluiceBinary(t)
	p, _ := startServer(t, bin, "serve", "-a", "127.0.0.1", "-p", "-1")
	p.cmd.Process.Signal(syscall.SIGQUIT)
	if err := waitExit(t, p); err != nil {
		t.Fatalf("exit after SIGQUIT: %v", err)
	}
}

// The log file rotates by size keeping logfile_max_num files, and SIGUSR1
// reopens it after an external tool moved it away.
func TestServeLogFileRotationAndReopen(t *testing.T) {
	bin := sluiceBinary(t)
	dir := t.TempDir()
	logPath := filepath.Join(dir, "sluice.log")
	conf := filepath.Join(dir, "s.conf")
	writeFile(t, conf, fmt.Sprintf(`
listen: "127.0.0.1:-1"
log_file: %q
logfile_size_limit: 2KB
logfile_max_num: 3
debug: true
trace: true
`, logPath))
	p := startProc(t, bin, "serve", "-c", conf)
	var addr string
	waitFor(t, func() bool {
		b, _ := os.ReadFile(logPath)
		if m := listenRE.FindSubmatch(b); m != nil && strings.Contains(string(b), "Server is ready") {
			addr = string(m[1])
			return true
		}
		return false
	}, "the server to log readiness to %s", logPath)

	nc, err := nats.Connect("nats://"+addr, nats.MaxReconnects(0))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	for i := range 200 { // each traced PUB is a log line
		nc.Publish(fmt.Sprintf("rotate.%d", i), []byte("x"))
	}
	nc.Flush()
	backups := func() []string {
		m, _ := filepath.Glob(logPath + ".*")
		return m
	}
	waitFor(t, func() bool { return len(backups()) >= 2 }, "log rotation")
	nc.Flush() // a round trip: the server has finished purging
	if n := len(backups()); n > 2 {
		t.Errorf("%d backups kept, want logfile_max_num-1 = 2: %v", n, backups())
	}
	b, _ := os.ReadFile(logPath)
	if !strings.Contains(string(b), "Rotated log, backup saved as") {
		t.Errorf("current log does not say it was rotated:\n%s", b)
	}

	moved := filepath.Join(dir, "moved.log")
	if err := os.Rename(logPath, moved); err != nil {
		t.Fatal(err)
	}
	p.cmd.Process.Signal(syscall.SIGUSR1)
	waitFor(t, func() bool {
		nc.Publish("after.reopen", nil)
		nc.Flush()
		b, err := os.ReadFile(logPath)
		return err == nil && strings.Contains(string(b), "after.reopen")
	}, "the log file to be reopened at %s", logPath)
}

// -t checks a file: valid files pass, problems are all listed, unknown
// keys are errors unless --lenient, which makes them warnings.
func TestServeConfigTest(t *testing.T) {
	bin := sluiceBinary(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.conf")
	writeFile(t, good, "port: 4222\nmax_payload: 2MB\n")
	warn := filepath.Join(dir, "warn.conf")
	writeFile(t, warn, "port: 4222\nserver_tags: [a]\nno_such_key: 1\n")
	bad := filepath.Join(dir, "bad.conf")
	writeFile(t, bad, "port: \"many\"\nmax_payload: -5\nauthorization {\n")

	run := func(prog string, args ...string) (string, error) {
		out, err := exec.Command(prog, args...).CombinedOutput()
		return string(out), err
	}
	if out, err := run(bin, "serve", "-c", good, "-t"); err != nil || !strings.Contains(out, "is valid") {
		t.Errorf("good file: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"--test"}, {"--test", "--strict"}} {
		out, err := run(bin, append([]string{"serve", "-c", warn}, args...)...)
		if err == nil || !strings.Contains(out, warn+`:3:1: unknown field "no_such_key"`) {
			t.Errorf("%v should fail on an unknown key: %v\n%s", args, err, out)
		}
	}
	out, err := run(bin, "serve", "-c", warn, "--test", "--lenient")
	if err != nil || !strings.Contains(out, "'server_tags' is not supported yet; ignored") || !strings.Contains(out, `unknown field "no_such_key"; ignored`) {
		t.Errorf("--lenient: want warnings only: %v\n%s", err, out)
	}
	out, err = run(bin, "serve", "-c", bad, "-t")
	if err == nil || !strings.Contains(out, bad+":") {
		t.Errorf("bad file: want a failure naming the file, got %v\n%s", err, out)
	}

	link := filepath.Join(dir, "nats-server")
	if err := os.Symlink(bin, link); err != nil {
		t.Fatal(err)
	}
	if out, err := run(link, "-c", good, "-t"); err != nil {
		t.Errorf("nats-server -t on a good file: %v\n%s", err, out)
	}
	if out, err := run(link, "--config="+bad, "-t"); err == nil {
		t.Errorf("nats-server -t on a bad file succeeded:\n%s", out)
	}
}
