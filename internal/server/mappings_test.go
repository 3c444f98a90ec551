package server_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/server/subject"
)

// Subject mappings end to end: configured in a file, applied to what
// clients publish, reloaded.

const landedMarker = "zz.landed.marker"

// landed publishes each subject from nc (payload = the subject) and
// returns, in order, the subjects the messages arrived on, as seen by a
// '>' subscriber on nc itself. A final marker proves nothing is still on
// its way; dropped messages simply do not appear.
func landed(t *testing.T, nc *nats.Conn, subjects ...string) []string {
	t.Helper()
	sub, err := nc.SubscribeSync(">")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	sub.SetPendingLimits(-1, -1)
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, s := range subjects {
		nc.Publish(s, []byte(s))
	}
	nc.Publish(landedMarker, nil)
	var got []string
	for {
		m, err := sub.NextMsg(msgWait)
		if err != nil {
			t.Fatalf("after %d messages: %v", len(got), err)
		}
		if m.Subject == landedMarker {
			return got
		}
		got = append(got, m.Subject)
	}
}

func landedOne(t *testing.T, nc *nats.Conn, subj string) string {
	t.Helper()
	got := landed(t, nc, subj)
	if len(got) != 1 {
		t.Fatalf("publish %q landed on %q, want exactly one subject", subj, got)
	}
	return got[0]
}

func TestMappingsLiteralAndWildcards(t *testing.T) {
	t.Parallel()
	s := runConf(t, `
mappings {
  orders: "orders.v2"
  "ref.*.*": "ref.$2.$1"
  "fn.*.*": "fn.{{wildcard(2)}}.{{ wildcard(1) }}"
  "tail.*.>": "moved.$1.>"
  "lit.*": "fixed"
}`)
	nc := mustDial(t, s)
	cases := map[string]string{
		"orders":        "orders.v2",
		"orders.more":   "orders.more", // a literal source matches only itself
		"ref.a.b":       "ref.b.a",
		"fn.a.b":        "fn.b.a",
		"tail.x.y.z":    "moved.x.y.z",
		"lit.anything":  "fixed",
		"unmapped.subj": "unmapped.subj",
	}
	for from, want := range cases {
		if got := landedOne(t, nc, from); got != want {
			t.Errorf("%s landed on %s, want %s", from, got, want)
		}
	}
}

// The partition numbers and function outputs below were produced by
// nats-server v2.15.2 with this same mapping block (published with the nats
// CLI, received by a '>' subscriber), so both servers route a subject to
// the same partition.
func TestMappingsFunctionsMatchNatsServer(t *testing.T) {
	t.Parallel()
	s := runConf(t, `
mappings {
  "part.*.*": "p.{{partition(5,1,2)}}.{{wildcard(1)}}.$2"
  "one.*": "o.{{partition(3,1)}}.$1"
  "lit": "l.{{partition(7)}}"
  "sp.*": "s.{{split(1,-)}}"
  "sl.*": "x.{{slicefromleft(1,2)}}.{{slicefromright(1,3)}}"
  "lr.*.*": "lr.{{left(1,2)}}.{{right(2,2)}}.{{splitfromleft(1,3)}}.{{splitfromright(2,2)}}"
}`)
	nc := mustDial(t, s)
	want := [][2]string{
		{"part.a.b", "p.1.a.b"},
		{"part.x.y", "p.2.x.y"},
		{"part.alpha.beta", "p.0.alpha.beta"},
		{"part.1.2", "p.0.1.2"},
		{"part.foo.bar", "p.0.foo.bar"},
		{"part.orders.42", "p.1.orders.42"},
		{"one.a", "o.1.a"},
		{"one.b", "o.1.b"},
		{"one.c", "o.2.c"},
		{"one.d", "o.1.d"},
		{"one.hello", "o.0.hello"},
		{"lit", "l.4"},
		{"sp.a-b-c", "s.a.b.c"},
		{"sp.-x--y-", "s.x.y"},
		{"sl.abcdefg", "x.ab.cd.ef.g.a.bcd.efg"},
		{"lr.abcdef.uvwxyz", "lr.ab.yz.abc.def.uvwx.yz"},
	}
	var pubs []string
	for _, w := range want {
		pubs = append(pubs, w[0])
	}
	got := landed(t, nc, pubs...)
	if len(got) != len(want) {
		t.Fatalf("landed on %q", got)
	}
	for i, w := range want {
		if got[i] != w[1] {
			t.Errorf("%s landed on %s, nats-server sends it to %s", w[0], got[i], w[1])
		}
	}
}

func countLanded(t *testing.T, nc *nats.Conn, subj string, n int) map[string]int {
	t.Helper()
	pubs := make([]string, n)
	for i := range pubs {
		pubs[i] = subj
	}
	counts := map[string]int{}
	for _, s := range landed(t, nc, pubs...) {
		counts[s]++
	}
	return counts
}

func TestMappingsWeighted(t *testing.T) {
	t.Parallel()
	s := runConf(t, `
mappings {
  split: [ {destination: "split.a", weight: 30%}, {destination: "split.b", weight: "70"} ]
  partial: [ {destination: "partial.moved", weight: 40} ]
  all: {destination: "all.moved", weight: 100%}
  none: [ {destination: "none.moved", weight: 0%} ]
  lossy: [ {destination: "lossy.copy", weight: 50%}, {destination: lossy, weight: 0%} ]
  lost: [ {destination: lost, weight: 0%} ]
}`)
	nc := mustDial(t, s)
	const n = 1000
	// Binomial spread at n = 1000 is about 15; a tolerance of 100 keeps
	// the test from ever flaking while still catching a wrong split.
	near := func(got, want int) bool { return got > want-100 && got < want+100 }

	c := countLanded(t, nc, "split", n)
	if c["split.a"]+c["split.b"] != n || !near(c["split.a"], 300) || !near(c["split.b"], 700) {
		t.Errorf("30/70 split gave %v", c)
	}
	c = countLanded(t, nc, "partial", n)
	if c["partial.moved"]+c["partial"] != n || !near(c["partial.moved"], 400) {
		t.Errorf("40%% with the rest unmapped gave %v", c)
	}
	c = countLanded(t, nc, "lossy", n)
	if len(c) != 1 || !near(c["lossy.copy"], 500) {
		t.Errorf("50%% with the source listed (the rest dropped) gave %v", c)
	}
	// Deterministic cases.
	if c = countLanded(t, nc, "all", 200); c["all.moved"] != 200 {
		t.Errorf("100%% gave %v", c)
	}
	if c = countLanded(t, nc, "none", 200); c["none"] != 200 {
		t.Errorf("0%% gave %v", c)
	}
	if c = countLanded(t, nc, "lost", 200); len(c) != 0 {
		t.Errorf("source listed at 0%%: want everything dropped, got %v", c)
	}
}

// A dropped request finds no responders, as on nats-server.
func TestMappingsDroppedRequestHasNoResponders(t *testing.T) {
	t.Parallel()
	s := runConf(t, `mappings { lost: [ {destination: lost, weight: 0%} ] }`)
	nc := mustDial(t, s)
	sub, _ := nc.SubscribeSync("lost")
	nc.Flush()
	if _, err := nc.Request("lost", nil, msgWait); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("request to a dropped subject: %v, want no responders", err)
	}
	if n, _, _ := sub.Pending(); n != 0 {
		t.Fatalf("%d messages reached the unmapped subject", n)
	}
}

func TestMappingsAreNotRecursive(t *testing.T) {
	t.Parallel()
	logs := &logBuffer{}
	s := runConf(t, `mappings { a: b, b: c, "w.*": "w.x.$1" }`, withLog(logs))
	nc := mustDial(t, s)
	got := landed(t, nc, "a", "b", "w.y")
	if strings.Join(got, " ") != "b c w.x.y" {
		t.Fatalf("a, b, w.y landed on %q, want b c w.x.y", got)
	}
	// Traced as nats-server does.
	for _, want := range []string{"<<- [MAPPING a -> b]", "<<- [MAPPING b -> c]", "<<- [MAPPING w.y -> w.x.y]"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("trace lacks %q", want)
		}
	}
}

func TestMappingsPerAccount(t *testing.T) {
	t.Parallel()
	s := runConf(t, `
mappings { foo: "global.foo" }
accounts {
  A { users: [ {user: a, password: p} ], mappings { foo: "a.foo" } }
  B { users: [ {user: b, password: p} ], maps { "foo": [ {destination: "b.foo", weight: 100%} ] } }
  C { users: [ {user: c, password: p} ] }
}
authorization { users: [ {user: g, password: p} ] }
`)
	for user, want := range map[string]string{"a": "a.foo", "b": "b.foo", "c": "foo", "g": "global.foo"} {
		nc := mustDial(t, s, nats.UserInfo(user, "p"))
		if got := landedOne(t, nc, "foo"); got != want {
			t.Errorf("user %s: foo landed on %s, want %s", user, got, want)
		}
	}
}

// Sluice runs unclustered, like a standalone nats-server: destinations
// scoped to a cluster never apply, so a mapping uses its unscoped ones,
// or none.
func TestMappingsClusterScoped(t *testing.T) {
	t.Parallel()
	s := runConf(t, `
mappings {
  both: [ {destination: "both.east", weight: 100%, cluster: east}, {destination: "both.any", weight: 100%} ]
  scoped: [ {destination: "scoped.east", weight: 100%, cluster: east} ]
}`)
	nc := mustDial(t, s)
	got := landed(t, nc, "both", "scoped")
	if strings.Join(got, " ") != "both.any scoped" {
		t.Fatalf("landed on %q, want both.any scoped", got)
	}
}

// Permissions apply to the mapped subject, as in nats-server.
func TestMappingsPermissionsSeeMappedSubject(t *testing.T) {
	t.Parallel()
	s := runConf(t, `
mappings { in: allowed.in, out: denied.out }
authorization { users: [ {user: u, password: p, permissions: {publish: ["allowed.>", "zz.>"]}} ] }
`)
	nc := mustDial(t, s, nats.UserInfo("u", "p"))
	expectErr := asyncErrors(t, nc)
	if got := landedOne(t, nc, "in"); got != "allowed.in" {
		t.Fatalf("in landed on %s", got)
	}
	nc.Publish("out", nil)
	expectErr(`Permissions Violation for Publish to "denied.out"`)
}

// Requests through a service import are mapped by the exporter's
// mappings, and the replies by the requester's; stream imports and the
// server's own publishes are not mapped (all as nats-server).
func TestMappingsAndImports(t *testing.T) {
	t.Parallel()
	s := runConf(t, `
accounts {
  SVC {
    users: [ {user: svc, password: p} ]
    exports: [ {service: "api.>"}, {stream: "feed.>"} ]
    mappings { "api.v1.*": "api.v2.$1", "feed.raw": "feed.mapped" }
  }
  APP {
    users: [ {user: app, password: p} ]
    imports: [
      {service: {account: SVC, subject: "api.>"}}
      {stream: {account: SVC, subject: "feed.>"}}
    ]
    mappings { "feed.*": "app.feed.$1", "replies.*": "replies.mapped.$1" }
  }
}`)
	svc := mustDial(t, s, nats.UserInfo("svc", "p"))
	app := mustDial(t, s, nats.UserInfo("app", "p"))
	svc.Subscribe("api.>", func(m *nats.Msg) { m.Respond([]byte(m.Subject)) })
	svc.Flush()
	resp, err := app.Request("api.v1.users", nil, msgWait)
	if err != nil || string(resp.Data) != "api.v2.users" {
		t.Fatalf("service saw %v (%v), want api.v2.users", resp, err)
	}
	// A reply subject the requester's account maps is mapped on return.
	replies, _ := app.SubscribeSync("replies.>")
	app.Flush()
	app.PublishRequest("api.v1.x", "replies.r1", nil)
	if m, err := replies.NextMsg(msgWait); err != nil || m.Subject != "replies.mapped.r1" {
		t.Fatalf("reply arrived as %v (%v), want on replies.mapped.r1", m, err)
	}

	// Stream import: APP's mapping does not apply to imported messages;
	// the exporter's applies when its own client publishes.
	feed, _ := app.SubscribeSync("feed.>")
	app.Flush()
	svc.Publish("feed.other", []byte("1"))
	svc.Publish("feed.raw", []byte("2"))
	for _, want := range []string{"feed.other", "feed.mapped"} {
		if m, err := feed.NextMsg(msgWait); err != nil || m.Subject != want {
			t.Fatalf("imported message %v (%v), want on %s", m, err, want)
		}
	}

	// The server's own publishes are not mapped.
	own, _ := svc.SubscribeSync("feed.raw")
	svc.Flush()
	s.PublishInternal(s.LookupAccount("SVC"), "feed.raw", "", nil, []byte("internal"))
	if m, err := own.NextMsg(msgWait); err != nil || string(m.Data) != "internal" {
		t.Fatalf("internal publish: %v %v", m, err)
	}
}

func TestMappingsReload(t *testing.T) {
	t.Parallel()
	before := `
mappings { foo: "foo.v1", keep: "keep.v1" }
accounts { A { users: [ {user: a, password: p} ], mappings { bar: "bar.v1" } }
           B { users: [ {user: b, password: p} ], mappings { baz: "baz.v1" } } }
authorization { users: [ {user: g, password: p} ] }
`
	after := `
mappings { foo: "foo.v2", "new.*": "new.$1.v2" }
accounts { A { users: [ {user: a, password: p} ], mappings { bar: [ {destination: "bar.v2", weight: 100%} ] } }
           B { users: [ {user: b, password: p} ] } }
authorization { users: [ {user: g, password: p} ] }
`
	s := runConf(t, before)
	g := mustDial(t, s, nats.UserInfo("g", "p"))
	a := mustDial(t, s, nats.UserInfo("a", "p"))
	b := mustDial(t, s, nats.UserInfo("b", "p"))
	check := func(nc *nats.Conn, pubs, want string) {
		t.Helper()
		if got := strings.Join(landed(t, nc, strings.Fields(pubs)...), " "); got != want {
			t.Errorf("%s landed on %q, want %q", pubs, got, want)
		}
	}
	check(g, "foo keep new.x", "foo.v1 keep.v1 new.x")
	check(a, "bar foo", "bar.v1 foo")
	check(b, "baz", "baz.v1")

	var next server.Options
	if _, err := next.ProcessConfigFile(writeConf(t, after), true); err != nil {
		t.Fatal(err)
	}
	next.Host, next.Port = "127.0.0.1", s.Options().Port
	res, err := s.ReloadOptions(next)
	if err != nil {
		t.Fatal(err)
	}
	if !contains(res.Changed, "Mappings") || !contains(res.Changed, "Accounts") {
		t.Errorf("reload changed %v", res.Changed)
	}
	// Connected clients see the new mappings at once.
	check(g, "foo keep new.x", "foo.v2 keep new.x.v2")
	check(a, "bar", "bar.v2")
	check(b, "baz", "baz")

	// A reload with a bad mapping is refused and changes nothing.
	bad := next
	bad.Mappings = []subject.Mapping{{Source: "foo", Dests: []subject.MapDest{{Subject: "x.$1", Weight: 100}}}}
	if _, err := s.ReloadOptions(bad); err == nil {
		t.Fatal("reload accepted a bad mapping")
	}
	check(g, "foo", "foo.v2")
}

// Options built in code get the same checks as a file, without positions.
func TestMappingsValidateOptions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		mutate func(*server.Options)
		want   string
	}{
		{func(o *server.Options) {
			o.Mappings = []subject.Mapping{{Source: "foo", Dests: []subject.MapDest{{Subject: "bar.$2", Weight: 100}}}}
		}, `mappings: mapping "foo": invalid mapping destination: wildcard index out of range in $2`},
		{func(o *server.Options) {
			o.Accounts = []*server.AccountConfig{{Name: "A", Mappings: []subject.Mapping{{Source: "a..b", Dests: []subject.MapDest{{Subject: "x", Weight: 100}}}}}}
		}, `account "A": mapping "a..b": invalid subject`},
		{func(o *server.Options) {
			o.Mappings = []subject.Mapping{{Source: "w", Dests: []subject.MapDest{{Subject: "x", Weight: 60}, {Subject: "y", Weight: 50}}}}
		}, `mappings: mapping "w": total weight needs to be <= 100`},
	}
	for _, c := range cases {
		o := server.Options{Host: "127.0.0.1", Port: server.RandomPort}
		c.mutate(&o)
		_, err := server.New(o)
		if err == nil || err.Error() != c.want {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}

// Bad mappings are reported with file:line:col and nats-server's wording.
func TestMappingsConfigErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ text, want string }{
		{`mappings { "foo..bar": baz }`, `1:12: Subject "foo..bar" is not a valid subject`},
		{`mappings { foo: "bar.$1" }`, `1:17: Error adding mapping for "foo" to "bar.$1" : invalid mapping destination: wildcard index out of range in $1`},
		{`mappings { foo: "bar.*" }`, `1:17: Error adding mapping for "foo" to "bar.*" : invalid subject`},
		{`mappings { "foo.*": "bar.{{nope(1)}}" }`, `1:21: Error adding mapping for "foo.*" to "bar.{{nope(1)}}" : invalid mapping destination: unknown function in {{nope(1)}}`},
		{`mappings { foo: "" }`, `1:17: Error adding mapping for "foo" to "" : missing mapping destination`},
		{"mappings {\n  foo: [\n    {destination: a, weight: 60%}\n    {destination: b, weight: 50%}\n  ]\n}",
			`4:5: Error adding mapping for "foo" : total weight needs to be <= 100`},
		{`mappings { foo: [ {destination: a, weight: 10}, {destination: a, weight: 20} ] }`,
			`1:49: Error adding mapping for "foo" : duplicate entry for "a"`},
		{`mappings { foo: [ {weight: 10} ] }`, `1:19: Error adding mapping for "foo" : missing mapping destination`},
		{`mappings { foo: [ {destination: a} ] }`, `1:19: Missing weight for mapping destination "a"`},
		{`mappings { foo: [ {destination: a, weight: 120} ] }`, `1:44: Invalid weight 120 for mapping destination`},
		{`mappings { foo: [ {destination: a, weight: -1} ] }`, `1:44: Invalid weight -1 for mapping destination`},
		{`mappings { foo: [ {destination: a, weight: "x%"} ] }`, `1:44: Invalid weight "x" for mapping destination`},
		{`mappings { foo: [ {destination: a, weight: 0.5} ] }`, `1:44: Invalid weight 0.5 for mapping destination: want a whole percentage such as 40%, not a decimal number`},
		{`mappings { foo: [ {destination: a, weight: 10, bogus: 1} ] }`, `1:48: Unknown field "bogus" for mapping destination`},
		{`mappings { foo: [ "a" ] }`, `1:19: Expected an entry for the mapping destination`},
		{`mappings { foo: 12 }`, `1:17: Expected an entry for the mapping destination`},
		{`mappings { foo: {destination: 5, weight: 100} }`, `1:31: 'destination' must be a string, not a number`},
		{`mappings: 5`, `1:11: 'mappings' must be a block {...}, not a number`},
		{`maps: [1]`, `1:7: 'maps' must be a block {...}, not a list [...]`},
		{`accounts { A { mappings { foo: "bar.$1" } } }`, `1:32: Error adding mapping for "foo" to "bar.$1" : invalid mapping destination: wildcard index out of range in $1`},
		{`accounts { A { mappings: true } }`, `1:26: 'mappings' must be a block {...}, not a boolean`},
	}
	for _, c := range cases {
		p := writeConf(t, c.text+"\n")
		var o server.Options
		_, err := o.ProcessConfigFile(p, false)
		if want := p + ":" + c.want; err == nil || err.Error() != want {
			t.Errorf("%s\n got %v\nwant %s", c.text, err, want)
		}
	}
}

// The parsed form keeps file order (the order mappings are tried in) and
// every field.
func TestMappingsConfigParsed(t *testing.T) {
	t.Parallel()
	p := writeConf(t, `
maps {
  "z.*": "z.$1"
  a: [ {dest: "a.1", weight: "25%", cluster: east}, {destination: "a.2", weight: 75} ]
}
accounts { X { mappings { x: y } } }
`)
	var o server.Options
	warns, err := o.ProcessConfigFile(p, true)
	if err != nil || len(warns) != 0 {
		t.Fatalf("warnings %v, error %v", warns, err)
	}
	got := fmt.Sprintf("%v %v", o.Mappings, o.Accounts[0].Mappings)
	want := `[{z.* [{z.$1 100 }]} {a [{a.1 25 east} {a.2 75 }]}] [{x [{y 100 }]}]`
	if got != want {
		t.Fatalf("parsed\n got %s\nwant %s", got, want)
	}
}

// Mapping a subject must not disturb the per-connection match cache: the
// same client alternates mapped and unmapped subjects with live interest.
func TestMappingsWithMatchCache(t *testing.T) {
	t.Parallel()
	s := runConf(t, `mappings { "m.*": "n.$1" }`)
	nc := mustDial(t, s)
	var pubs, want []string
	for i := 0; i < 50; i++ {
		k := fmt.Sprint(i % 5)
		pubs = append(pubs, "m."+k, "n."+k)
		want = append(want, "n."+k, "n."+k)
	}
	if got := landed(t, nc, pubs...); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("landed on %q", got)
	}
}
