package listcmd_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
	"github.com/sluicehq/sluice/internal/cli/server/sysreq"
)

func TestListTable(t *testing.T) {
	srv := srvtest.Serve(t)
	r := clitest.Run(t, "server", "list")
	clitest.ExpectCode(t, r, 0)
	for _, want := range []string{"Server Overview", "Name", "Conns", "RTT", srv.Name, "127.0.0.1", "1 server"} {
		if !strings.Contains(r.Stdout, want) {
			t.Fatalf("missing %q in:\n%s", want, r.Stdout)
		}
	}
	if r.Stderr != "" {
		t.Fatalf("stderr: %s", r.Stderr)
	}
	// The alias, an expected count and every sort key work.
	for _, key := range []string{"name", "cluster", "conns", "subs", "routes", "gws", "mem", "cpu", "slow", "uptime", "rtt", "conn"} {
		r = clitest.Run(t, "server", "ls", "1", "--sort", key, "-R")
		clitest.ExpectCode(t, r, 0)
	}
}

func TestListJSON(t *testing.T) {
	srv := srvtest.Serve(t)
	r := clitest.Run(t, "server", "list", "--json")
	clitest.ExpectCode(t, r, 0)
	var got []sysreq.StatsMsg
	if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil {
		t.Fatalf("%v: %s", err, r.Stdout)
	}
	if len(got) != 1 || got[0].Server.ID != srv.ID || got[0].Server.Name != srv.Name || got[0].Stats.Connections < 1 {
		t.Fatalf("got %+v", got)
	}
}

func TestListErrors(t *testing.T) {
	srvtest.Serve(t)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"server", "list", "zero"}, cmdutil.ExitUsage, "EXPECTED must be a positive number"},
		{[]string{"server", "list", "0"}, cmdutil.ExitUsage, "EXPECTED must be a positive number"},
		{[]string{"server", "list", "1", "2"}, cmdutil.ExitUsage, "at most 1 argument"},
		{[]string{"server", "list", "--sort", "bogus"}, cmdutil.ExitUsage, "--sort must be one of"},
		{[]string{"server", "list", "2", "--timeout", "200ms"}, cmdutil.ExitTimeout, "1 of 2 expected servers answered"},
	} {
		r := clitest.Run(t, c.args...)
		if r.Code != c.code || !strings.Contains(r.Stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, r.Code, r.Stderr, c.code, c.want)
		}
	}
	// A user outside the system account gets no answer, and is told why.
	srvtest.ActAs(t, srvtest.AppUser, srvtest.AppPass)
	r := clitest.Run(t, "server", "list")
	if r.Code != cmdutil.ExitNoResponders || !strings.Contains(r.Stderr, "system account") {
		t.Fatalf("non-system user: exit %d, %s", r.Code, r.Stderr)
	}
}

func TestCompactNames(t *testing.T) {
	for _, c := range []struct{ in, want []string }{
		{[]string{"n1.east.example.com", "n2.east.example.com"}, []string{"n1", "n2"}},
		{[]string{"n1.east.example.com", "n2.west.example.com"}, []string{"n1.east", "n2.west"}},
		{[]string{"a", "b"}, []string{"a", "b"}},
		{[]string{"x.com", "x.com"}, []string{"x", "x"}},
		{[]string{"only.one"}, []string{"only.one"}},
		{[]string{"a.b", "b"}, []string{"a.b", "b"}},
	} {
		got := sysreq.CompactNames(c.in)
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("CompactNames(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestListReference(t *testing.T) {
	ref := srvtest.Reference(t, srvtest.RefOptions{JetStream: true})
	r := clitest.Run(t, "server", "list")
	clitest.ExpectCode(t, r, 0)
	if !strings.Contains(r.Stdout, "ref1") || !strings.Contains(r.Stdout, "2.15") || !strings.Contains(r.Stdout, "| yes") {
		t.Fatalf("table:\n%s", r.Stdout)
	}
	r = clitest.Run(t, "server", "list", "--json")
	clitest.ExpectCode(t, r, 0)
	var got []sysreq.StatsMsg
	if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil || len(got) != 1 || got[0].Server.ID != ref.ID || !got[0].Server.JetStream {
		t.Fatalf("%v: %s", err, r.Stdout)
	}
}
