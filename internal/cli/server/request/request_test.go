package requestcmd_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
	"github.com/sluicehq/sluice/internal/cli/server/sysreq"
	"github.com/sluicehq/sluice/pkg/api"
)

// answers splits the output into answers, one JSON line each.
func answers[T any](t *testing.T, out string) []sysreq.Response[T] {
	t.Helper()
	var res []sysreq.Response[T]
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r sysreq.Response[T]
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		res = append(res, r)
	}
	return res
}

func one[T any](t *testing.T, s *srvtest.Server, args ...string) *T {
	t.Helper()
	r := clitest.Run(t, append([]string{"server", "request"}, args...)...)
	clitest.ExpectCode(t, r, 0)
	res := answers[T](t, r.Stdout)
	if len(res) != 1 || res[0].Server == nil || res[0].Server.ID != s.ID || res[0].Error != nil || res[0].Data == nil {
		t.Fatalf("%v: %s", args, r.Stdout)
	}
	return res[0].Data
}

func TestRequestVarz(t *testing.T) {
	srvtest.Both(t, srvtest.RefOptions{}, func(t *testing.T, s *srvtest.Server) {
		for _, verb := range []string{"varz", "variables", "var"} {
			v := one[api.Varz](t, s, verb)
			if v.ID != s.ID || v.Name != s.Name || v.MaxPayload != 1<<20 {
				t.Fatalf("%s: %+v", verb, v)
			}
		}
		// Filters: the named server answers, another name gets nobody.
		one[api.Varz](t, s, "varz", "--name", s.Name)
		r := clitest.Run(t, "server", "request", "varz", "--name", "nosuch", "--timeout", "300ms")
		if r.Code != cmdutil.ExitTimeout || !strings.Contains(r.Stderr, "no server answered $SYS.REQ.SERVER.PING.VARZ") {
			t.Fatalf("filtered out: exit %d %s", r.Code, r.Stderr)
		}
	})
}

func TestRequestConnz(t *testing.T) {
	srvtest.Both(t, srvtest.RefOptions{}, func(t *testing.T, s *srvtest.Server) {
		nc, err := nats.Connect(s.URL, nats.UserInfo(srvtest.AppUser, srvtest.AppPass), nats.Name("app-client"))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		if _, err := nc.SubscribeSync("orders.>"); err != nil {
			t.Fatal(err)
		}
		nc.Flush()
		c := one[api.Connz](t, s, "connz", "--filter-account", "A", "--subscriptions", "--sort", "subs")
		if c.NumConns != 1 || c.Conns[0].Name != "app-client" || c.Conns[0].Account != "A" ||
			len(c.Conns[0].SubsDetail) != 1 || c.Conns[0].SubsDetail[0].Subject != "orders.>" {
			b, _ := json.Marshal(c)
			t.Fatalf("connz: %s", b)
		}
		c = one[api.Connz](t, s, "connections", "--limit", "1")
		if c.Limit != 1 || len(c.Conns) != 1 || c.Total < 2 {
			t.Fatalf("limit 1: %+v", c)
		}
		// --filter-empty drops servers without matching connections.
		r := clitest.Run(t, "server", "request", "connz", "--filter-account", "NOBODY", "--filter-empty")
		clitest.ExpectCode(t, r, 0)
		if r.Stdout != "" {
			t.Fatalf("--filter-empty printed %s", r.Stdout)
		}
	})
}

func TestRequestOtherZ(t *testing.T) {
	srvtest.Both(t, srvtest.RefOptions{}, func(t *testing.T, s *srvtest.Server) {
		sz := one[api.Subsz](t, s, "subsz", "--detail", "--filter-account", "SYS")
		if sz.NumSubs == 0 {
			t.Fatalf("subsz: %+v", sz)
		}
		az := one[api.Accountz](t, s, "accountz")
		if !strings.Contains(strings.Join(az.Accounts, ","), "A") || az.SystemAccount != "SYS" {
			t.Fatalf("accountz: %+v", az)
		}
		az = one[api.Accountz](t, s, "accounts", "--account", "A")
		if az.Account == nil || az.Account.AccountName != "A" {
			t.Fatalf("accountz A: %+v", az)
		}
		one[api.Routez](t, s, "routez", "--subscriptions")
		one[api.Gatewayz](t, s, "gatewayz", "1", "somegw", "--accounts")
		one[api.Leafz](t, s, "leafz")
		// Both servers answer from inside their system queue.
		if q := one[api.IpqueueszStatus](t, s, "ipqueue"); len(*q) == 0 {
			t.Fatalf("ipqueue --all: %+v", q)
		}
		if q := one[api.IpqueueszStatus](t, s, "ipq", "--filter", "no such queue"); len(*q) != 0 {
			t.Fatalf("ipqueue --filter: %+v", q)
		}
		if r := one[api.RaftzStatus](t, s, "raft"); len(*r) != 0 {
			t.Fatalf("raft without JetStream: %+v", r)
		}
		js := one[api.JSInfo](t, s, "jsz", "--all")
		if !js.Disabled {
			t.Fatalf("jsz on a server without JetStream: %+v", js)
		}
	})
}

// STATSZ, IDZ and HEALTHZ are answered by sluice today.
func TestRequestStatszIdzHealthz(t *testing.T) {
	srvtest.Both(t, srvtest.RefOptions{}, func(t *testing.T, s *srvtest.Server) {
		r := clitest.Run(t, "server", "request", "statsz", "1")
		clitest.ExpectCode(t, r, 0)
		var st sysreq.StatsMsg
		if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil || st.Server.ID != s.ID || st.Stats.Connections < 1 {
			t.Fatalf("%v: %s", err, r.Stdout)
		}
		r = clitest.Run(t, "server", "request", "idz")
		clitest.ExpectCode(t, r, 0)
		var id api.ServerID
		if err := json.Unmarshal([]byte(r.Stdout), &id); err != nil || id.ID != s.ID || id.Name != s.Name {
			t.Fatalf("%v: %s", err, r.Stdout)
		}
		h := one[api.HealthStatus](t, s, "healthz")
		if h.Status != "ok" {
			t.Fatalf("healthz: %+v", h)
		}
		// One answer per line, even when asked to wait for more.
		r = clitest.Run(t, "server", "request", "idz", "2", "--timeout", "300ms")
		if r.Code != cmdutil.ExitTimeout || strings.Count(r.Stdout, "\n") != 1 || !strings.Contains(r.Stderr, "1 of 2 expected answers") {
			t.Fatalf("wait 2: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
		}
	})
}

func TestRequestProfile(t *testing.T) {
	srvtest.Both(t, srvtest.RefOptions{}, func(t *testing.T, s *srvtest.Server) {
		dir := t.TempDir()
		r := clitest.Run(t, "server", "request", "profile", "goroutine", dir, "--level", "1")
		clitest.ExpectCode(t, r, 0)
		if !strings.HasPrefix(r.Stdout, `Server "`+s.Name+`" profile written: `+filepath.Join(dir, "goroutine-")) {
			t.Fatalf("stdout %q", r.Stdout)
		}
		file := strings.TrimSpace(strings.SplitN(r.Stdout, "written: ", 2)[1])
		b, err := os.ReadFile(file)
		if err != nil || !strings.Contains(string(b), "goroutine") {
			t.Fatalf("profile %s: %v %.100q", file, err, b)
		}
	})
}

func TestRequestControl(t *testing.T) {
	s := srvtest.Serve(t)
	closed := make(chan struct{})
	nc, err := nats.Connect(s.URL, nats.UserInfo(srvtest.AppUser, srvtest.AppPass), nats.NoReconnect(),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	cid, _ := nc.GetClientID()
	r := clitest.Run(t, "server", "request", "ldm", itoa(cid), s.Name)
	clitest.ExpectCode(t, r, 0)
	if !strings.Contains(r.Stdout, "Asked client "+itoa(cid)+" on "+s.Name) {
		t.Fatalf("ldm: %s", r.Stdout)
	}
	r = clitest.Run(t, "server", "request", "kick", itoa(cid), s.ID)
	clitest.ExpectCode(t, r, 0)
	<-closed
	s.Local.SetReloader(func() error { return nil })
	clitest.ExpectCode(t, clitest.Run(t, "server", "request", "reload", s.Name, "--force"), 0)
}

func TestRequestErrors(t *testing.T) {
	srvtest.Serve(t)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"varz", "zero"}, cmdutil.ExitUsage, "WAIT must be a positive number"},
		{[]string{"varz", "1", "2"}, cmdutil.ExitUsage, "at most 1 argument"},
		{[]string{"connz", "--sort", "bogus"}, cmdutil.ExitUsage, `--sort "bogus" is not a connection sort key`},
		{[]string{"connz", "--filter-state", "gone"}, cmdutil.ExitUsage, "--filter-state must be open, closed or all"},
		{[]string{"varz", "--limit", "-1"}, cmdutil.ExitUsage, "may not be negative"},
		{[]string{"profile"}, cmdutil.ExitUsage, "missing PROFILE argument"},
		{[]string{"profile", "bogus"}, cmdutil.ExitUsage, "PROFILE must be one of"},
		{[]string{"profile", "heap", "/no/such/dir"}, cmdutil.ExitUsage, `DIR "/no/such/dir" is not a directory`},
		{[]string{"bogus"}, cmdutil.ExitUsage, `unknown command "bogus"`},
	} {
		r := clitest.Run(t, append([]string{"server", "request"}, c.args...)...)
		if r.Code != c.code || !strings.Contains(r.Stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, r.Code, r.Stderr, c.code, c.want)
		}
	}
	srvtest.ActAs(t, srvtest.AppUser, srvtest.AppPass)
	r := clitest.Run(t, "server", "request", "idz")
	if r.Code != cmdutil.ExitNoResponders || !strings.Contains(r.Stderr, "system account") {
		t.Fatalf("non-system user: exit %d %s", r.Code, r.Stderr)
	}
}

func itoa(n uint64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
