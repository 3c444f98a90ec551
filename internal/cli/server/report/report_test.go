package reportcmd_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	reportcmd "github.com/sluicehq/sluice/internal/cli/server/report"
	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
)

// clients connects n clients of account A named app-1..app-n; client i
// subscribes to i subjects and publishes i messages.
func clients(t *testing.T, url string, n int) []*nats.Conn {
	t.Helper()
	var ncs []*nats.Conn
	for i := 1; i <= n; i++ {
		nc, err := nats.Connect(url, nats.UserInfo(srvtest.AppUser, srvtest.AppPass), nats.Name(fmt.Sprintf("app-%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		for j := 0; j < i; j++ {
			if _, err := nc.SubscribeSync(fmt.Sprintf("s.%d.%d", i, j)); err != nil {
				t.Fatal(err)
			}
			nc.Publish("nobody.listens", []byte("x"))
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		ncs = append(ncs, nc)
	}
	return ncs
}

func TestReportConnections(t *testing.T) {
	srvtest.Both(t, srvtest.RefOptions{}, func(t *testing.T, s *srvtest.Server) {
		clients(t, s.URL, 5)
		// Pages of two connections: all five arrive all the same.
		r := clitest.Run(t, "server", "report", "connections", "--account", "A", "--page-size", "2")
		clitest.ExpectCode(t, r, 0)
		for _, want := range []string{"Top 5 Connections out of 5 by subs", "Totals for 5 connections", "Connections per server", "app-5", "app-1", s.Name} {
			if !strings.Contains(r.Stdout, want) {
				t.Fatalf("missing %q in:\n%s", want, r.Stdout)
			}
		}
		if strings.Index(r.Stdout, "app-5") > strings.Index(r.Stdout, "app-1") {
			t.Fatalf("not sorted by subscriptions:\n%s", r.Stdout)
		}
		r = clitest.Run(t, "server", "report", "conns", "--account", "A", "--sort", "in-msgs", "--top", "2", "--json", "--page-size", "3")
		clitest.ExpectCode(t, r, 0)
		var conns []reportcmd.Conn
		if err := json.Unmarshal([]byte(r.Stdout), &conns); err != nil {
			t.Fatalf("%v: %s", err, r.Stdout)
		}
		if len(conns) != 2 || conns[0].Name != "app-5" || conns[1].Name != "app-4" || conns[0].InMsgs != 5 ||
			conns[0].Server == nil || conns[0].Server.ID != s.ID || conns[0].Account != "A" {
			t.Fatalf("%s", r.Stdout)
		}
		r = clitest.Run(t, "server", "report", "conns", "--account", "A", "--sort", "in-msgs", "-R", "--json")
		clitest.ExpectCode(t, r, 0)
		conns = nil
		json.Unmarshal([]byte(r.Stdout), &conns)
		if len(conns) != 5 || conns[0].Name != "app-1" {
			t.Fatalf("reversed: %s", r.Stdout)
		}
		// A subscription filter, and a user filter that matches nobody.
		r = clitest.Run(t, "server", "report", "conns", "--subject", "s.3.0", "--account", "A", "--json")
		clitest.ExpectCode(t, r, 0)
		conns = nil
		json.Unmarshal([]byte(r.Stdout), &conns)
		if len(conns) != 1 || conns[0].Name != "app-3" {
			t.Fatalf("--subject: %s", r.Stdout)
		}
		r = clitest.Run(t, "server", "report", "conns", "--username", "nobody")
		clitest.ExpectCode(t, r, 0)
		if r.Stdout != "" || !strings.Contains(r.Stderr, "No connections match") {
			t.Fatalf("no match: %q %q", r.Stdout, r.Stderr)
		}
	})
}

func TestReportClosedConnections(t *testing.T) {
	srvtest.Both(t, srvtest.RefOptions{}, func(t *testing.T, s *srvtest.Server) {
		ncs := clients(t, s.URL, 2)
		ncs[0].Close()
		var r clitest.Result
		deadline := time.Now().Add(10 * time.Second)
		for {
			r = clitest.Run(t, "server", "report", "connections", "--closed-reason", "client closed", "--account", "A")
			if r.Code == 0 && strings.Contains(r.Stdout, "app-1") || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		clitest.ExpectCode(t, r, 0)
		if !strings.Contains(r.Stdout, "Reason") || !strings.Contains(r.Stdout, "Client Closed") || strings.Contains(r.Stdout, "app-2") {
			t.Fatalf("closed:\n%s", r.Stdout)
		}
	})
}

func TestReportAccounts(t *testing.T) {
	srvtest.Both(t, srvtest.RefOptions{}, func(t *testing.T, s *srvtest.Server) {
		clients(t, s.URL, 3)
		r := clitest.Run(t, "server", "report", "accounts")
		clitest.ExpectCode(t, r, 0)
		for _, want := range []string{"Accounts Overview", "| A ", "SYS", "Totals"} {
			if !strings.Contains(r.Stdout, want) {
				t.Fatalf("missing %q in:\n%s", want, r.Stdout)
			}
		}
		r = clitest.Run(t, "server", "report", "acct", "--sort", "conns", "--json")
		clitest.ExpectCode(t, r, 0)
		var accs []reportcmd.Account
		if err := json.Unmarshal([]byte(r.Stdout), &accs); err != nil {
			t.Fatalf("%v: %s", err, r.Stdout)
		}
		if len(accs) < 2 || accs[0].Account != "A" || accs[0].Connections != 3 || accs[0].Subs != 6 || accs[0].InMsgs != 6 ||
			len(accs[0].Servers) != 1 || accs[0].Servers[0] != s.Name {
			t.Fatalf("%s", r.Stdout)
		}
		// One account: its connections.
		r = clitest.Run(t, "server", "report", "accounts", "A")
		clitest.ExpectCode(t, r, 0)
		if !strings.Contains(r.Stdout, "Top 3 Connections out of 3") {
			t.Fatalf("account A:\n%s", r.Stdout)
		}
		r = clitest.Run(t, "server", "report", "accounts", "--account", "A", "--json")
		clitest.ExpectCode(t, r, 0)
		var a reportcmd.Account
		if err := json.Unmarshal([]byte(r.Stdout), &a); err != nil || a.Connections != 3 || len(a.Conns) != 3 || a.Conns[0].Name != "app-3" {
			t.Fatalf("%v: %s", err, r.Stdout)
		}
		r = clitest.Run(t, "server", "report", "accounts", "NOPE")
		if r.Code != cmdutil.ExitNotFound {
			t.Fatalf("unknown account: exit %d %s", r.Code, r.Stderr)
		}
	})
}

func TestReportJetStream(t *testing.T) {
	ref := srvtest.Reference(t, srvtest.RefOptions{JetStream: true})
	nc, err := nats.Connect(ref.URL, nats.UserInfo(srvtest.AppUser, srvtest.AppPass))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if m, err := nc.Request("$JS.API.STREAM.CREATE.ORDERS", []byte(`{"name":"ORDERS","subjects":["orders.>"],"storage":"memory"}`), 5*time.Second); err != nil ||
		strings.Contains(string(m.Data), `"error"`) {
		t.Fatalf("create stream: %v %s", err, m.Data)
	}
	for i := 0; i < 3; i++ {
		if _, err := nc.Request("orders.new", []byte("o"), 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	r := clitest.Run(t, "server", "report", "jetstream")
	clitest.ExpectCode(t, r, 0)
	for _, want := range []string{"JetStream Summary", "ref1", "Streams", "API Req"} {
		if !strings.Contains(r.Stdout, want) {
			t.Fatalf("missing %q in:\n%s", want, r.Stdout)
		}
	}
	r = clitest.Run(t, "server", "report", "js", "--account", "A")
	clitest.ExpectCode(t, r, 0)
	if !strings.Contains(r.Stdout, "JetStream Summary for Account A") || !strings.Contains(r.Stdout, " 3 |") {
		t.Fatalf("account A:\n%s", r.Stdout)
	}
	r = clitest.Run(t, "server", "report", "jsz", "--json", "--sort", "mem")
	clitest.ExpectCode(t, r, 0)
	var env []struct {
		Data struct {
			Streams int `json:"streams"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &env); err != nil || len(env) != 1 || env[0].Data.Streams != 1 {
		t.Fatalf("%v: %s", err, r.Stdout)
	}
}

func TestReportJetStreamDisabled(t *testing.T) {
	srvtest.Both(t, srvtest.RefOptions{}, func(t *testing.T, s *srvtest.Server) {
		r := clitest.Run(t, "server", "report", "jetstream")
		if r.Code != cmdutil.ExitError || !strings.Contains(r.Stderr, "JetStream is not enabled on the 1 server that answered") {
			t.Fatalf("exit %d %s", r.Code, r.Stderr)
		}
	})
}

func TestReportErrors(t *testing.T) {
	srvtest.Serve(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"connections", "--sort", "bogus"}, "--sort must be one of"},
		{[]string{"accounts", "--sort", "uptime"}, "--sort must be one of"},
		{[]string{"jetstream", "--sort", "bogus"}, "--sort must be one of"},
		{[]string{"connections", "--top", "-1"}, "--top may not be negative"},
		{[]string{"connections", "--state", "gone"}, "--state must be open, closed or all"},
		{[]string{"connections", "--closed-reason", "("}, "--closed-reason: "},
		{[]string{"accounts", "A", "--account", "B"}, "give the account once"},
		{[]string{"bogus"}, `unknown command "bogus"`},
	} {
		r := clitest.Run(t, append([]string{"server", "report"}, c.args...)...)
		if r.Code != cmdutil.ExitUsage || !strings.Contains(r.Stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %q", c.args, r.Code, r.Stderr, c.want)
		}
	}
	r := clitest.Run(t, "server", "report", "connections", "--server-name", "nosuch", "--timeout", "300ms")
	if r.Code != cmdutil.ExitTimeout || !strings.Contains(r.Stderr, "no server answered $SYS.REQ.SERVER.PING.CONNZ") {
		t.Fatalf("filtered out: exit %d %s", r.Code, r.Stderr)
	}
	srvtest.ActAs(t, srvtest.AppUser, srvtest.AppPass)
	r = clitest.Run(t, "server", "report", "accounts")
	if r.Code != cmdutil.ExitNoResponders || !strings.Contains(r.Stderr, "system account") {
		t.Fatalf("non-system user: exit %d %s", r.Code, r.Stderr)
	}
}
