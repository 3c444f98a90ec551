package server_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil/refbin"
)

const traceRouteConf = `
system_account: SYS
accounts {
  SYS { users: [{user: sys, password: sys}] }
  A { users: [{user: a, password: a}] }
}
`

// refClusterNode runs nats-server v2.15.2 named name in cluster "cl" with
// traceRouteConf's accounts, routing to seedPort (0: none), and returns
// its client URL and cluster port.
func refClusterNode(t *testing.T, name string, seedPort int) (string, int) {
	return refClusterNodeConf(t, traceRouteConf, name, seedPort)
}

func refClusterNodeConf(t *testing.T, accounts, name string, seedPort int) (string, int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	routes := ""
	if seedPort != 0 {
		routes = fmt.Sprintf(`routes: ["nats-route://127.0.0.1:%d"]`, seedPort)
	}
	dir := t.TempDir()
	conf := accounts + fmt.Sprintf(`server_name: %s
listen: "127.0.0.1:-1"
ports_file_dir: %q
cluster { name: cl, listen: "127.0.0.1:%d", %s }
`, name, dir, port, routes)
	path := filepath.Join(dir, "ref.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return srvtest.StartProcess(t, refbin.NATSServer(t), path, dir), port
}

// sluiceClusterNode runs sluice named name in cluster "cl", routing to
// seedPort (0: none), and returns it.
func sluiceClusterNode(t *testing.T, name string, seedPort int) *server.Server {
	return sluiceClusterNodeConf(t, traceRouteConf, name, seedPort)
}

func sluiceClusterNodeConf(t *testing.T, accounts, name string, seedPort int) *server.Server {
	t.Helper()
	conf := accounts + fmt.Sprintf("server_name: %s\ncluster { name: cl, listen: \"127.0.0.1:-1\"", name)
	if seedPort != 0 {
		conf += fmt.Sprintf(`, routes: ["nats-route://127.0.0.1:%d"]`, seedPort)
	}
	return runConf(t, conf+" }\n")
}

// routedTrace publishes a traced message (trace-only when only) on the
// server at pubURL, with a subscriber there and two (one plain, one in a
// queue group) on the server at subURL, and returns the trace events
// both servers publish, the origin's first, normalized: timestamps and
// connection ids dropped, the server reduced to its name. It also returns
// the headers the remote subscriber got.
func routedTrace(t *testing.T, pubURL, subURL string, only bool) ([]string, nats.Header) {
	t.Helper()
	var conns []*nats.Conn
	defer func() {
		for _, nc := range conns {
			nc.Close()
		}
	}()
	dial := func(url, name string) *nats.Conn {
		nc, err := nats.Connect(url, nats.UserInfo("a", "a"), nats.Name(name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		conns = append(conns, nc)
		return nc
	}
	tracer := dial(pubURL, "tracer")
	events, _ := tracer.SubscribeSync("tr")
	ready, _ := tracer.SubscribeSync("ready.back")
	tracer.Flush()
	local := dial(pubURL, "local")
	local.SubscribeSync("foo")
	local.Flush()
	remote := dial(subURL, "remote")
	plain, _ := remote.SubscribeSync("foo")
	remote.QueueSubscribeSync("foo", "q")
	probe, _ := remote.SubscribeSync("ready")
	remote.Flush()
	pub := dial(pubURL, "pub")
	// Interest crosses the route both ways before the traced message.
	deadline := time.Now().Add(10 * time.Second)
	for {
		pub.Publish("ready", nil)
		remote.Publish("ready.back", nil)
		pub.Flush()
		remote.Flush()
		_, e1 := probe.NextMsg(100 * time.Millisecond)
		_, e2 := ready.NextMsg(100 * time.Millisecond)
		if e1 == nil && e2 == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no interest across the route")
		}
	}
	m := nats.NewMsg("foo")
	m.Header.Set("Nats-Trace-Dest", "tr")
	if only {
		m.Header.Set("Nats-Trace-Only", "true")
	}
	m.Data = []byte("hello")
	if err := pub.PublishMsg(m); err != nil {
		t.Fatal(err)
	}
	var out []string
	for range 2 {
		em, err := events.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("trace events: got %d: %v %q", len(out), err, out)
		}
		var ev map[string]any
		if err := json.Unmarshal(em.Data, &ev); err != nil {
			t.Fatal(err)
		}
		srv := ev["server"].(map[string]any)
		ev["server"] = fmt.Sprintf("%v/%v", srv["name"], srv["cluster"])
		for _, e := range ev["events"].([]any) {
			delete(e.(map[string]any), "ts")
			delete(e.(map[string]any), "cid")
		}
		b, _ := json.Marshal(ev)
		out = append(out, string(b))
	}
	// The origin's event is the one with hops.
	sort.Slice(out, func(i, j int) bool { return strings.Contains(out[i], `"hops"`) })
	var hdr nats.Header
	if got, err := plain.NextMsg(time.Second); err == nil {
		hdr = got.Header
	}
	if only && hdr != nil {
		t.Errorf("a trace-only message was delivered across the route: %v", hdr)
	}
	return out, hdr
}

// A traced message crossing a route: the origin's event ends with an
// egress of kind router naming the peer and hop "1"; the peer publishes
// its own event (ingress of kind router, the hop header in the request,
// its deliveries) to the same destination; the copy delivered there
// carries Nats-Trace-Hop. Checked on a sluice cluster and on mixed
// clusters against what two nats-server v2.15.2 nodes publish.
func TestMsgTraceAcrossRoutes(t *testing.T) {
	type pair struct{ pub, sub string }
	setups := map[string]func(t *testing.T) pair{
		"nats-server": func(t *testing.T) pair {
			u1, p1 := refClusterNode(t, "c1", 0)
			u2, _ := refClusterNode(t, "c2", p1)
			return pair{u1, u2}
		},
		"sluice": func(t *testing.T) pair {
			s1 := sluiceClusterNode(t, "c1", 0)
			s2 := sluiceClusterNode(t, "c2", s1.Routes().Port())
			return pair{s1.ClientURL(), s2.ClientURL()}
		},
		"sluice to nats-server": func(t *testing.T) pair {
			s1 := sluiceClusterNode(t, "c1", 0)
			u2, _ := refClusterNode(t, "c2", s1.Routes().Port())
			return pair{s1.ClientURL(), u2}
		},
		"nats-server to sluice": func(t *testing.T) pair {
			u1, p1 := refClusterNode(t, "c1", 0)
			s2 := sluiceClusterNode(t, "c2", p1)
			return pair{u1, s2.ClientURL()}
		},
	}
	got := map[string][]string{}
	for _, name := range []string{"nats-server", "sluice", "sluice to nats-server", "nats-server to sluice"} {
		t.Run(name, func(t *testing.T) {
			p := setups[name](t)
			evs, hdr := routedTrace(t, p.pub, p.sub, false)
			if hdr.Get("Nats-Trace-Hop") != "1" || hdr.Get("Nats-Trace-Dest") != "tr" {
				t.Errorf("remote delivery headers: %v", hdr)
			}
			only, _ := routedTrace(t, p.pub, p.sub, true)
			got[name] = append(evs, only...)
		})
	}
	want := got["nats-server"]
	if len(want) != 4 {
		t.Fatalf("reference events: %q", want)
	}
	for name, evs := range got {
		for i := range want {
			if i >= len(evs) || evs[i] != want[i] {
				t.Errorf("%s, event %d:\n got  %s\n want %s", name, i, at(evs, i), want[i])
			}
		}
	}
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "<none>"
}

const traceServiceConf = `
system_account: SYS
accounts {
  SYS { users: [{user: sys, password: sys}] }
  A { users: [{user: a, password: a}]
      imports: [{service: {account: S, subject: "svc.>"}}] }
  S { users: [{user: s, password: s}]
      exports: [{service: "svc.>", allow_trace: true}] }
}
`

// A traced request crossing a service import (one allowing traces) to a
// responder on another server: the origin traces it into the exporter
// and over the route; the remote server traces it in the exporter's
// account, and its event still reaches the tracer in the importer's
// account, through a reply subject of the exporter that the tracer's
// server routes back (what the responder sees as Nats-Trace-Dest).
func TestMsgTraceServiceImportAcrossRoutes(t *testing.T) {
	type pair struct{ pub, sub string }
	setups := map[string]func(t *testing.T) pair{
		"nats-server": func(t *testing.T) pair {
			u1, p1 := refClusterNodeConf(t, traceServiceConf, "c1", 0)
			u2, _ := refClusterNodeConf(t, traceServiceConf, "c2", p1)
			return pair{u1, u2}
		},
		"sluice": func(t *testing.T) pair {
			s1 := sluiceClusterNodeConf(t, traceServiceConf, "c1", 0)
			s2 := sluiceClusterNodeConf(t, traceServiceConf, "c2", s1.Routes().Port())
			return pair{s1.ClientURL(), s2.ClientURL()}
		},
		"sluice to nats-server": func(t *testing.T) pair {
			s1 := sluiceClusterNodeConf(t, traceServiceConf, "c1", 0)
			u2, _ := refClusterNodeConf(t, traceServiceConf, "c2", s1.Routes().Port())
			return pair{s1.ClientURL(), u2}
		},
		"nats-server to sluice": func(t *testing.T) pair {
			u1, p1 := refClusterNodeConf(t, traceServiceConf, "c1", 0)
			s2 := sluiceClusterNodeConf(t, traceServiceConf, "c2", p1)
			return pair{u1, s2.ClientURL()}
		},
	}
	names := []string{"nats-server", "sluice", "sluice to nats-server", "nats-server to sluice"}
	got := map[string][]string{}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			p := setups[name](t)
			got[name] = serviceRoutedTrace(t, p.pub, p.sub)
		})
	}
	want := got["nats-server"]
	if len(want) != 3 {
		t.Fatalf("reference: %q", want)
	}
	for _, name := range names[1:] {
		evs := got[name]
		for i := range want {
			if at(evs, i) != want[i] {
				t.Errorf("%s, %d:\n got  %s\n want %s", name, i, at(evs, i), want[i])
			}
		}
	}
}

// serviceRoutedTrace sends a traced request from account A at pubURL to
// a responder of account S at subURL and returns the trace events (the
// origin's first) normalized as routedTrace does, then the trace headers
// the responder saw (a reply subject masked).
func serviceRoutedTrace(t *testing.T, pubURL, subURL string) []string {
	t.Helper()
	dial := func(url, user, name string) *nats.Conn {
		nc, err := nats.Connect(url, nats.UserInfo(user, user), nats.Name(name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	tracer := dial(pubURL, "a", "tracer")
	events, _ := tracer.SubscribeSync("tr")
	tracer.Flush()
	svc := dial(subURL, "s", "svc")
	seen := make(chan nats.Header, 4)
	svc.Subscribe("svc.x", func(m *nats.Msg) {
		if m.Header.Get("Nats-Trace-Dest") != "" {
			seen <- m.Header
		}
		m.Respond([]byte("ok"))
	})
	svc.Flush()
	pub := dial(pubURL, "a", "pub")
	testutilCheck(t, func() error {
		_, err := pub.Request("svc.x", nil, 200*time.Millisecond)
		return err
	})
	m := nats.NewMsg("svc.x")
	m.Header.Set("Nats-Trace-Dest", "tr")
	if _, err := pub.RequestMsg(m, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	var out []string
	for range 2 {
		em, err := events.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("trace events: got %q: %v", out, err)
		}
		var ev map[string]any
		json.Unmarshal(em.Data, &ev)
		ev["server"] = ev["server"].(map[string]any)["name"]
		for _, e := range ev["events"].([]any) {
			delete(e.(map[string]any), "ts")
			delete(e.(map[string]any), "cid")
		}
		req := ev["request"].(map[string]any)
		hdr := req["header"].(map[string]any)
		for k, v := range hdr {
			if k == "Nats-Trace-Dest" || k == "Nats-Request-Info" {
				hdr[k] = maskReply.ReplaceAllString(fmt.Sprint(v), "_R_.*")
			}
		}
		delete(req, "msgsize") // the masked fields' lengths vary
		b, _ := json.Marshal(ev)
		out = append(out, escapedRTT.ReplaceAllString(string(b), `${1}*`))
	}
	sort.Slice(out, func(i, j int) bool { return strings.Contains(out[i], `"hops"`) })
	select {
	case h := <-seen:
		out = append(out, maskReply.ReplaceAllString(h.Get("Nats-Trace-Dest"), "_R_.*")+" hop="+h.Get("Nats-Trace-Hop"))
	case <-time.After(5 * time.Second):
		t.Fatal("the responder got no traced request")
	}
	return out
}

var escapedRTT = regexp.MustCompile(`(rtt\\":)\d+`)

func testutilCheck(t *testing.T, f func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A peer that announces a route protocol below message tracing (an old
// nats-server) gets a traced message marked as untraced beyond, and no
// trace-only message at all, with nats-server's egress errors.
func TestMsgTraceRouteWithoutTraceSupport(t *testing.T) {
	s := sluiceClusterNode(t, "c1", 0)
	peer, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", s.Routes().Port()))
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	peer.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(peer)
	if line, _ := r.ReadString('\n'); !strings.HasPrefix(line, "INFO ") {
		t.Fatalf("no INFO: %q", line)
	}
	fmt.Fprintf(peer, "CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true,\"name\":\"OLDPEER\",\"cluster\":\"cl\"}\r\n"+
		"INFO {\"server_id\":\"OLDPEER\",\"server_name\":\"old\",\"proto\":1,\"headers\":true,\"cluster\":\"cl\"}\r\n"+
		"RS+ A foo\r\nPING\r\n")
	got := make(chan string, 16)
	go func() {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				close(got)
				return
			}
			switch {
			case strings.HasPrefix(line, "PING"):
				peer.Write([]byte("PONG\r\n"))
			case strings.HasPrefix(line, "HMSG ") || strings.HasPrefix(line, "RMSG "):
				got <- line
			}
		}
	}()
	nc, err := nats.Connect(s.ClientURL(), nats.UserInfo("a", "a"), nats.Name("pub"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	events, _ := nc.SubscribeSync("tr")
	nc.Flush()
	testutilCheck(t, func() error {
		if s.Routes() == nil || len(s.Routes().Remotes()) != 1 {
			return fmt.Errorf("old peer not registered")
		}
		return nil
	})
	trace := func(only bool) map[string]any {
		t.Helper()
		m := nats.NewMsg("foo")
		m.Header.Set("Nats-Trace-Dest", "tr")
		if only {
			m.Header.Set("Nats-Trace-Only", "true")
		}
		var eg map[string]any
		testutilCheck(t, func() error { // until the peer's interest is in
			nc.PublishMsg(m)
			em, err := events.NextMsg(2 * time.Second)
			if err != nil {
				return err
			}
			var ev struct{ Events []map[string]any }
			json.Unmarshal(em.Data, &ev)
			if last := ev.Events[len(ev.Events)-1]; last["type"] == "eg" {
				eg = last
				return nil
			}
			return fmt.Errorf("no egress in %s", em.Data)
		})
		return eg
	}
	eg := trace(false)
	if eg["kind"] != 1.0 || eg["name"] != "old" || eg["error"] != "Message delivered but remote does not support message tracing so no trace event generated from there" {
		t.Errorf("egress to an old peer: %v", eg)
	}
	select {
	case line := <-got:
		if !strings.Contains(line, " foo ") {
			t.Errorf("peer got %q", line)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the old peer did not get the traced message")
	}
	eg = trace(true)
	if eg["error"] != "Not delivered because remote does not support message tracing" {
		t.Errorf("trace-only egress to an old peer: %v", eg)
	}
	nc.Publish("foo", []byte("after")) // the next message it gets is this one
	nc.Flush()
	select {
	case line := <-got:
		if strings.HasPrefix(line, "HMSG") {
			t.Errorf("the old peer got a trace-only message: %q", line)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the old peer got nothing more")
	}
}

// natscli v0.5.1's `nats trace` follows a message across a sluice cluster
// and a mixed one: the route egress on the first server, then the second
// server's ingress from that route and its delivery.
func TestNatsTraceAcrossRoutes(t *testing.T) {
	bin := refbin.NATSCLI(t)
	run := func(t *testing.T, pubURL, subURL, first, second string) {
		sub, err := nats.Connect(subURL, nats.UserInfo("a", "a"))
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		sub.SubscribeSync("foo")
		sub.Flush()
		want := []string{`--> Router "` + second + `"`, `Router "` + first + `"`, `server:"` + second + `"`, `--C Client`}
		testutilCheck(t, func() error { // until the interest crossed
			cmd := exec.Command(bin, "-s", pubURL, "--user", "a", "--password", "a", "trace", "foo", "hello", "--timeout", "2s")
			cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
			out, err := cmd.CombinedOutput()
			if err != nil {
				return fmt.Errorf("nats trace: %v\n%s", err, out)
			}
			for _, w := range want {
				if !strings.Contains(string(out), w) {
					return fmt.Errorf("nats trace output lacks %q:\n%s", w, out)
				}
			}
			return nil
		})
	}
	t.Run("sluice", func(t *testing.T) {
		s1 := sluiceClusterNode(t, "c1", 0)
		s2 := sluiceClusterNode(t, "c2", s1.Routes().Port())
		run(t, s1.ClientURL(), s2.ClientURL(), "c1", "c2")
	})
	t.Run("mixed", func(t *testing.T) {
		s1 := sluiceClusterNode(t, "c1", 0)
		u2, _ := refClusterNode(t, "c2", s1.Routes().Port())
		run(t, s1.ClientURL(), u2, "c1", "c2")
		run(t, u2, s1.ClientURL(), "c2", "c1")
	})
}
