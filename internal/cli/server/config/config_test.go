package configcmd_test

import (
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
)

func TestReload(t *testing.T) {
	srvtest.Both(t, srvtest.RefOptions{}, func(t *testing.T, s *srvtest.Server) {
		var reloads atomic.Int32
		if s.Local != nil {
			s.Local.SetReloader(func() error { reloads.Add(1); return nil })
		}
		r := clitest.Run(t, "server", "config", "reload", s.Name, "--force")
		clitest.ExpectCode(t, r, 0)
		if r.Stdout != "Reloaded the configuration of "+s.Name+" ("+s.ID+")\n" {
			t.Fatalf("stdout %q", r.Stdout)
		}
		// On a terminal it asks first; by id.
		stub := &cmdutil.PromptStub{Answers: []any{true}}
		r = clitest.RunWith(t, clitest.Opts{TTY: true, Prompter: stub}, "server", "config", "reload", s.ID, "--json")
		clitest.ExpectCode(t, r, 0)
		if len(stub.Asked) != 1 || !strings.Contains(stub.Asked[0], s.Name) {
			t.Fatalf("asked %q", stub.Asked)
		}
		var env map[string]json.RawMessage
		if err := json.Unmarshal([]byte(r.Stdout), &env); err != nil || env["server"] == nil || env["error"] != nil {
			t.Fatalf("%v: %s", err, r.Stdout)
		}
		if s.Local != nil && reloads.Load() != 2 {
			t.Fatalf("%d reloads", reloads.Load())
		}
		// Declined: nothing happens.
		r = clitest.RunWith(t, clitest.Opts{TTY: true, Answers: []any{false}}, "server", "config", "reload", s.Name)
		if r.Code != cmdutil.ExitCancelled {
			t.Fatalf("declined: exit %d %s", r.Code, r.Stderr)
		}
		if s.Local != nil && reloads.Load() != 2 {
			t.Fatalf("reloaded after declining")
		}
	})
}

func TestReloadErrors(t *testing.T) {
	s := srvtest.Serve(t)
	// Not on a terminal, without --force.
	r := clitest.Run(t, "server", "config", "reload", s.Name)
	if r.Code != cmdutil.ExitUsage || !strings.Contains(r.Stderr, "--force") {
		t.Fatalf("no confirmation: exit %d %s", r.Code, r.Stderr)
	}
	// The server's own failure is reported.
	s.Local.SetReloader(func() error { return errors.New("config reload: bad line 3") })
	r = clitest.Run(t, "server", "config", "reload", s.Name, "-f")
	if r.Code != cmdutil.ExitError || !strings.Contains(r.Stderr, "bad line 3 (code 500)") {
		t.Fatalf("failed reload: exit %d %s", r.Code, r.Stderr)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"server", "config", "reload"}, cmdutil.ExitUsage, "missing SERVER argument"},
		{[]string{"server", "config", "reload", "nosuch", "-f"}, cmdutil.ExitNotFound, `server "nosuch" not found`},
		{[]string{"server", "config", "bogus"}, cmdutil.ExitUsage, `unknown command "bogus"`},
	} {
		r := clitest.Run(t, c.args...)
		if r.Code != c.code || !strings.Contains(r.Stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, r.Code, r.Stderr, c.code, c.want)
		}
	}
	srvtest.ActAs(t, srvtest.AppUser, srvtest.AppPass)
	r = clitest.Run(t, "server", "config", "reload", s.ID, "-f")
	if r.Code != cmdutil.ExitNoResponders || !strings.Contains(r.Stderr, "system account") {
		t.Fatalf("non-system user: exit %d %s", r.Code, r.Stderr)
	}
}
