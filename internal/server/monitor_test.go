package server_test

// HTTP monitoring: every endpoint decoded into the pkg/api types and
// checked against real nats.go traffic, plus the plumbing (index page,
// JSONP, CORS, base path, HTTPS) and parameter errors.

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
	"github.com/sluicehq/sluice/pkg/api"
)

// withMonitor turns on HTTP monitoring on a random port.
func withMonitor(o *server.Options) { o.HTTPPort = server.RandomPort }

// runMonitored starts a server with HTTP monitoring on.
func runMonitored(t *testing.T, mutate ...func(*server.Options)) *server.Server {
	t.Helper()
	return testutil.RunServer(t, append([]func(*server.Options){withMonitor}, mutate...)...)
}

type httpResp struct {
	code   int
	header http.Header
	body   []byte
}

var monClient = &http.Client{Timeout: 10 * time.Second}

func httpDo(t *testing.T, c *http.Client, method, url string) httpResp {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return httpResp{code: res.StatusCode, header: res.Header, body: b}
}

// monGet fetches path (with its query) from s's monitoring port.
func monGet(t *testing.T, s *server.Server, path string) httpResp {
	t.Helper()
	return httpDo(t, monClient, http.MethodGet, s.MonitorURL()+path)
}

// monJSON fetches path, checks the JSON answer's status and headers, and
// decodes it strictly into T: a field the type does not know fails.
func monJSON[T any](t *testing.T, s *server.Server, path string) T {
	t.Helper()
	r := monGet(t, s, path)
	var v T
	checkJSONResp(t, path, r, http.StatusOK, &v)
	return v
}

func checkJSONResp(t *testing.T, path string, r httpResp, code int, v any) {
	t.Helper()
	if r.code != code {
		t.Fatalf("GET %s: status %d, want %d: %s", path, r.code, code, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET %s: Content-Type %q", path, ct)
	}
	if o := r.header.Get("Access-Control-Allow-Origin"); o != "*" {
		t.Errorf("GET %s: Access-Control-Allow-Origin %q, want *", path, o)
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("GET %s: decoding %T: %v\n%s", path, v, err, r.body)
	}
}

// monBad checks that path is refused with 400 and a plain-text message.
func monBad(t *testing.T, s *server.Server, path, want string) {
	t.Helper()
	r := monGet(t, s, path)
	if r.code != http.StatusBadRequest {
		t.Errorf("GET %s: status %d, want 400: %s", path, r.code, r.body)
		return
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("GET %s: Content-Type %q, want text/plain", path, ct)
	}
	if got := strings.TrimSpace(string(r.body)); got != want {
		t.Errorf("GET %s: message %q, want %q", path, got, want)
	}
}

// jsonKeys are the top-level keys of a JSON object.
func jsonKeys(t *testing.T, b []byte) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not a JSON object: %v\n%s", err, b)
	}
	return m
}

// traffic has pub publish n messages of payload to subj, which sub
// receives, so that every counter involved has settled.
func traffic(t *testing.T, pub *nats.Conn, sub *nats.Subscription, subj string, n int, payload string) {
	t.Helper()
	for i := 0; i < n; i++ {
		if err := pub.Publish(subj, []byte(payload)); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Flush(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if _, err := sub.NextMsg(msgWait); err != nil {
			t.Fatalf("message %d of %d not received: %v", i+1, n, err)
		}
	}
}

func TestMonitorVarzValues(t *testing.T) {
	t.Parallel()
	s := runMonitored(t, func(o *server.Options) { o.ServerName = "mon-1"; o.MaxPayload = 512 * 1024 })
	base := monJSON[api.Varz](t, s, "/varz")
	if base.Connections != 0 || base.TotalConnections != 0 || base.InMsgs != 0 || base.OutMsgs != 0 {
		t.Fatalf("fresh server has traffic: %+v", base)
	}

	sc := testutil.Connect(t, s)
	pc := testutil.Connect(t, s)
	sub, err := sc.SubscribeSync("v.data")
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.Flush(); err != nil {
		t.Fatal(err)
	}
	traffic(t, pc, sub, "v.data", 4, "hello")

	r := monGet(t, s, "/varz")
	var v api.Varz
	checkJSONResp(t, "/varz", r, http.StatusOK, &v)
	checks := []struct {
		name      string
		got, want any
	}{
		{"server_id", v.ID, s.ID()},
		{"server_name", v.Name, "mon-1"},
		{"host", v.Host, "127.0.0.1"},
		{"port", v.Port, s.Addr().(*net.TCPAddr).Port},
		{"http_port", v.HTTPPort, s.MonitorAddr().(*net.TCPAddr).Port},
		{"max_payload", v.MaxPayload, 512 * 1024},
		{"connections", v.Connections, 2},
		{"total_connections", v.TotalConnections, uint64(2)},
		{"in_msgs", v.InMsgs, int64(4)},
		{"in_bytes", v.InBytes, int64(20)},
		{"out_msgs", v.OutMsgs, int64(4)},
		{"out_bytes", v.OutBytes, int64(20)},
		{"in_client_msgs", v.InClientMsgs, int64(4)},
		{"out_client_bytes", v.OutClientBytes, int64(20)},
		{"subscriptions", v.Subscriptions, base.Subscriptions + 1},
		{"slow_consumers", v.SlowConsumers, int64(0)},
		{"system_account", v.SystemAccount, "$SYS"},
		{"ping_interval", v.PingInterval, server.DefaultPingInterval},
		{"auth_timeout", v.AuthTimeout, 2.0},
		{"tls_timeout", v.TLSTimeout, 2.0},
		{"http_req_stats[/varz]", v.HTTPReqStats["/varz"], uint64(2)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v (%T), want %v (%T)", c.name, c.got, c.got, c.want, c.want)
		}
	}
	if v.Cores <= 0 || v.MaxProcs <= 0 || v.Mem <= 0 {
		t.Errorf("cores %d, gomaxprocs %d, mem %d: want positive", v.Cores, v.MaxProcs, v.Mem)
	}
	if v.Start.IsZero() || v.Now.Before(v.Start) || v.Uptime == "" || v.ConfigLoadTime.IsZero() {
		t.Errorf("start %v now %v uptime %q config_load_time %v", v.Start, v.Now, v.Uptime, v.ConfigLoadTime)
	}
	// nats-server always sends these, as objects, even when unused.
	keys := jsonKeys(t, r.body)
	for _, k := range []string{"cluster", "gateway", "leaf", "mqtt", "websocket", "jetstream", "slow_consumer_stats", "http_req_stats"} {
		if raw, ok := keys[k]; !ok || raw[0] != '{' {
			t.Errorf("varz %q = %s, want an object", k, raw)
		}
	}
}

func TestMonitorIndexAndUnknownPath(t *testing.T) {
	t.Parallel()
	s := runMonitored(t)
	r := monGet(t, s, "/")
	if r.code != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("index: %d %q", r.code, r.header.Get("Content-Type"))
	}
	for _, p := range []string{"/varz", "/connz", "/routez", "/gatewayz", "/leafz", "/subsz", "/accountz", "/accstatz", "/jsz", "/healthz", "/metrics"} {
		if !bytes.Contains(r.body, []byte(`href="`+p+`"`)) {
			t.Errorf("index page has no link to %s", p)
		}
	}
	if r := monGet(t, s, "/nope"); r.code != http.StatusNotFound {
		t.Errorf("/nope: status %d, want 404", r.code)
	}
	if r := monGet(t, s, "/raftz"); r.code != http.StatusNotFound || !strings.Contains(string(r.body), "No Raft nodes registered") {
		t.Errorf("/raftz: %d %q, want 404 No Raft nodes registered", r.code, r.body)
	}
	q := monJSON[api.IpqueueszStatus](t, s, "/ipqueuesz?all=1")
	if _, ok := q["Internal recvQ"]; !ok || len(q) != 1 {
		t.Errorf("/ipqueuesz?all=1: %+v", q)
	}
	if q := monJSON[api.IpqueueszStatus](t, s, "/ipqueuesz?all=1&queues=nope"); len(q) != 0 {
		t.Errorf("/ipqueuesz filtered: %+v", q)
	}
	if r := monGet(t, s, "/ipqueuesz?all=maybe"); r.code != http.StatusBadRequest {
		t.Errorf("/ipqueuesz?all=maybe: status %d, want 400", r.code)
	}
}

func TestMonitorJSONPAndCORS(t *testing.T) {
	t.Parallel()
	s := runMonitored(t)
	r := monGet(t, s, "/varz?callback=my.cb_1")
	if r.code != http.StatusOK || r.header.Get("Content-Type") != "application/javascript" {
		t.Fatalf("JSONP: %d %q", r.code, r.header.Get("Content-Type"))
	}
	body := string(r.body)
	if !strings.HasPrefix(body, "my.cb_1(") || !strings.HasSuffix(body, ")") {
		t.Fatalf("JSONP body not wrapped: %.60q", body)
	}
	var v api.Varz
	if err := json.Unmarshal([]byte(body[len("my.cb_1("):len(body)-1]), &v); err != nil || v.ID != s.ID() {
		t.Errorf("JSONP payload: %v, id %q", err, v.ID)
	}
	monBad(t, s, "/varz?callback=alert(1)", "invalid callback: alert(1)")

	// Every answer allows any origin; a preflight is answered without a body.
	for _, p := range []string{"/varz", "/connz", "/healthz", "/subsz?test=a.*"} {
		if o := monGet(t, s, p).header.Get("Access-Control-Allow-Origin"); o != "*" {
			t.Errorf("GET %s: Access-Control-Allow-Origin %q", p, o)
		}
	}
	pre := httpDo(t, monClient, http.MethodOptions, s.MonitorURL()+"/varz")
	if pre.code != http.StatusNoContent || pre.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("OPTIONS /varz: %d, origin %q", pre.code, pre.header.Get("Access-Control-Allow-Origin"))
	}
}

func TestMonitorBasePath(t *testing.T) {
	t.Parallel()
	s := runMonitored(t, func(o *server.Options) { o.HTTPBasePath = "mon/" })
	if u := s.MonitorURL(); !strings.HasSuffix(u, "/mon") {
		t.Fatalf("MonitorURL %q does not end with the base path", u)
	}
	v := monJSON[api.Varz](t, s, "/varz")
	if v.HTTPBasePath != "mon/" {
		t.Errorf("http_base_path %q", v.HTTPBasePath)
	}
	root := strings.TrimSuffix(s.MonitorURL(), "/mon")
	if r := httpDo(t, monClient, http.MethodGet, root+"/varz"); r.code != http.StatusNotFound {
		t.Errorf("/varz outside the base path: %d, want 404", r.code)
	}
	for _, p := range []string{"/mon", "/mon/"} {
		r := httpDo(t, monClient, http.MethodGet, root+p)
		if r.code != http.StatusOK || !bytes.Contains(r.body, []byte(`href="/mon/connz"`)) {
			t.Errorf("index at %s: %d, links under the base path: %v", p, r.code, bytes.Contains(r.body, []byte("/mon/connz")))
		}
	}
	// The request statistics are kept by endpoint, without the base path.
	v = monJSON[api.Varz](t, s, "/varz")
	if v.HTTPReqStats["/varz"] != 2 {
		t.Errorf("http_req_stats %v", v.HTTPReqStats)
	}
}

func TestMonitorHTTPS(t *testing.T) {
	t.Parallel()
	ca := testutil.NewCA(t, "mon")
	leaf := ca.ServerLeaf("mon-server")
	s := testutil.RunServer(t, func(o *server.Options) {
		o.HTTPSPort = server.RandomPort
		o.TLSConfig = &tls.Config{Certificates: []tls.Certificate{leaf.Pair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool()}
	})
	u := s.MonitorURL()
	if !strings.HasPrefix(u, "https://") {
		t.Fatalf("MonitorURL %q, want https", u)
	}
	// The monitor does not ask for a client certificate, even when clients need one.
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}
	r := httpDo(t, c, http.MethodGet, u+"/varz")
	var v api.Varz
	checkJSONResp(t, "/varz", r, http.StatusOK, &v)
	if v.HTTPSPort == 0 || v.HTTPPort != 0 {
		t.Errorf("https_port %d http_port %d", v.HTTPSPort, v.HTTPPort)
	}
	if !v.TLSCertNotAfter.Equal(leaf.Cert.NotAfter) {
		t.Errorf("tls_cert_not_after %v, want %v", v.TLSCertNotAfter, leaf.Cert.NotAfter)
	}
	// Plain HTTP on the HTTPS port is refused.
	plain := strings.Replace(u, "https://", "http://", 1) + "/varz"
	if r := httpDo(t, monClient, http.MethodGet, plain); r.code != http.StatusBadRequest {
		t.Errorf("plain HTTP to the HTTPS port: status %d", r.code)
	}
}

func TestMonitorOptionErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		mutate func(*server.Options)
		want   string
	}{
		{"both ports", func(o *server.Options) { o.HTTPPort, o.HTTPSPort = 8222, 8223 }, "can't specify both HTTP (8222) and HTTPs (8223) ports"},
		{"https without tls", func(o *server.Options) { o.HTTPSPort = server.RandomPort }, "https_port requires a tls block"},
		{"bad http port", func(o *server.Options) { o.HTTPPort = 70000 }, "invalid http_port 70000"},
		{"bad https port", func(o *server.Options) { o.HTTPSPort = -2 }, "invalid https_port -2"},
	} {
		o := server.Options{Host: "127.0.0.1", Port: server.RandomPort}
		c.mutate(&o)
		_, err := server.New(o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}

func TestMonitorClusterEndpointsEmpty(t *testing.T) {
	t.Parallel()
	s := runMonitored(t)
	r := monGet(t, s, "/routez?subs=detail")
	var rz api.Routez
	checkJSONResp(t, "/routez", r, http.StatusOK, &rz)
	if rz.ID != s.ID() || rz.NumRoutes != 0 || rz.Now.IsZero() || string(jsonKeys(t, r.body)["routes"]) != "[]" {
		t.Errorf("routez: %s", r.body)
	}
	r = monGet(t, s, "/gatewayz?accs=1&gw_name=x&acc_name=y&subs=1")
	var gz api.Gatewayz
	checkJSONResp(t, "/gatewayz", r, http.StatusOK, &gz)
	keys := jsonKeys(t, r.body)
	if gz.ID != s.ID() || string(keys["outbound_gateways"]) != "{}" || string(keys["inbound_gateways"]) != "{}" {
		t.Errorf("gatewayz: %s", r.body)
	}
	r = monGet(t, s, "/leafz?subs=true&acc=$G")
	var lz api.Leafz
	checkJSONResp(t, "/leafz", r, http.StatusOK, &lz)
	if lz.ID != s.ID() || lz.NumLeafs != 0 || string(jsonKeys(t, r.body)["leafs"]) != "[]" {
		t.Errorf("leafz: %s", r.body)
	}
	monBad(t, s, "/routez?subs=maybe", `Error decoding boolean for 'subs': strconv.ParseBool: parsing "maybe": invalid syntax`)
	monBad(t, s, "/gatewayz?accs=2", `Error decoding boolean for 'accs': strconv.ParseBool: parsing "2": invalid syntax`)
	monBad(t, s, "/leafz?subs=yes", `Error decoding boolean for 'subs': strconv.ParseBool: parsing "yes": invalid syntax`)
}

func TestMonitorJszDisabled(t *testing.T) {
	t.Parallel()
	s := runMonitored(t)
	for _, p := range []string{"/jsz", "/jsz?accounts=1&streams=true&consumers=1&config=1&acc=$G&offset=0&limit=10"} {
		r := monGet(t, s, p)
		var js api.JSInfo
		checkJSONResp(t, p, r, http.StatusOK, &js)
		if js.ID != s.ID() || !js.Disabled || js.Streams != 0 || js.Now.IsZero() {
			t.Errorf("%s: %s", p, r.body)
		}
		keys := jsonKeys(t, r.body)
		for _, k := range []string{"memory", "storage", "api", "config", "total"} {
			if _, ok := keys[k]; !ok {
				t.Errorf("%s: no %q", p, k)
			}
		}
	}
	monBad(t, s, "/jsz?leader-only=1", "filtered response: not leader")
	monBad(t, s, "/jsz?accounts=maybe", `Error decoding boolean for 'accounts': strconv.ParseBool: parsing "maybe": invalid syntax`)
	monBad(t, s, "/jsz?limit=ten", `Error decoding int for 'limit': strconv.Atoi: parsing "ten": invalid syntax`)
}

func TestMonitorHealthz(t *testing.T) {
	t.Parallel()
	s := runMonitored(t)
	for _, q := range []string{"", "?js-enabled-only=true", "?js-enabled=1", "?js-server-only=true", "?js-meta-only=1", "?account=$G&stream=S&details=true"} {
		r := monGet(t, s, "/healthz"+q)
		var hs api.HealthStatus
		checkJSONResp(t, "/healthz"+q, r, http.StatusOK, &hs)
		if string(bytes.TrimSpace(r.body)) != `{"status":"ok"}` {
			t.Errorf("/healthz%s: %s", q, r.body)
		}
	}
	for _, c := range []struct{ q, body string }{
		{"?stream=S", `{"status":"error","error":"\"account\" must not be empty when checking stream health"}`},
		{"?account=A&consumer=C", `{"status":"error","error":"\"stream\" must not be empty when checking consumer health"}`},
		{"?stream=S&details=1", `{"status":"error","errors":[{"type":"BAD_REQUEST","error":"\"account\" must not be empty when checking stream health"}]}`},
	} {
		r := monGet(t, s, "/healthz"+c.q)
		var hs api.HealthStatus
		checkJSONResp(t, "/healthz"+c.q, r, http.StatusBadRequest, &hs)
		if got := string(bytes.TrimSpace(r.body)); got != c.body {
			t.Errorf("/healthz%s:\n got %s\nwant %s", c.q, got, c.body)
		}
	}
	monBad(t, s, "/healthz?details=maybe", `Error decoding boolean for 'details': strconv.ParseBool: parsing "maybe": invalid syntax`)
	monBad(t, s, "/healthz?js-enabled-only=2", `Error decoding boolean for 'js-enabled-only': strconv.ParseBool: parsing "2": invalid syntax`)
}

func TestMonitorHealthzAfterShutdown(t *testing.T) {
	t.Parallel()
	s := runMonitored(t)
	hs := s.Healthz(nil)
	if hs.Status != "ok" || hs.StatusCode != http.StatusOK {
		t.Fatalf("running server: %+v", hs)
	}
	s.Shutdown()
	hs = s.Healthz(&api.HealthzOptions{})
	if hs.Status != "error" || hs.StatusCode != http.StatusInternalServerError || hs.Error == "" {
		t.Errorf("stopped server: %+v", hs)
	}
}

func TestMonitorStackszAndExpvar(t *testing.T) {
	t.Parallel()
	s := runMonitored(t)
	r := monGet(t, s, "/stacksz")
	if r.code != http.StatusOK || !bytes.Contains(r.body, []byte("goroutine ")) {
		t.Errorf("/stacksz: %d %.80q", r.code, r.body)
	}
	r = monGet(t, s, "/debug/vars")
	if keys := jsonKeys(t, r.body); keys["memstats"] == nil || keys["cmdline"] == nil {
		t.Errorf("/debug/vars lacks memstats or cmdline: %.200s", r.body)
	}
}

func TestMonitorSlowConsumerFigures(t *testing.T) {
	t.Parallel()
	s := runMonitored(t, func(o *server.Options) { o.MaxPending, o.MaxPayload = 64*1024, 8*1024 })
	alive := testutil.Connect(t, s)
	// A subscriber that never reads is cut as a slow consumer.
	slow := rawConnect(t, s, connQuiet)
	slow.Send("SUB sc 1\r\n")
	slow.Sync()
	pub := rawConnect(t, s, connQuiet)
	msg := "PUB sc 1000\r\n" + strings.Repeat("y", 1000) + "\r\n"
	for i := 0; i < 100000 && s.NumClients() == 3; i += 100 {
		pub.Send(strings.Repeat(msg, 100))
	}
	pub.Sync()
	closedOne(t, s)
	v := monJSON[api.Varz](t, s, "/varz")
	if v.SlowConsumers != 1 || v.SlowConsumersStats == nil || v.SlowConsumersStats.Clients != 1 {
		t.Errorf("slow_consumers %d, stats %+v", v.SlowConsumers, v.SlowConsumersStats)
	}
	st := monJSON[api.AccountStatz](t, s, "/accstatz?acc=$G")
	if len(st.Accounts) != 1 || st.Accounts[0].SlowConsumers != 1 {
		t.Errorf("accstatz: %+v", st.Accounts)
	}
	cz := monJSON[api.Connz](t, s, "/connz?state=closed")
	if cz.NumConns != 1 || cz.Conns[0].Reason != "Slow Consumer (Pending Bytes)" {
		t.Errorf("closed: %+v", cz.Conns)
	}
	checkRoundTrip(t, alive)
}

func TestMonitorStaleConnectionFigures(t *testing.T) {
	t.Parallel()
	s := runMonitored(t, func(o *server.Options) { o.PingInterval, o.MaxPingsOut = 100*time.Millisecond, 4 })
	alive := testutil.Connect(t, s)
	stale := rawConnect(t, s, connQuiet) // never answers PING
	defer stale.Close()
	closedOne(t, s)
	v := monJSON[api.Varz](t, s, "/varz")
	if v.StaleConnections != 1 || v.StaleConnectionStats == nil || v.StaleConnectionStats.Clients != 1 {
		t.Errorf("stale_connections %d, stats %+v", v.StaleConnections, v.StaleConnectionStats)
	}
	cz := monJSON[api.Connz](t, s, "/connz?state=closed")
	if cz.NumConns != 1 || cz.Conns[0].Reason != "Stale Connection" {
		t.Errorf("closed: %+v", cz.Conns)
	}
	checkRoundTrip(t, alive)
}

// closedOne waits until s lists one closed connection: the last step of
// closing one.
func closedOne(t *testing.T, s *server.Server) {
	t.Helper()
	testutil.CheckFor(t, waitLong, pollStep, func() error {
		if n := monJSON[api.Connz](t, s, "/connz?state=closed").NumConns; n != 1 {
			return fmt.Errorf("%d closed connections", n)
		}
		return nil
	})
}
