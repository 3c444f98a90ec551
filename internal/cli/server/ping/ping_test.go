package pingcmd_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	pingcmd "github.com/sluicehq/sluice/internal/cli/server/ping"
	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
)

func TestPing(t *testing.T) {
	srv := srvtest.Serve(t)
	r := clitest.Run(t, "server", "ping")
	clitest.ExpectCode(t, r, 0)
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], srv.Name+" ") || !strings.Contains(lines[0], "rtt=") ||
		lines[2] != "---- ping statistics ----" || !strings.HasPrefix(lines[3], "1 replies, rtt min ") {
		t.Fatalf("output:\n%s", r.Stdout)
	}
	r = clitest.Run(t, "server", "ping", "1", "--id")
	clitest.ExpectCode(t, r, 0)
	if !strings.HasPrefix(r.Stdout, srv.ID+" "+srv.Name) {
		t.Fatalf("--id:\n%s", r.Stdout)
	}
}

func TestPingJSON(t *testing.T) {
	srv := srvtest.Serve(t)
	r := clitest.Run(t, "server", "ping", "--json")
	clitest.ExpectCode(t, r, 0)
	var res pingcmd.Result
	if err := json.Unmarshal([]byte(r.Stdout), &res); err != nil {
		t.Fatalf("%v: %s", err, r.Stdout)
	}
	if res.Replies != 1 || res.Expected != 1 || len(res.Servers) != 1 || res.Servers[0].ID != srv.ID ||
		res.Min <= 0 || res.Min != res.Max || res.Avg != res.Min {
		t.Fatalf("result %+v", res)
	}
}

func TestPingErrors(t *testing.T) {
	srvtest.Serve(t)
	r := clitest.Run(t, "server", "ping", "3", "--timeout", "200ms")
	if r.Code != cmdutil.ExitTimeout || !strings.Contains(r.Stderr, "1 of 3 expected servers answered within 200ms") || !strings.Contains(r.Stdout, "1 replies") {
		t.Fatalf("missing servers: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r = clitest.Run(t, "server", "ping", "x")
	if r.Code != cmdutil.ExitUsage {
		t.Fatalf("bad count: exit %d %s", r.Code, r.Stderr)
	}
	srvtest.ActAs(t, srvtest.AppUser, srvtest.AppPass)
	r = clitest.Run(t, "server", "ping")
	if r.Code != cmdutil.ExitNoResponders || !strings.Contains(r.Stderr, "system account") {
		t.Fatalf("non-system user: exit %d, %s", r.Code, r.Stderr)
	}
}
