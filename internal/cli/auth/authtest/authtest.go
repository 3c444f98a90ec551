// Package authtest helps the tests of `sluice auth`: an isolated store,
// the reference nsc v2.15.0 (installed on first use by
// scripts/install-nsc into ~/peers/bin) and the reference nats-server
// started from a generated operator-mode configuration. Import it only
// from tests.
package authtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

// Isolate gives the test its own HOME, config and data directories and
// clears nsc's variables. It returns HOME.
func Isolate(t testing.TB) string {
	t.Helper()
	clitest.Isolate(t)
	home := os.Getenv("HOME")
	for _, k := range []string{"XDG_DATA_HOME", "NSC_HOME", "NKEYS_PATH", "NSC_CWD_ONLY"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	return home
}

var (
	nscOnce sync.Once
	nscPath string
	nscErr  error
)

// NSC returns the path of nsc v2.15.0, installing it on first use with
// scripts/install-nsc ($SLUICE_REF_NSC overrides). The test fails when
// it cannot be had: interoperability tests run, they do not skip.
func NSC(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("SLUICE_REF_NSC"); p != "" {
		return p
	}
	nscOnce.Do(func() {
		home := realHome
		bin := filepath.Join(home, "peers", "bin")
		_, file, _, _ := runtime.Caller(0)
		script := filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "scripts", "install-nsc")
		cmd := exec.Command("sh", script)
		// The environment from before tests isolated themselves: the go
		// command keeps caches and telemetry under HOME and
		// XDG_CONFIG_HOME, and may write there after it exits.
		cmd.Env = append(realEnv, "SLUICE_PEERS_BIN="+bin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			nscErr = fmt.Errorf("%s: %v\n%s", script, err, out)
			return
		}
		nscPath = filepath.Join(bin, "nsc")
	})
	if nscErr != nil {
		t.Fatalf("nsc v2.15.0 is needed: %v", nscErr)
	}
	return nscPath
}

// realHome is HOME before a test isolated itself: the reference
// binaries are in its peers/bin.
var realHome, _ = os.UserHomeDir()

// realEnv is the environment before any test changed it.
var realEnv = os.Environ()

// RunNSC runs nsc with args in the test's environment and returns its
// combined output; the test fails when nsc fails, unless wantErr.
func RunNSC(t testing.TB, wantErr bool, args ...string) string {
	t.Helper()
	cmd := exec.Command(NSC(t), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if (err != nil) != wantErr {
		t.Fatalf("nsc %v: err %v, want error %v\n%s", args, err, wantErr, out.String())
	}
	return out.String()
}

// RefServer starts the reference nats-server v2.15.2 on a random port
// with conf (an operator-mode configuration) included, and returns its
// client URL. It is stopped when the test ends.
func RefServer(t testing.TB, confFile string) string {
	t.Helper()
	bin := srvtest.ReferenceBinary()
	if bin == "" {
		p := filepath.Join(realHome, "peers", "bin", "nats-server")
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("the reference nats-server is needed: %s", p)
		}
		bin = p
	}
	dir := t.TempDir()
	// include takes a path relative to the including file.
	main := filepath.Join(filepath.Dir(confFile), "main-"+filepath.Base(dir)+".conf")
	conf := fmt.Sprintf("listen: \"127.0.0.1:-1\"\nports_file_dir: %q\ninclude %q\n", dir, filepath.Base(confFile))
	if err := os.WriteFile(main, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return srvtest.StartProcess(t, bin, main, dir)
}

// SluiceServer starts sluice's broker in this process from conf (an
// operator-mode configuration, as `sluice serve -c` reads it) on a random
// port and returns its client URL. It is stopped when the test ends.
func SluiceServer(t testing.TB, confFile string) string {
	t.Helper()
	var o server.Options
	if _, err := o.ProcessConfigFile(confFile, true); err != nil {
		t.Fatalf("sluice refused %s: %v", confFile, err)
	}
	s := testutil.RunServer(t, func(opts *server.Options) {
		logger := opts.Logger
		*opts = o
		opts.Host, opts.Port, opts.Logger = "127.0.0.1", server.RandomPort, logger
	})
	return "nats://" + s.Addr().String()
}

// Servers are the two servers the generated configurations are run on.
var Servers = []struct {
	Name  string
	Start func(testing.TB, string) string
}{{"nats-server", RefServer}, {"sluice", SluiceServer}}
