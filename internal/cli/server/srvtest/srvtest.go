// Package srvtest starts servers with a system account for the tests of
// the `sluice server` commands: sluice in-process, or the reference
// nats-server binary (installed by `make reference`; missing, the test
// fails). Import it only from tests.
package srvtest

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/server/auth"
	"github.com/sluicehq/sluice/internal/server/jetstream"
	"github.com/sluicehq/sluice/internal/testutil"
	"github.com/sluicehq/sluice/internal/testutil/refbin"
)

// Users of the servers started here: sys/sys in the system account SYS,
// a/a in account A.
const (
	SysUser, SysPass = "sys", "sys"
	AppUser, AppPass = "a", "a"
)

// Server is a server started for one test.
type Server struct {
	URL  string
	Name string
	ID   string
	// Local is the in-process server; nil for the reference binary.
	Local *server.Server
}

// Serve isolates the test, starts sluice in-process with the system
// account, and points $NATS_URL, $NATS_USER and $NATS_PASSWORD at it as
// the system user.
func Serve(t testing.TB, mutate ...func(*server.Options)) *Server {
	t.Helper()
	withSys := func(o *server.Options) {
		o.ServerName = "sluice1"
		o.Accounts = append(o.Accounts, &server.AccountConfig{Name: "SYS"}, &server.AccountConfig{Name: "A"})
		o.Users = append(o.Users,
			&auth.User{Username: SysUser, Password: SysPass, Account: "SYS"},
			&auth.User{Username: AppUser, Password: AppPass, Account: "A"})
		o.SystemAccount = "SYS"
	}
	cs := clitest.Serve(t, append([]func(*server.Options){withSys}, mutate...)...)
	actAsSys(t)
	return &Server{URL: cs.URL, Name: cs.Name(), ID: cs.ID(), Local: cs.Server}
}

func actAsSys(t testing.TB) {
	t.Setenv("NATS_USER", SysUser)
	t.Setenv("NATS_PASSWORD", SysPass)
}

// ActAs makes the commands of the test connect as user.
func ActAs(t testing.TB, user, pass string) {
	t.Setenv("NATS_USER", user)
	t.Setenv("NATS_PASSWORD", pass)
}

// ReferenceBinary is the nats-server binary to compare with (see
// refbin.NATSServerPath): "" when it is not installed.
func ReferenceBinary() string { return refbin.NATSServerPath() }

// RefOptions shape the reference server.
type RefOptions struct {
	// JetStream enables JetStream on the server and for account A.
	JetStream bool
}

// Reference starts the reference nats-server with the same accounts as
// Serve, named "ref1", on a random port; the test fails when the binary
// is not installed (`make reference`). The process is stopped when the
// test ends.
func Reference(t testing.TB, ro RefOptions) *Server {
	t.Helper()
	bin := refbin.NATSServer(t)
	clitest.Isolate(t)
	srv := startReference(t, bin, ro)
	t.Setenv("NATS_URL", srv.URL)
	actAsSys(t)
	return srv
}

// Both runs fn against sluice in-process and against the reference
// nats-server, as subtests. The reference run is skipped when the binary
// is absent.
func Both(t *testing.T, ro RefOptions, fn func(t *testing.T, s *Server)) {
	t.Run("sluice", func(t *testing.T) {
		fn(t, Serve(t))
	})
	t.Run("nats-server", func(t *testing.T) {
		fn(t, Reference(t, ro))
	})
}

// JetStream runs fn against every server with JetStream the tests can
// start, as subtests, acting as the user of account A (which has
// JetStream): the reference nats-server and sluice.
func JetStream(t *testing.T, fn func(t *testing.T, url string)) {
	jetStream(t, true, fn)
}

// JetStreamReferenceOnly is JetStream for the tests of features sluice's
// JetStream does not have yet (mirrors and sources, snapshots: issue
// "JetStream III"); they run on the reference alone until it does.
func JetStreamReferenceOnly(t *testing.T, fn func(t *testing.T, url string)) {
	jetStream(t, false, fn)
}

func jetStream(t *testing.T, withSluice bool, fn func(t *testing.T, url string)) {
	t.Run("nats-server", func(t *testing.T) {
		s := Reference(t, RefOptions{JetStream: true})
		ActAs(t, AppUser, AppPass)
		fn(t, s.URL)
	})
	if !withSluice {
		return
	}
	t.Run("sluice", func(t *testing.T) {
		s := Serve(t, withJetStream(t))
		ActAs(t, AppUser, AppPass)
		fn(t, s.URL)
	})
}

// withJetStream gives account A JetStream, stored under a temp dir.
func withJetStream(t testing.TB) func(*server.Options) {
	dir := t.TempDir()
	return func(o *server.Options) {
		o.JetStream = &jetstream.Config{Enabled: true, StoreDir: dir,
			Accounts: map[string]*jetstream.AccountLimits{"A": jetstream.Unlimited()}}
	}
}

// StartSluice starts sluice in-process with the accounts of Serve and
// JetStream for account A, touching neither the environment nor the
// contexts (for parallel scripts).
func StartSluice(t testing.TB) *Server {
	t.Helper()
	s := testutil.RunServer(t, func(o *server.Options) {
		o.ServerName = "sluice1"
		o.Accounts = append(o.Accounts, &server.AccountConfig{Name: "SYS"}, &server.AccountConfig{Name: "A"})
		o.Users = append(o.Users,
			&auth.User{Username: SysUser, Password: SysPass, Account: "SYS"},
			&auth.User{Username: AppUser, Password: AppPass, Account: "A"})
		o.SystemAccount = "SYS"
	}, withJetStream(t))
	return &Server{URL: s.ClientURL(), Name: s.Name(), ID: s.ID(), Local: s}
}

// ReferenceCluster starts n reference nats-servers (ref1..refN) routed
// into the cluster "C" with JetStream, the accounts of Serve and account
// A's JetStream enabled, points $NATS_URL at the first and acts as the
// system user. It skips the test when the binary is not installed.
func ReferenceCluster(t testing.TB, n int) []*Server {
	t.Helper()
	bin := ReferenceBinary()
	if bin == "" {
		t.Fatal("reference nats-server not installed (~/peers/bin/nats-server or $SLUICE_REF_NATS_SERVER)")
	}
	clitest.Isolate(t)
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	var routes []string
	for _, p := range ports {
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
	}
	var out []*Server
	for i := 0; i < n; i++ {
		dir := t.TempDir()
		conf := fmt.Sprintf(`listen: "127.0.0.1:-1"
server_name: ref%d
ports_file_dir: %q
jetstream { store_dir: %q }
cluster { name: C, listen: "127.0.0.1:%d", routes: [%s] }
accounts {
  SYS { users: [{user: %s, password: %s}] }
  A { users: [{user: %s, password: %s}]
      jetstream: enabled }
}
system_account: SYS
`, i+1, dir, filepath.Join(dir, "js"), ports[i], strings.Join(routes, ", "), SysUser, SysPass, AppUser, AppPass)
		url, id := startRef(t, bin, dir, conf)
		out = append(out, &Server{URL: url, Name: fmt.Sprintf("ref%d", i+1), ID: id})
	}
	// Wait until the JetStream meta group has a leader.
	nc, err := nats.Connect(out[0].URL, nats.UserInfo(AppUser, AppPass))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	testutil.CheckFor(t, 30*time.Second, 50*time.Millisecond, func() error {
		m, err := nc.Request("$JS.API.INFO", nil, time.Second)
		if err != nil {
			return err
		}
		if strings.Contains(string(m.Data), `"error"`) {
			return fmt.Errorf("%s", m.Data)
		}
		return nil
	})
	t.Setenv("NATS_URL", out[0].URL)
	actAsSys(t)
	return out
}

// startRef runs the reference binary with conf in dir until the test
// ends, and returns its client URL and server id.
func startRef(t testing.TB, bin, dir, conf string) (string, string) {
	t.Helper()
	cf := filepath.Join(dir, "ref.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	url := StartProcess(t, bin, cf, dir)
	nc, err := nats.Connect(url, nats.UserInfo(SysUser, SysPass))
	if err != nil {
		t.Fatalf("connect to the reference server: %v", err)
	}
	defer nc.Close()
	return url, nc.ConnectedServerId()
}

// StartProcess runs a server binary (nats-server, or sluice through its
// nats-server personality) with `-c conf` from conf's directory, waits
// for the ports file it writes in portsDir (the configuration's
// ports_file_dir) and returns the client URL. The process is killed when
// the test ends.
func StartProcess(t testing.TB, bin, conf, portsDir string) string {
	t.Helper()
	var logs cmdutil.SyncBuffer
	cmd := exec.Command(bin, "-c", conf)
	cmd.Dir = filepath.Dir(conf)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	portsFile := filepath.Join(portsDir, fmt.Sprintf("%s_%d.ports", filepath.Base(bin), cmd.Process.Pid))
	var url string
	testutil.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		select {
		case <-exited:
			t.Fatalf("%s exited early:\n%s", filepath.Base(bin), logs.String())
		default:
		}
		b, err := os.ReadFile(portsFile)
		if err != nil {
			return err
		}
		var ports struct {
			Nats []string `json:"nats"`
		}
		if err := json.Unmarshal(b, &ports); err != nil || len(ports.Nats) == 0 {
			return fmt.Errorf("ports file %q not complete", b)
		}
		url = ports.Nats[0]
		return nil
	})
	return url
}

// StartReference starts the reference nats-server as Reference does but
// touches no environment variables, so parallel tests (testscript) may
// use it. It fails the test when the binary is not installed.
func StartReference(t testing.TB, ro RefOptions) *Server {
	t.Helper()
	bin := ReferenceBinary()
	if bin == "" {
		t.Fatal("reference nats-server not installed (~/peers/bin/nats-server or $SLUICE_REF_NATS_SERVER)")
	}
	return startReference(t, bin, ro)
}

func startReference(t testing.TB, bin string, ro RefOptions) *Server {
	dir := t.TempDir()
	js, accJS := "", ""
	if ro.JetStream {
		js = fmt.Sprintf("jetstream { store_dir: %q }\n", filepath.Join(dir, "js"))
		accJS = "jetstream: enabled"
	}
	conf := fmt.Sprintf(`listen: "127.0.0.1:-1"
server_name: ref1
ports_file_dir: %q
%saccounts {
  SYS { users: [{user: %s, password: %s}] }
  A { users: [{user: %s, password: %s}]
      %s }
}
system_account: SYS
`, dir, js, SysUser, SysPass, AppUser, AppPass, accJS)
	url, id := startRef(t, bin, dir, conf)
	return &Server{URL: url, Name: "ref1", ID: id}
}
