//go:build !windows

package servecmd

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/sluicehq/sluice/internal/testutil/refbin"
)

// Issue 11 #2: a misspelt authorization block refuses to start (also
// through the nats-server personality), and a reload to it fails and
// keeps authentication in force.
func TestServeUnknownKeyFailsClosed(t *testing.T) {
	bin := sluiceBinary(t)
	dir := t.TempDir()
	typo := filepath.Join(dir, "typo.conf")
	writeFile(t, typo, "host: 127.0.0.1\nport: -1\nauthorisation { user: admin, password: s3cret }\n")
	for _, args := range [][]string{{"serve", "-c", typo}, {"serve", "-c", typo, "-t"}} {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), `unknown field "authorisation"; did you mean "authorization"?`) ||
			strings.Contains(string(out), "Server is ready") {
			t.Errorf("%v: want a refusal, got %v\n%s", args, err, out)
		}
	}
	link := filepath.Join(dir, "nats-server")
	if err := exec.Command("ln", "-s", bin, link).Run(); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(link, "-c", typo).CombinedOutput(); err == nil || !strings.Contains(string(out), "authorisation") {
		t.Errorf("nats-server personality: want a refusal, got %v\n%s", err, out)
	}

	conf := filepath.Join(dir, "auth.conf")
	writeFile(t, conf, authConf(dir, "s3cr3t", ""))
	p, addr := startServer(t, bin, "serve", "-c", conf)
	if _, err := connectAs(addr, "", ""); err == nil {
		t.Fatal("anonymous client accepted at start")
	}
	writeFile(t, conf, strings.Replace(authConf(dir, "s3cr3t", ""), "authorization", "authorisation", 1))
	p.cmd.Process.Signal(syscall.SIGHUP)
	p.waitLog(t, `Configuration reload failed`)
	if !strings.Contains(p.Logs(), `unknown field "authorisation"`) {
		t.Errorf("the failed reload does not say why:\n%s", p.Logs())
	}
	if _, err := connectAs(addr, "", ""); err == nil {
		t.Error("anonymous client accepted after a failed reload")
	}
	nc, err := connectAs(addr, "alice", "s3cr3t")
	if err != nil {
		t.Fatalf("running configuration not kept: %v", err)
	}
	nc.Close()
}

// Blocks of unbuilt features that guard a way in refuse to start, even
// with --lenient, naming what is not supported.
func TestServeRefusesUnbuiltSecurityBlocks(t *testing.T) {
	bin := sluiceBinary(t)
	dir := t.TempDir()
	for name, text := range map[string]string{
		"leafnodes": "leafnodes { port: -1 }\n",
		"mqtt":      "mqtt { port: -1 }\n",
	} {
		f := filepath.Join(dir, name+".conf")
		writeFile(t, f, "host: 127.0.0.1\nport: -1\n"+text)
		for _, args := range [][]string{{"serve", "-c", f}, {"serve", "-c", f, "-t", "--lenient"}} {
			out, err := exec.Command(bin, args...).CombinedOutput()
			if err == nil || !strings.Contains(string(out), "'"+name+"' is not supported yet") {
				t.Errorf("%s %v: want a refusal, got %v\n%s", name, args, err, out)
			}
		}
	}
}

// Issue 11 #7: --signal without a pid targets sluice servers only (also
// run through a nats-server link), never a real nats-server.
func TestSignalCandidatesAreSluiceServers(t *testing.T) {
	bin := sluiceBinary(t)
	dir := t.TempDir()
	link := filepath.Join(dir, "nats-server")
	if err := os.Symlink(bin, link); err != nil {
		t.Fatal(err)
	}
	ref := startProc(t, refbin.NATSServer(t), "-a", "127.0.0.1", "-p", "-1")
	ref.waitLog(t, "Server is ready")
	own, _ := startServer(t, bin, "serve", "-a", "127.0.0.1", "-p", "-1")
	personality, _ := startServer(t, link, "-a", "127.0.0.1", "-p", "-1")
	pids := runningServers()
	if slices.Contains(pids, ref.cmd.Process.Pid) {
		t.Errorf("the reference nats-server (pid %d) is a candidate: %v", ref.cmd.Process.Pid, pids)
	}
	for _, p := range []*serverProc{own, personality} {
		if !slices.Contains(pids, p.cmd.Process.Pid) {
			t.Errorf("sluice pid %d is not a candidate: %v", p.cmd.Process.Pid, pids)
		}
	}
}
