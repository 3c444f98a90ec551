package streamcmd_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sluicehq/sluice/internal/cli"
	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
)

// TestMain lets the test binary act as `sluice` when scripts exec it.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"sluice": func() { os.Exit(cli.Main()) },
	})
}

// TestScripts runs the JetStream scenarios in testdata/script (stream,
// consumer, account, bench js/kv) against a nats-server and against sluice,
// each with JetStream of its own per script, as user a of account A.
func TestScripts(t *testing.T) {
	for _, target := range []string{"nats-server", "sluice"} {
		t.Run(target, func(t *testing.T) { runScripts(t, target) })
	}
}

func runScripts(t *testing.T, target string) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			t, ok := env.T().(testing.TB)
			if !ok {
				return errors.New("testscript did not hand over a testing.TB")
			}
			var s *srvtest.Server
			if target == "sluice" {
				s = srvtest.StartSluice(t)
			} else {
				s = srvtest.StartReference(t, srvtest.RefOptions{JetStream: true})
			}
			home := filepath.Join(env.WorkDir, "home")
			if err := os.MkdirAll(home, 0o755); err != nil {
				return err
			}
			env.Setenv("HOME", home)
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
			env.Setenv("NATS_URL", s.URL)
			env.Setenv("NATS_USER", srvtest.AppUser)
			env.Setenv("NATS_PASSWORD", srvtest.AppPass)
			return nil
		},
		Condition: func(cond string) (bool, error) {
			if cond == "sluice" {
				return target == "sluice", nil
			}
			return false, errors.New("unknown condition " + cond)
		},
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"status": cmdStatus,
		},
	})
}

// cmdStatus runs a program and checks its exit status.
func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: status CODE PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("%s: %v", args[1], err)
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}
