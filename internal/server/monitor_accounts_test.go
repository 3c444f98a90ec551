package server_test

// /subsz, /accountz, /accstatz and /metrics.

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/testutil"
	"github.com/sluicehq/sluice/pkg/api"
)

func TestSubszValues(t *testing.T) {
	t.Parallel()
	s := runMonitored(t)
	base := monJSON[api.Subsz](t, s, "/subsz")
	nc := testutil.Connect(t, s)
	cid := clientID(t, nc)
	for _, subj := range []string{"foo.bar", "foo.*"} {
		if _, err := nc.SubscribeSync(subj); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := nc.QueueSubscribeSync("q.>", "g"); err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish("foo.bar", []byte("x")); err != nil { // one match at least
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	sz := monJSON[api.Subsz](t, s, "/subsz")
	if sz.ID != s.ID() || sz.NumSubs != base.NumSubs+3 || sz.NumInserts < base.NumInserts+3 || sz.NumMatches == 0 ||
		sz.Subs != nil || sz.Total != 0 || sz.Limit != api.DefaultSubListSize {
		t.Errorf("subsz: %+v (base %+v)", sz, base)
	}

	all := []api.SubDetail{
		{Account: "$G", Subject: "foo.*", Sid: "2", Msgs: 1, Cid: cid},
		{Account: "$G", Subject: "foo.bar", Sid: "1", Msgs: 1, Cid: cid},
		{Account: "$G", Subject: "q.>", Queue: "g", Sid: "3", Cid: cid},
	}
	for _, c := range []struct {
		q                    string
		want                 []api.SubDetail
		total, offset, limit int
	}{
		{"?subs=1", all, 3, 0, api.DefaultSubListSize},
		{"?subs=1&acc=$G", all, 3, 0, api.DefaultSubListSize},
		{"?subs=1&test=foo.bar", all[:2], 2, 0, api.DefaultSubListSize},
		{"?subs=1&test=q.x.y", all[2:], 1, 0, api.DefaultSubListSize},
		{"?subs=1&test=zzz", nil, 0, 0, api.DefaultSubListSize},
		{"?subs=1&offset=1&limit=1", all[1:2], 3, 1, 1},
		{"?subs=1&offset=2", all[2:], 3, 2, api.DefaultSubListSize},
		{"?subs=1&offset=9", nil, 3, 9, api.DefaultSubListSize},
		{"?subs=1&acc=NOPE", nil, 0, 0, api.DefaultSubListSize},
	} {
		sz := monJSON[api.Subsz](t, s, "/subsz"+c.q)
		if !slices.Equal(sz.Subs, c.want) || sz.Total != c.total || sz.Offset != c.offset || sz.Limit != c.limit {
			t.Errorf("%s: subs %+v total %d offset %d limit %d; want %+v %d %d %d", c.q, sz.Subs, sz.Total, sz.Offset, sz.Limit,
				c.want, c.total, c.offset, c.limit)
		}
	}
	if sz := monJSON[api.Subsz](t, s, "/subsz?acc=NOPE"); sz.NumSubs != 0 {
		t.Errorf("unknown account: %d subscriptions", sz.NumSubs)
	}
	// The old name works and counts as /subsz.
	alias := monJSON[api.Subsz](t, s, "/subscriptionsz?subs=1")
	if alias.Total != 3 {
		t.Errorf("/subscriptionsz total %d", alias.Total)
	}
	v := monJSON[api.Varz](t, s, "/varz")
	if v.HTTPReqStats["/subsz"] != 13 || v.HTTPReqStats["/subscriptionsz"] != 0 {
		t.Errorf("http_req_stats %v, want 13 for /subsz", v.HTTPReqStats)
	}

	monBad(t, s, "/subsz?test=foo.*", "invalid test subject, must be valid publish subject: foo.*")
	monBad(t, s, "/subsz?subs=1&test=a..b", "invalid test subject, must be valid publish subject: a..b")
	monBad(t, s, "/subsz?limit=x", `Error decoding int for 'limit': strconv.Atoi: parsing "x": invalid syntax`)
	monBad(t, s, "/subsz?offset=1e3", `Error decoding int for 'offset': strconv.Atoi: parsing "1e3": invalid syntax`)
	monBad(t, s, "/subsz?subs=maybe", `Error decoding boolean for 'subs': strconv.ParseBool: parsing "maybe": invalid syntax`)
}

const monAccountsConf = `
accounts {
  A { users: [{user: a, password: a}, {user: a2, password: a2}] }
  B { users: [{user: b, password: b}] }
}`

func TestAccountzValues(t *testing.T) {
	t.Parallel()
	s := runConf(t, monAccountsConf, withMonitor)
	az := monJSON[api.Accountz](t, s, "/accountz")
	if az.ID != s.ID() || az.SystemAccount != "$SYS" || !slices.Equal(az.Accounts, []string{"$G", "$SYS", "A", "B"}) || az.Account != nil {
		t.Errorf("accountz: %+v", az)
	}
	before := monJSON[api.Accountz](t, s, "/accountz?acc=A").Account
	nc := mustDial(t, s, nats.UserInfo("a", "a"))
	for _, subj := range []string{"x", "y.>"} {
		if _, err := nc.SubscribeSync(subj); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	d := monJSON[api.Accountz](t, s, "/accountz?acc=A").Account
	if d == nil || d.AccountName != "A" || d.ClientCnt != 1 || d.SubCnt != before.SubCnt+2 || d.IsSystem || !d.Complete ||
		d.Expired || d.JetStream || d.Sublist == nil || d.Sublist.NumSubs != d.SubCnt || d.LastUpdate.IsZero() {
		t.Errorf("account A: %+v (before %+v)", d, before)
	}
	if sys := monJSON[api.Accountz](t, s, "/accountz?acc=$SYS").Account; sys == nil || !sys.IsSystem || sys.ClientCnt != 0 {
		t.Errorf("account $SYS: %+v", sys)
	}
	monBad(t, s, "/accountz?acc=NOPE", "Account NOPE does not exist")
}

func TestAccountStatzValues(t *testing.T) {
	t.Parallel()
	s := runConf(t, monAccountsConf, withMonitor)
	pub := mustDial(t, s, nats.UserInfo("a", "a"))
	subc := mustDial(t, s, nats.UserInfo("a2", "a2"))
	sub, err := subc.SubscribeSync("x")
	if err != nil {
		t.Fatal(err)
	}
	if err := subc.Flush(); err != nil {
		t.Fatal(err)
	}
	traffic(t, pub, sub, "x", 3, "four")

	stz := monJSON[api.AccountStatz](t, s, "/accstatz")
	if stz.ID != s.ID() || len(stz.Accounts) != 1 {
		t.Fatalf("accstatz: %+v", stz)
	}
	a := stz.Accounts[0]
	numA := monJSON[api.Accountz](t, s, "/accountz?acc=A").Account.SubCnt
	if a.Account != "A" || a.Name != "A" || a.Conns != 2 || a.TotalConns != 2 || a.LeafNodes != 0 || a.NumSubs != numA ||
		a.Received.Msgs != 3 || a.Received.Bytes != 12 || a.Sent.Msgs != 3 || a.Sent.Bytes != 12 || a.SlowConsumers != 0 {
		t.Errorf("account A: %+v", a)
	}
	names := func(stz api.AccountStatz) []string {
		var out []string
		for _, a := range stz.Accounts {
			out = append(out, a.Account)
		}
		return out
	}
	for _, c := range []struct {
		q    string
		want []string
	}{
		{"?unused=1", []string{"$G", "$SYS", "A", "B"}},
		{"?unused=false", []string{"A"}},
		{"?acc=B&unused=true", []string{"B"}},
		{"?acc=A,B", []string{"A"}},
		{"?acc=B", nil},
		{"?acc=NOPE&unused=1", nil},
	} {
		if got := names(monJSON[api.AccountStatz](t, s, "/accstatz"+c.q)); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.q, got, c.want)
		}
	}
	// An empty list is still a list.
	if r := monGet(t, s, "/accstatz?acc=B"); !bytes.Contains(r.body, []byte(`"account_statz": []`)) {
		t.Errorf("empty accstatz: %s", r.body)
	}
	monBad(t, s, "/accstatz?unused=maybe", `Error decoding boolean for 'unused': strconv.ParseBool: parsing "maybe": invalid syntax`)
}

var (
	promSample = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*)\})? (\S+)$`)
	promLabel  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
)

type promSampleT struct {
	labels map[string]string
	value  float64
}

// parseProm checks Prometheus text format 0.0.4 strictly enough for a
// scraper: HELP and TYPE before each family's samples, one TYPE per
// family, valid names, labels and values.
func parseProm(t *testing.T, body []byte) map[string][]promSampleT {
	t.Helper()
	m, errs := parsePromText(body)
	for _, err := range errs {
		t.Error(err)
	}
	return m
}

func parsePromText(body []byte) (map[string][]promSampleT, []error) {
	var errs []error
	fail := func(format string, v ...any) { errs = append(errs, fmt.Errorf(format, v...)) }
	out := map[string][]promSampleT{}
	typed := map[string]string{}
	helped := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# HELP "):
			f := strings.SplitN(line[len("# HELP "):], " ", 2)
			if len(f) != 2 || f[1] == "" || helped[f[0]] {
				fail("line %d: bad or repeated HELP: %q", n, line)
			}
			helped[f[0]] = true
		case strings.HasPrefix(line, "# TYPE "):
			f := strings.Fields(line[len("# TYPE "):])
			if len(f) != 2 || (f[1] != "counter" && f[1] != "gauge") || typed[f[0]] != "" {
				fail("line %d: bad or repeated TYPE: %q", n, line)
				continue
			}
			typed[f[0]] = f[1]
		case line == "" || strings.HasPrefix(line, "#"):
			fail("line %d: unexpected %q", n, line)
		default:
			m := promSample.FindStringSubmatch(line)
			if m == nil {
				fail("line %d: not a sample: %q", n, line)
				continue
			}
			if typed[m[1]] == "" || !helped[m[1]] {
				fail("line %d: sample of %s before its HELP and TYPE", n, m[1])
			}
			v, err := strconv.ParseFloat(m[3], 64)
			if err != nil || math.IsNaN(v) {
				fail("line %d: value %q: %v", n, m[3], err)
			}
			ls := map[string]string{}
			for _, l := range promLabel.FindAllStringSubmatch(m[2], -1) {
				ls[l[1]] = l[2]
			}
			out[m[1]] = append(out[m[1]], promSampleT{ls, v})
		}
	}
	return out, errs
}

// promValue is the one sample of name whose labels include want.
func promValue(t *testing.T, m map[string][]promSampleT, name string, want ...string) float64 {
	t.Helper()
	var found []float64
	for _, s := range m[name] {
		ok := true
		for i := 0; i+1 < len(want); i += 2 {
			ok = ok && s.labels[want[i]] == want[i+1]
		}
		if ok {
			found = append(found, s.value)
		}
	}
	if len(found) != 1 {
		t.Errorf("%s%v: %d samples, want 1", name, want, len(found))
		return math.NaN()
	}
	return found[0]
}

func TestMetricsMatchMonitoring(t *testing.T) {
	t.Parallel()
	s := runMonitored(t)
	sc := testutil.Connect(t, s)
	pc := testutil.Connect(t, s)
	sub, err := sc.SubscribeSync("m.x")
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.Flush(); err != nil {
		t.Fatal(err)
	}
	traffic(t, pc, sub, "m.x", 6, "abc")

	r := monGet(t, s, "/metrics")
	if r.code != http.StatusOK || r.header.Get("Content-Type") != "text/plain; version=0.0.4; charset=utf-8" {
		t.Fatalf("/metrics: %d %q", r.code, r.header.Get("Content-Type"))
	}
	m := parseProm(t, r.body)
	v := monJSON[api.Varz](t, s, "/varz")
	sz := monJSON[api.Subsz](t, s, "/subsz")
	id := s.ID()
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"gnatsd_varz_connections", nil, float64(v.Connections)},
		{"gnatsd_varz_total_connections", nil, float64(v.TotalConnections)},
		{"gnatsd_varz_in_msgs", nil, 6},
		{"gnatsd_varz_in_bytes", nil, 18},
		{"gnatsd_varz_out_msgs", nil, float64(v.OutMsgs)},
		{"gnatsd_varz_out_bytes", nil, float64(v.OutBytes)},
		{"gnatsd_varz_subscriptions", nil, float64(v.Subscriptions)},
		{"gnatsd_varz_max_payload", nil, float64(v.MaxPayload)},
		{"gnatsd_varz_http_port", nil, float64(v.HTTPPort)},
		{"gnatsd_varz_server_name", []string{"value", v.Name}, 1},
		{"gnatsd_varz_version", []string{"value", v.Version}, 1},
		{"gnatsd_varz_start_time_seconds", nil, float64(v.Start.UnixNano()) / 1e9},
		{"gnatsd_varz_http_req_stats", []string{"endpoint", "/metrics"}, 1},
		{"gnatsd_connz_num_connections", nil, 2},
		{"gnatsd_connz_subscriptions", nil, 1},
		{"gnatsd_connz_in_msgs", nil, 6},
		{"gnatsd_connz_out_bytes", nil, 18},
		{"gnatsd_subsz_num_subscriptions", nil, float64(sz.NumSubs)},
		{"gnatsd_subsz_num_inserts", nil, float64(sz.NumInserts)},
		{"gnatsd_routez_num_routes", nil, 0},
		{"gnatsd_leafz_leafnodes", nil, 0},
		{"gnatsd_healthz_status", nil, 0},
		{"gnatsd_accstatz_current_connections", []string{"account", "$G"}, 2},
		{"gnatsd_accstatz_current_connections", []string{"account", "$SYS"}, 0},
		{"gnatsd_accstatz_received_messages", []string{"account", "$G"}, 6},
		{"gnatsd_accstatz_sent_bytes", []string{"account", "$G"}, 18},
	} {
		labels := append([]string{"server_id", id}, c.labels...)
		if got := promValue(t, m, c.name, labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if v.InMsgs != 6 || v.InBytes != 18 {
		t.Errorf("varz in %d/%dB, want 6/18", v.InMsgs, v.InBytes)
	}
}

func TestPromParserRejectsBadText(t *testing.T) {
	t.Parallel()
	// The checker above must itself catch malformed output.
	for _, bad := range []string{
		"a 1\n",                                  // no HELP/TYPE
		"# HELP a x\n# TYPE a summary\na 1\n",    // unknown type
		"# HELP a x\n# TYPE a gauge\na{x=1} 1\n", // unquoted label
		"# HELP a x\n# TYPE a gauge\na one\n",    // bad value
		"# HELP a x\n# TYPE a gauge\n# TYPE a gauge\na 1\n",
	} {
		if _, errs := parsePromText([]byte(bad)); len(errs) == 0 {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestAccountzImportsExports(t *testing.T) {
	t.Parallel()
	s := runConf(t, `
accounts {
  A {
    users: [{user: a, password: a}]
    exports: [
      {stream: "ev.>"}
      {service: "svc.req", response_type: "stream", response_threshold: "5s"}
      {service: "priv.req", accounts: [B]}
    ]
  }
  B {
    users: [{user: b, password: b}]
    imports: [
      {stream: {account: A, subject: "ev.>"}, prefix: "fromA"}
      {service: {account: A, subject: "svc.req"}, to: "a.svc"}
      {service: {account: A, subject: "priv.req"}}
    ]
  }
}`, withMonitor)
	a := monJSON[api.Accountz](t, s, "/accountz?acc=A").Account
	wantEx := []api.ExtExport{
		{Subject: "ev.>", Type: "stream"},
		{Subject: "svc.req", Type: "service", ResponseType: "Streamed", ResponseThreshold: 5 * time.Second},
		{Subject: "priv.req", Type: "service", ResponseType: "Singleton", ApprovedAccounts: []string{"B"}},
	}
	if fmt.Sprint(a.Exports) != fmt.Sprint(wantEx) {
		t.Errorf("A exports:\n got %+v\nwant %+v", a.Exports, wantEx)
	}
	sys := func(remote, local string, share bool) api.ExtImport {
		return api.ExtImport{Subject: remote, Account: "$SYS", To: local, LocalSubject: local, Type: "service", Share: share}
	}
	wantIm := []api.ExtImport{
		sys("$SYS.REQ.ACCOUNT.B.CONNZ", "$SYS.REQ.ACCOUNT.PING.CONNZ", false),
		sys("$SYS.REQ.ACCOUNT.B.CONNZ", "$SYS.REQ.SERVER.PING.CONNZ", false),
		sys("$SYS.REQ.ACCOUNT.B.STATZ", "$SYS.REQ.ACCOUNT.PING.STATZ", false),
		sys("$SYS.REQ.USER.B.INFO", "$SYS.REQ.USER.INFO", true),
		{Subject: "ev.>", Account: "A", LocalSubject: "fromA.ev.>", Type: "stream"},
		{Subject: "priv.req", Account: "A", To: "priv.req", LocalSubject: "priv.req", Type: "service"},
		{Subject: "svc.req", Account: "A", To: "a.svc", LocalSubject: "a.svc", Type: "service"},
	}
	b := monJSON[api.Accountz](t, s, "/accountz?acc=B").Account
	if b.Exports != nil || fmt.Sprint(b.Imports) != fmt.Sprint(wantIm) {
		t.Errorf("B imports:\n got %+v\nwant %+v", b.Imports, wantIm)
	}
	if sysAcc := monJSON[api.Accountz](t, s, "/accountz?acc=$SYS").Account; sysAcc.Imports != nil {
		t.Errorf("the system account imports %+v", sysAcc.Imports)
	}
}
