package checkcmd_test

import (
	"encoding/json"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	checkcmd "github.com/sluicehq/sluice/internal/cli/server/check"
	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
)

func expect(t *testing.T, r clitest.Result, code int, prefix string) {
	t.Helper()
	if r.Code != code || !strings.HasPrefix(r.Stdout, prefix) {
		t.Fatalf("exit %d, want %d; stdout %q, want prefix %q; stderr %q", r.Code, code, r.Stdout, prefix, r.Stderr)
	}
}

var connLine = regexp.MustCompile(`^OK Connection OK:connected to nats://127\.0\.0\.1:\d+ in \S+ OK:rtt time \S+ OK:round trip took \S+ \| ` +
	`connect_time=\d\.\d{4}s;0\.5000;1\.0000 rtt=\d\.\d{4}s;0\.5000;1\.0000 request_time=\d\.\d{4}s;0\.5000;1\.0000\n$`)

func TestCheckConnection(t *testing.T) {
	srvtest.Serve(t)
	// Any user may run it, not only the system account.
	srvtest.ActAs(t, srvtest.AppUser, srvtest.AppPass)
	r := clitest.Run(t, "server", "check", "connection")
	clitest.ExpectCode(t, r, 0)
	if !connLine.MatchString(r.Stdout) {
		t.Fatalf("line %q", r.Stdout)
	}
	// Connecting always takes more than a nanosecond: warning; a
	// nanosecond round trip is never met: critical.
	expect(t, clitest.Run(t, "server", "check", "conn", "--connect-warn", "1ns", "--connect-critical", "1h"), 1, "WARNING Connection Warn:connected to")
	expect(t, clitest.Run(t, "server", "check", "conn", "--rtt-warn", "1ns", "--rtt-critical", "1ns"), 2, "CRITICAL Connection Crit:rtt time exceeded 1ns")
	expect(t, clitest.Run(t, "server", "check", "conn", "--req-warn", "1s", "--req-critical", "1ms"), 3, "UNKNOWN Connection Unknown:invalid thresholds")

	r = clitest.Run(t, "server", "check", "connection", "--format", "json")
	clitest.ExpectCode(t, r, 0)
	var res checkcmd.Result
	if err := json.Unmarshal([]byte(r.Stdout), &res); err != nil {
		t.Fatalf("%v: %s", err, r.Stdout)
	}
	if res.Status != checkcmd.OK || res.Check != "connections" || res.Name != "Connection" || len(res.OKs) != 3 ||
		len(res.PerfData) != 3 || res.PerfData[1].Name != "rtt" || res.PerfData[1].Unit != "s" || res.PerfData[1].Crit != 1 {
		t.Fatalf("%+v", res)
	}
	r = clitest.Run(t, "server", "check", "connection", "--format", "text")
	clitest.ExpectCode(t, r, 0)
	for _, want := range []string{"Connection: OK", "Status Detail", "Check Metrics", "connect_time", "request_time"} {
		if !strings.Contains(r.Stdout, want) {
			t.Fatalf("text: missing %q in\n%s", want, r.Stdout)
		}
	}
}

func TestCheckConnectionRefused(t *testing.T) {
	clitest.Isolate(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	r := clitest.Run(t, "server", "check", "connection", "-s", "nats://"+addr, "-j")
	if r.Code != 2 {
		t.Fatalf("exit %d: %s %s", r.Code, r.Stdout, r.Stderr)
	}
	var res checkcmd.Result
	if err := json.Unmarshal([]byte(r.Stdout), &res); err != nil || res.Status != checkcmd.Critical ||
		len(res.Criticals) != 1 || !strings.HasPrefix(res.Criticals[0], "connection failed: ") {
		t.Fatalf("%v: %s", err, r.Stdout)
	}
}

func TestCheckServer(t *testing.T) {
	srvtest.Both(t, srvtest.RefOptions{}, func(t *testing.T, s *srvtest.Server) {
		name := s.Name
		r := clitest.Run(t, "server", "check", "server", "--name", name)
		expect(t, r, 0, "OK "+name+" | uptime=")
		for _, p := range []string{" cpu=", " mem=", " connections=", " subscriptions="} {
			if !strings.Contains(r.Stdout, p) {
				t.Fatalf("missing %q in %q", p, r.Stdout)
			}
		}
		run := func(args ...string) clitest.Result {
			return clitest.Run(t, append([]string{"server", "check", "server", "--name", name}, args...)...)
		}
		expect(t, run("--auth-required"), 0, "OK "+name+" OK:Authentication required")
		expect(t, run("--tls-required"), 2, "CRITICAL "+name+" Crit:TLS not required")
		expect(t, run("--js-required"), 2, "CRITICAL "+name+" Crit:JetStream not enabled")
		expect(t, run("--conn-warn", "1", "--conn-critical", "1000"), 1, "WARNING "+name+" Warn:Connections ")
		// Inverted: too few connections is critical.
		expect(t, run("--conn-warn", "1000", "--conn-critical", "500"), 2, "CRITICAL "+name+" Crit:Connections ")
		expect(t, run("--subs-warn", "1000000", "--subs-critical", "2000000"), 0, "OK "+name+" OK:Subscriptions ")
		expect(t, run("--cpu-warn", "90", "--cpu-critical", "10"), 3, "UNKNOWN "+name+" Unknown:CPU: the critical threshold 10 is below")
		expect(t, run("--mem-warn", "1KB", "--mem-critical", "100GB"), 1, "WARNING "+name+" Warn:Memory ")
		// Just started: under an hour of uptime is critical.
		expect(t, run("--uptime-warn", "2h", "--uptime-critical", "1h"), 2, "CRITICAL "+name+" Crit:Up ")
		expect(t, run("--uptime-warn", "1h", "--uptime-critical", "2h"), 3, "UNKNOWN")
		expect(t, run("--tls-cert-warn", "720h", "--tls-cert-crit", "24h"), 2, "CRITICAL "+name+" Crit:TLS certificate expiry thresholds given but")
		r = clitest.Run(t, "server", "check", "server", "--name", "nosuch", "--timeout", "300ms")
		expect(t, r, 2, "CRITICAL nosuch Crit:varz failed: no server answered $SYS.REQ.SERVER.PING.VARZ")
	})
}

func TestCheckServerErrors(t *testing.T) {
	srvtest.Serve(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"server"}, "--name is required"},
		{[]string{"server", "--name", "x", "--mem-warn", "lots"}, "--mem-warn: "},
		{[]string{"connection", "--format", "xml"}, "--format must be nagios, json or text"},
		{[]string{"bogus"}, `unknown command "bogus"`},
	} {
		r := clitest.Run(t, append([]string{"server", "check"}, c.args...)...)
		if r.Code != cmdutil.ExitUsage || !strings.Contains(r.Stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %q", c.args, r.Code, r.Stderr, c.want)
		}
	}
	// A user outside the system account gets no VARZ: critical.
	srvtest.ActAs(t, srvtest.AppUser, srvtest.AppPass)
	r := clitest.Run(t, "server", "check", "server", "--name", "sluice1")
	expect(t, r, 2, "CRITICAL sluice1 Crit:varz failed: no server answers $SYS requests for this user")
}

func TestCheckJetStreamDisabled(t *testing.T) {
	srvtest.Serve(t)
	srvtest.ActAs(t, srvtest.AppUser, srvtest.AppPass)
	r := clitest.Run(t, "server", "check", "jetstream")
	expect(t, r, 2, "CRITICAL JetStream Crit:JetStream not available: JetStream is not enabled: nobody answers $JS.API.INFO\n")
	r = clitest.Run(t, "server", "check", "js", "--js-domain", "hub")
	expect(t, r, 2, "CRITICAL JetStream Crit:JetStream not available: JetStream is not enabled: nobody answers $JS.hub.API.INFO\n")
}

func TestCheckJetStreamReference(t *testing.T) {
	ref := srvtest.Reference(t, srvtest.RefOptions{JetStream: true})
	srvtest.ActAs(t, srvtest.AppUser, srvtest.AppPass)
	nc, err := nats.Connect(ref.URL, nats.UserInfo(srvtest.AppUser, srvtest.AppPass))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if m, err := nc.Request("$JS.API.STREAM.CREATE.ORDERS", []byte(`{"name":"ORDERS","subjects":["orders.>"],"storage":"memory"}`), 5*time.Second); err != nil ||
		strings.Contains(string(m.Data), `"error"`) {
		t.Fatalf("create stream: %v %s", err, m.Data)
	}
	r := clitest.Run(t, "server", "check", "jetstream")
	expect(t, r, 0, "OK JetStream | memory=0B memory_pct=0%;75;90 storage=0B storage_pct=0%;75;90 streams=1 streams_pct=0% consumers=0 consumers_pct=0% replicas_ok=1 ")
	r = clitest.Run(t, "server", "check", "jetstream", "--mem-warn", "90", "--mem-critical", "80")
	expect(t, r, 3, "UNKNOWN JetStream Unknown:memory: the warning threshold 90% is not below the critical one 80%")
	// The system account has no JetStream: the server says so.
	srvtest.ActAs(t, srvtest.SysUser, srvtest.SysPass)
	r = clitest.Run(t, "server", "check", "jetstream")
	expect(t, r, 2, "CRITICAL JetStream Crit:JetStream not available: ")
	if !strings.Contains(r.Stdout, "err_code") {
		t.Fatalf("no API error: %s", r.Stdout)
	}
}
