package server_test

// The system account: $SYS events and $SYS.REQ services, driven through
// nats.go as a system-account user (and as ordinary users, who may use
// only the services every account gets).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
	"github.com/sluicehq/sluice/pkg/api"
)

const sysConf = `
server_name: sys-test-srv
accounts {
  SYS { users: [{user: sys, password: sys}] }
  APP { users: [
    {user: app, password: app}
    {user: limited, password: limited, permissions: {
      publish: {allow: ["foo.>", "$SYS.REQ.USER.INFO"]}
      subscribe: {allow: ["_INBOX.>"], deny: ["foo.secret"]}
    }}
  ] }
  OTHER { users: [{user: other, password: other}] }
}
system_account: SYS
`

func runSys(t *testing.T, mutate ...func(*server.Options)) *server.Server {
	t.Helper()
	return runConf(t, sysConf, mutate...)
}

func sysUser(t *testing.T, s *server.Server, opts ...nats.Option) *nats.Conn {
	t.Helper()
	return mustDial(t, s, append([]nats.Option{nats.UserInfo("sys", "sys")}, opts...)...)
}

func appUser(t *testing.T, s *server.Server, opts ...nats.Option) *nats.Conn {
	t.Helper()
	return mustDial(t, s, append([]nats.Option{nats.UserInfo("app", "app")}, opts...)...)
}

// envelope is the ServerAPIResponse with its data typed.
type envelope[T any] struct {
	Server *api.EventServer    `json:"server"`
	Data   T                   `json:"data"`
	Error  *api.ServerAPIError `json:"error"`
}

func request(t *testing.T, nc *nats.Conn, subj, body string) *nats.Msg {
	t.Helper()
	m, err := nc.Request(subj, []byte(body), msgWait)
	if err != nil {
		t.Fatalf("request %s %s: %v", subj, body, err)
	}
	return m
}

// decodeStrict decodes b into v, failing on fields v does not know.
func decodeStrict(t *testing.T, b []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decoding %T: %v\n%s", v, err, b)
	}
}

// sysData requests subj and returns the data of a successful envelope
// from server s.
func sysData[T any](t *testing.T, s *server.Server, nc *nats.Conn, subj, body string) T {
	t.Helper()
	var env envelope[T]
	decodeStrict(t, request(t, nc, subj, body).Data, &env)
	if env.Error != nil {
		t.Fatalf("%s %s: error %+v", subj, body, env.Error)
	}
	if env.Server == nil || env.Server.ID != s.ID() || env.Server.Name != s.Name() || env.Server.Seq == 0 || env.Server.Time.IsZero() {
		t.Fatalf("%s: server %+v", subj, env.Server)
	}
	return env.Data
}

// sysError requests subj and returns the error of the envelope.
func sysError(t *testing.T, nc *nats.Conn, subj, body string) api.ServerAPIError {
	t.Helper()
	var env envelope[json.RawMessage]
	decodeStrict(t, request(t, nc, subj, body).Data, &env)
	if env.Error == nil || env.Server == nil || env.Data != nil {
		t.Fatalf("%s %s: want an error envelope, got error %v data %s", subj, body, env.Error, env.Data)
	}
	return *env.Error
}

// expectNoReply proves that s does not answer subj/body: a marker request
// sent after it on the same connection, which the server handles in
// order, is answered first.
func expectNoReply(t *testing.T, s *server.Server, nc *nats.Conn, subj, body string) {
	t.Helper()
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := nc.PublishRequest(subj, inbox, []byte(body)); err != nil {
		t.Fatal(err)
	}
	if err := nc.PublishRequest("$SYS.REQ.SERVER."+s.ID()+".IDZ", inbox, nil); err != nil {
		t.Fatal(err)
	}
	m, err := sub.NextMsg(msgWait)
	if err != nil {
		t.Fatalf("marker not answered: %v", err)
	}
	var id api.ServerID
	if json.Unmarshal(m.Data, &id) != nil || id.ID != s.ID() || bytes.Contains(m.Data, []byte(`"server"`)) {
		t.Errorf("%s %s was answered: %s", subj, body, m.Data)
	}
}

func nextMsg(t *testing.T, sub *nats.Subscription) *nats.Msg {
	t.Helper()
	m, err := sub.NextMsg(msgWait)
	if err != nil {
		t.Fatalf("no message on %s: %v", sub.Subject, err)
	}
	return m
}

func subscribeSync(t *testing.T, nc *nats.Conn, subj string) *nats.Subscription {
	t.Helper()
	sub, err := nc.SubscribeSync(subj)
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return sub
}

func TestSysConnectDisconnectEvents(t *testing.T) {
	t.Parallel()
	s := runSys(t)
	sys := sysUser(t, s)
	connects := subscribeSync(t, sys, "$SYS.ACCOUNT.APP.CONNECT")
	disconnects := subscribeSync(t, sys, "$SYS.ACCOUNT.APP.DISCONNECT")
	connsNew := subscribeSync(t, sys, "$SYS.ACCOUNT.APP.SERVER.CONNS")
	connsOld := subscribeSync(t, sys, "$SYS.SERVER.ACCOUNT.APP.CONNS")

	app := appUser(t, s, nats.Name("app-1"))
	cid := clientID(t, app)
	var ce api.ConnectEventMsg
	decodeStrict(t, nextMsg(t, connects).Data, &ce)
	cl := ce.Client
	if ce.Type != api.ConnectEventType || ce.ID == "" || ce.Time.IsZero() || ce.Server.ID != s.ID() ||
		ce.Server.Name != "sys-test-srv" || ce.Server.Host != "127.0.0.1" || ce.Server.Version == "" || ce.Server.Seq == 0 {
		t.Errorf("connect event: %+v", ce)
	}
	if cl.ID != cid || cl.Account != "APP" || cl.User != "app" || cl.Name != "app-1" || cl.Lang != "go" ||
		cl.Version != nats.Version || cl.Kind != "Client" || cl.ClientType != "nats" || cl.Host != "127.0.0.1" ||
		cl.Start == nil || cl.Stop != nil {
		t.Errorf("connect event client: %+v", cl)
	}
	for _, sub := range []*nats.Subscription{connsNew, connsOld} {
		var nc api.AccountNumConns
		decodeStrict(t, nextMsg(t, sub).Data, &nc)
		if nc.Type != api.AccountNumConnsType || nc.Account != "APP" || nc.Conns != 1 || nc.TotalConns != 1 || nc.Server.ID != s.ID() {
			t.Errorf("%s: %+v", sub.Subject, nc)
		}
	}

	// Traffic: 3 messages of 3 bytes sent, one of them received back.
	in := subscribeSync(t, app, "foo.b")
	for _, subj := range []string{"foo.a", "foo.a", "foo.b"} {
		if err := app.Publish(subj, []byte("xyz")); err != nil {
			t.Fatal(err)
		}
	}
	nextMsg(t, in)
	app.Close()

	var de api.DisconnectEventMsg
	decodeStrict(t, nextMsg(t, disconnects).Data, &de)
	if de.Type != api.DisconnectEventType || de.Reason != "Client Closed" || de.Client.ID != cid || de.Client.User != "app" ||
		de.Client.Stop == nil || de.Client.Stop.Before(*de.Client.Start) || de.Server.Seq <= ce.Server.Seq {
		t.Errorf("disconnect event: %+v", de)
	}
	if de.Sent.Msgs != 3 || de.Sent.Bytes != 9 || de.Received.Msgs != 1 || de.Received.Bytes != 3 {
		t.Errorf("disconnect traffic: sent %+v received %+v, want 3/9 and 1/3", de.Sent.MsgBytes, de.Received.MsgBytes)
	}
	var after api.AccountNumConns
	decodeStrict(t, nextMsg(t, connsNew).Data, &after)
	if after.Conns != 0 || after.Received.Msgs != 3 {
		t.Errorf("account conns after close: %+v", after)
	}
}

func TestSysAuthErrorEvent(t *testing.T) {
	t.Parallel()
	s := runSys(t)
	sys := sysUser(t, s)
	errs := subscribeSync(t, sys, "$SYS.SERVER."+s.ID()+".CLIENT.AUTH.ERR")
	// As nats-server, the refused client is also reported as a disconnect
	// in the account it was placed in before login.
	discs := subscribeSync(t, sys, "$SYS.ACCOUNT.$G.DISCONNECT")
	if _, err := dial(s, nats.UserInfo("app", "wrong"), nats.Name("intruder")); !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("bad password: %v", err)
	}
	for _, sub := range []*nats.Subscription{errs, discs} {
		raw := nextMsg(t, sub).Data
		var ev api.DisconnectEventMsg
		decodeStrict(t, raw, &ev)
		if ev.Type != api.DisconnectEventType || ev.Reason != "Authentication Failure" || ev.Client.User != "app" ||
			ev.Client.Name != "intruder" || ev.Client.Lang != "go" || ev.Client.ID == 0 || ev.Client.Host != "127.0.0.1" ||
			ev.Server.ID != s.ID() || ev.Client.Stop == nil || ev.Client.Account != "$G" {
			t.Errorf("%s: %+v", sub.Subject, ev)
		}
		if bytes.Contains(raw, []byte("wrong")) {
			t.Errorf("%s reveals the password: %s", sub.Subject, raw)
		}
	}
}

func TestSysPing(t *testing.T) {
	t.Parallel()
	s := runSys(t)
	sys := sysUser(t, s)
	for _, subj := range []string{"$SYS.REQ.SERVER.PING", "$SYS.REQ.SERVER.PING.STATSZ", "$SYS.REQ.SERVER." + s.ID() + ".STATSZ"} {
		var sm api.ServerStatsMsg
		decodeStrict(t, request(t, sys, subj, "").Data, &sm)
		st := sm.Stats
		if sm.Server.ID != s.ID() || sm.Server.Name != "sys-test-srv" || st.Connections != 1 || st.TotalConnections != 1 ||
			st.ActiveAccounts != 1 || st.NumSubs == 0 || st.Cores == 0 || st.Mem <= 0 || st.Start.IsZero() || st.ActiveServers != 1 {
			t.Errorf("%s: %+v", subj, sm)
		}
	}
	for _, subj := range []string{"$SYS.REQ.SERVER.PING.IDZ", "$SYS.REQ.SERVER." + s.ID() + ".IDZ"} {
		var id api.ServerID
		decodeStrict(t, request(t, sys, subj, "").Data, &id)
		if id != (api.ServerID{Name: "sys-test-srv", Host: "127.0.0.1", ID: s.ID()}) {
			t.Errorf("%s: %+v", subj, id)
		}
	}
}

func TestSysServerEndpoints(t *testing.T) {
	t.Parallel()
	s := runSys(t)
	sys := sysUser(t, s)
	subscribeSync(t, sys, "probe.x")
	for _, pre := range []string{"$SYS.REQ.SERVER.PING.", "$SYS.REQ.SERVER." + s.ID() + "."} {
		if v := sysData[api.Varz](t, s, sys, pre+"VARZ", ""); v.ID != s.ID() || v.Connections != 1 || v.SystemAccount != "SYS" {
			t.Errorf("%sVARZ: %+v", pre, v)
		}
		cz := sysData[api.Connz](t, s, sys, pre+"CONNZ", `{"subscriptions":true,"auth":true}`)
		if cz.NumConns != 1 || cz.Conns[0].AuthorizedUser != "sys" || cz.Conns[0].Account != "SYS" ||
			!strings.Contains(strings.Join(cz.Conns[0].Subs, " "), "probe.x") {
			t.Errorf("%sCONNZ: %+v", pre, cz.Conns)
		}
		sz := sysData[api.Subsz](t, s, sys, pre+"SUBSZ", `{"subscriptions":true,"test":"probe.x"}`)
		if sz.Total != 1 || sz.Subs[0].Subject != "probe.x" || sz.Subs[0].Account != "SYS" {
			t.Errorf("%sSUBSZ: %+v", pre, sz)
		}
		if rz := sysData[api.Routez](t, s, sys, pre+"ROUTEZ", ""); rz.ID != s.ID() || rz.NumRoutes != 0 {
			t.Errorf("%sROUTEZ: %+v", pre, rz)
		}
		if gz := sysData[api.Gatewayz](t, s, sys, pre+"GATEWAYZ", `{"accounts":true}`); gz.ID != s.ID() {
			t.Errorf("%sGATEWAYZ: %+v", pre, gz)
		}
		if lz := sysData[api.Leafz](t, s, sys, pre+"LEAFZ", ""); lz.ID != s.ID() || lz.NumLeafs != 0 {
			t.Errorf("%sLEAFZ: %+v", pre, lz)
		}
		if az := sysData[api.Accountz](t, s, sys, pre+"ACCOUNTZ", ""); strings.Join(az.Accounts, ",") != "$G,APP,OTHER,SYS" || az.SystemAccount != "SYS" {
			t.Errorf("%sACCOUNTZ: %+v", pre, az)
		}
		if az := sysData[api.Accountz](t, s, sys, pre+"ACCOUNTZ", `{"account":"APP"}`); az.Account == nil || az.Account.AccountName != "APP" {
			t.Errorf("%sACCOUNTZ APP: %+v", pre, az)
		}
		if js := sysData[api.JSInfo](t, s, sys, pre+"JSZ", ""); !js.Disabled || js.ID != s.ID() {
			t.Errorf("%sJSZ: %+v", pre, js)
		}
		if hs := sysData[api.HealthStatus](t, s, sys, pre+"HEALTHZ", ""); hs.Status != "ok" || hs.StatusCode != 200 || hs.Error != "" || hs.Errors != nil {
			t.Errorf("%sHEALTHZ: %+v", pre, hs)
		}
		if hs := sysData[api.HealthStatus](t, s, sys, pre+"HEALTHZ", `{"js-enabled-only":true}`); hs.Status != "ok" {
			t.Errorf("%sHEALTHZ js-enabled-only: %+v", pre, hs)
		}
		if hs := sysData[api.HealthStatus](t, s, sys, pre+"HEALTHZ", `{"stream":"S"}`); hs.Status != "error" || hs.StatusCode != 400 || hs.Error == "" {
			t.Errorf("%sHEALTHZ stream without account: %+v", pre, hs)
		}
		if p := sysData[api.ProfilezStatus](t, s, sys, pre+"PROFILEZ", `{"name":"goroutine","debug":1}`); p.Error != "" || !bytes.Contains(p.Profile, []byte("goroutine")) {
			t.Errorf("%sPROFILEZ: error %q, %d bytes", pre, p.Error, len(p.Profile))
		}
		if p := sysData[api.ProfilezStatus](t, s, sys, pre+"PROFILEZ", ""); p.Error != "Profile name not specified" {
			t.Errorf("%sPROFILEZ without a name: %+v", pre, p)
		}
		if p := sysData[api.ProfilezStatus](t, s, sys, pre+"PROFILEZ", `{"name":"nope"}`); p.Error != `Profile "nope" not found` {
			t.Errorf("%sPROFILEZ unknown: %+v", pre, p)
		}
		if p := sysData[api.ProfilezStatus](t, s, sys, pre+"PROFILEZ", `{"name":"cpu"}`); p.Error != "Duration 0s should be between 0s and 15s" {
			t.Errorf("%sPROFILEZ cpu without a duration: %+v", pre, p)
		}
		if ev := sysData[api.ExpvarzStatus](t, s, sys, pre+"EXPVARZ", ""); !bytes.Contains(ev.Memstats, []byte("HeapAlloc")) || len(ev.Cmdline) == 0 {
			t.Errorf("%sEXPVARZ: %.100s", pre, ev.Memstats)
		}
		// The request itself is on the internal queue while it is answered.
		if q := sysData[api.IpqueueszStatus](t, s, sys, pre+"IPQUEUESZ", ""); q["Internal recvQ"].InProgress < 1 {
			t.Errorf("%sIPQUEUESZ: %+v", pre, q)
		}
		if q := sysData[api.IpqueueszStatus](t, s, sys, pre+"IPQUEUESZ", `{"all":true,"filter":"nope"}`); len(q) != 0 {
			t.Errorf("%sIPQUEUESZ filtered: %+v", pre, q)
		}
		if r := sysData[api.RaftzStatus](t, s, sys, pre+"RAFTZ", ""); r == nil || len(r) != 0 {
			t.Errorf("%sRAFTZ: %+v, want an empty map", pre, r)
		}
		// Only the JetStream meta leader answers leader_only; there is none.
		expectNoReply(t, s, sys, pre+"JSZ", `{"leader_only":true}`)
	}
	// A CPU profile runs for the duration asked, off the internal queue.
	p := sysData[api.ProfilezStatus](t, s, sys, "$SYS.REQ.SERVER.PING.PROFILEZ", `{"name":"cpu","duration":100000000}`)
	if p.Error != "" || len(p.Profile) == 0 {
		t.Errorf("cpu profile: error %q, %d bytes", p.Error, len(p.Profile))
	}
}

func TestSysRequestErrors(t *testing.T) {
	t.Parallel()
	s := runSys(t)
	sys := sysUser(t, s)
	const badJSON = "invalid character 'b' looking for beginning of value"
	for _, subj := range []string{
		"$SYS.REQ.SERVER.PING", "$SYS.REQ.SERVER.PING.VARZ", "$SYS.REQ.SERVER.PING.CONNZ", "$SYS.REQ.SERVER.PING.STATSZ",
		"$SYS.REQ.SERVER." + s.ID() + ".SUBSZ", "$SYS.REQ.SERVER." + s.ID() + ".KICK", "$SYS.REQ.SERVER." + s.ID() + ".RELOAD",
		"$SYS.REQ.ACCOUNT.APP.CONNZ", "$SYS.REQ.ACCOUNT.APP.INFO", "$SYS.REQ.ACCOUNT.PING.STATZ",
	} {
		if e := sysError(t, sys, subj, "bogus"); e.Code != 400 || e.Description != badJSON {
			t.Errorf("%s bogus: %+v", subj, e)
		}
	}
	if e := sysError(t, sys, "$SYS.REQ.SERVER.PING.CONNZ", `{"limit":"ten"}`); e.Code != 400 || !strings.Contains(e.Description, "cannot unmarshal string") {
		t.Errorf("wrong type: %+v", e)
	}
	// A bad option the handler finds is a 500, as in nats-server.
	if e := sysError(t, sys, "$SYS.REQ.SERVER.PING.CONNZ", `{"sort":"bogus"}`); e.Code != 500 || e.Description != "invalid sorting option: bogus" {
		t.Errorf("bad sort: %+v", e)
	}
	if e := sysError(t, sys, "$SYS.REQ.SERVER.PING.SUBSZ", `{"test":"a.*"}`); e.Code != 500 || e.Description != "invalid test subject, must be valid publish subject: a.*" {
		t.Errorf("bad test subject: %+v", e)
	}
	// Unknown services have no responders.
	for _, subj := range []string{"$SYS.REQ.SERVER.PING.NOPEZ", "$SYS.REQ.SERVER." + s.ID() + ".NOPEZ", "$SYS.REQ.SERVER.PING.KICK", "$SYS.REQ.ACCOUNT.APP.NOPE"} {
		if _, err := sys.Request(subj, nil, msgWait); !errors.Is(err, nats.ErrNoResponders) {
			t.Errorf("%s: %v, want no responders", subj, err)
		}
	}
}

func TestSysFilter(t *testing.T) {
	t.Parallel()
	s := runSys(t)
	sys := sysUser(t, s)
	for _, f := range []string{
		`{"server_name":"sys-test"}`, `{"server_name":"sys-test-srv","exact_match":true}`, `{"host":"127.0"}`,
		`{"host":"127.0.0.1","exact_match":true}`, `{}`, `{"server_name":""}`,
	} {
		sysData[api.Varz](t, s, sys, "$SYS.REQ.SERVER.PING.VARZ", f)
		var sm api.ServerStatsMsg
		decodeStrict(t, request(t, sys, "$SYS.REQ.SERVER.PING", f).Data, &sm)
	}
	for _, f := range []string{
		`{"server_name":"nomatch"}`, `{"server_name":"sys-test","exact_match":true}`, `{"host":"10.0.0.1"}`,
		`{"cluster":"c1"}`, `{"tags":["eu"]}`, `{"domain":"hub"}`,
	} {
		expectNoReply(t, s, sys, "$SYS.REQ.SERVER.PING.VARZ", f)
		expectNoReply(t, s, sys, "$SYS.REQ.SERVER.PING", f)
		expectNoReply(t, s, sys, "$SYS.REQ.SERVER.PING.CONNZ", f)
		expectNoReply(t, s, sys, "$SYS.REQ.SERVER."+s.ID()+".HEALTHZ", f)
		expectNoReply(t, s, sys, "$SYS.REQ.ACCOUNT.SYS.CONNZ", f)
	}
	// IDZ ignores its body, as in nats-server.
	var id api.ServerID
	decodeStrict(t, request(t, sys, "$SYS.REQ.SERVER.PING.IDZ", `{"server_name":"nomatch"}`).Data, &id)
	if id.ID != s.ID() {
		t.Errorf("IDZ: %+v", id)
	}
}

func TestSysKick(t *testing.T) {
	t.Parallel()
	s := runSys(t, withMonitor)
	sys := sysUser(t, s)
	closed := make(chan struct{})
	app := appUser(t, s, nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	cid := clientID(t, app)
	subj := "$SYS.REQ.SERVER." + s.ID() + ".KICK"

	var env envelope[json.RawMessage]
	decodeStrict(t, request(t, sys, subj, fmt.Sprintf(`{"cid":%d}`, cid)).Data, &env)
	if env.Error != nil || env.Data != nil || env.Server == nil {
		t.Fatalf("kick answer: %+v", env)
	}
	select {
	case <-closed:
	case <-time.After(waitLong):
		t.Fatal("kicked client still connected")
	}
	var cz api.Connz
	testutil.CheckFor(t, waitLong, pollStep, func() error {
		cz = monJSON[api.Connz](t, s, fmt.Sprintf("/connz?state=closed&cid=%d", cid))
		if cz.NumConns != 1 {
			return fmt.Errorf("kicked client not among closed connections")
		}
		return nil
	})
	if cz.Conns[0].Reason != "Kicked" {
		t.Errorf("reason %q, want Kicked", cz.Conns[0].Reason)
	}
	for _, body := range []string{fmt.Sprintf(`{"cid":%d}`, cid), `{"cid":0}`, `{}`, ""} {
		if e := sysError(t, sys, subj, body); e.Code != 500 || e.Description != "no such client id" {
			t.Errorf("kick %q: %+v", body, e)
		}
	}
	if e := sysError(t, sys, subj, `{"cid":"x"}`); e.Code != 400 {
		t.Errorf("kick with a bad cid: %+v", e)
	}
	// KICK is addressed to one server only.
	if _, err := sys.Request("$SYS.REQ.SERVER.PING.KICK", nil, msgWait); !errors.Is(err, nats.ErrNoResponders) {
		t.Errorf("PING.KICK: %v", err)
	}
}

func TestSysLDM(t *testing.T) {
	t.Parallel()
	s := runSys(t)
	sys := sysUser(t, s)
	ldm := make(chan struct{}, 1)
	app := appUser(t, s, nats.LameDuckModeHandler(func(*nats.Conn) { ldm <- struct{}{} }))
	other := appUser(t, s, nats.LameDuckModeHandler(func(*nats.Conn) { t.Error("LDM sent to the wrong client") }))
	subj := "$SYS.REQ.SERVER." + s.ID() + ".LDM"
	var env envelope[json.RawMessage]
	decodeStrict(t, request(t, sys, subj, fmt.Sprintf(`{"cid":%d}`, clientID(t, app))).Data, &env)
	if env.Error != nil {
		t.Fatalf("LDM: %+v", env.Error)
	}
	select {
	case <-ldm:
	case <-time.After(waitLong):
		t.Fatal("client not told about lame duck mode")
	}
	// Only told: the client and the server go on.
	checkRoundTrip(t, app)
	checkRoundTrip(t, other)
	if s.InLameDuckMode() {
		t.Error("server entered lame duck mode")
	}
	if e := sysError(t, sys, subj, `{"cid":424242}`); e.Code != 500 || e.Description != "no such client id" {
		t.Errorf("LDM unknown cid: %+v", e)
	}
	// A client that has not sent CONNECT cannot be told.
	rc := testutil.DialRaw(t, s)
	defer rc.Close()
	rc.ReadInfo()
	cz := sysData[api.Connz](t, s, sys, "$SYS.REQ.SERVER.PING.CONNZ", `{"sort":"start"}`)
	raw := cz.Conns[len(cz.Conns)-1].Cid
	if e := sysError(t, sys, subj, fmt.Sprintf(`{"cid":%d}`, raw)); e.Code != 500 || !strings.Contains(e.Description, "does not support Lame Duck Mode") {
		t.Errorf("LDM before CONNECT: %+v", e)
	}
}

func TestSysReload(t *testing.T) {
	t.Parallel()
	s := runSys(t)
	sys := sysUser(t, s)
	subj := "$SYS.REQ.SERVER." + s.ID() + ".RELOAD"
	if e := sysError(t, sys, subj, ""); e.Code != 500 || e.Description != "config reload: server was not started from a configuration" {
		t.Errorf("reload without a configuration: %+v", e)
	}
	var calls atomic.Int32
	s.SetReloader(func() error { calls.Add(1); return nil })
	var env envelope[json.RawMessage]
	decodeStrict(t, request(t, sys, subj, "").Data, &env)
	if env.Error != nil || calls.Load() != 1 {
		t.Errorf("reload: %+v, %d calls", env.Error, calls.Load())
	}
	s.SetReloader(func() error { return errors.New("config reload: boom") })
	if e := sysError(t, sys, subj, ""); e.Code != 500 || e.Description != "config reload: boom" {
		t.Errorf("failed reload: %+v", e)
	}
	// Filtered like every request: another server's name is not this one.
	expectNoReply(t, s, sys, subj, `{"server_name":"elsewhere"}`)
	if calls.Load() != 1 {
		t.Errorf("filtered reload ran")
	}
}

func TestSysUserInfo(t *testing.T) {
	t.Parallel()
	s := runSys(t)
	for _, c := range []struct {
		user, acc, perms string
	}{
		{"sys", "SYS", ""},
		{"app", "APP", ""},
		{"limited", "APP", `{"publish":{"allow":["foo.>","$SYS.REQ.USER.INFO"]},"subscribe":{"allow":["_INBOX.>"],"deny":["foo.secret"]}}`},
	} {
		nc := mustDial(t, s, nats.UserInfo(c.user, c.user))
		var env envelope[api.UserInfo]
		decodeStrict(t, request(t, nc, "$SYS.REQ.USER.INFO", "").Data, &env)
		ui := env.Data
		if env.Error != nil || env.Server == nil || env.Server.ID != s.ID() || ui.UserID != c.user || ui.Account != c.acc || ui.AccountName != c.acc {
			t.Errorf("%s: %+v %+v", c.user, env.Server, ui)
		}
		if !sameJSON(ui.Permissions, c.perms) {
			t.Errorf("%s: permissions %s, want %s", c.user, ui.Permissions, c.perms)
		}
	}
}

func TestSysAccountEndpoints(t *testing.T) {
	t.Parallel()
	s := runSys(t)
	sys := sysUser(t, s)
	app := appUser(t, s, nats.Name("app-conn"))
	cid := clientID(t, app)
	subscribeSync(t, app, "foo.x")

	cz := sysData[api.Connz](t, s, sys, "$SYS.REQ.ACCOUNT.APP.CONNZ", "")
	if cz.NumConns != 1 || cz.Total != 1 || cz.Conns[0].Cid != cid || cz.Conns[0].Name != "app-conn" {
		t.Errorf("APP CONNZ: %+v", cz)
	}
	// The account comes from the subject, whatever the body says.
	if cz := sysData[api.Connz](t, s, sys, "$SYS.REQ.ACCOUNT.APP.CONNZ", `{"acc":"SYS","subscriptions":true}`); cz.NumConns != 1 || cz.Conns[0].Subs[0] != "foo.x" {
		t.Errorf("APP CONNZ with acc in the body: %+v", cz.Conns)
	}
	if cz := sysData[api.Connz](t, s, sys, "$SYS.REQ.ACCOUNT.NOPE.CONNZ", ""); cz.NumConns != 0 {
		t.Errorf("unknown account CONNZ: %+v", cz)
	}
	sz := sysData[api.Subsz](t, s, sys, "$SYS.REQ.ACCOUNT.APP.SUBSZ", "")
	if sz.Total != 1 || sz.Subs[0].Subject != "foo.x" || sz.Subs[0].Account != "APP" || sz.Subs[0].Cid != cid {
		t.Errorf("APP SUBSZ: %+v", sz)
	}
	info := sysData[api.AccountInfo](t, s, sys, "$SYS.REQ.ACCOUNT.APP.INFO", "")
	if info.AccountName != "APP" || info.ClientCnt != 1 || info.SubCnt == 0 || info.IsSystem || !info.Complete {
		t.Errorf("APP INFO: %+v", info)
	}
	if e := sysError(t, sys, "$SYS.REQ.ACCOUNT.NOPE.INFO", ""); e.Code != 500 || e.Description != "Account NOPE does not exist" {
		t.Errorf("unknown account INFO: %+v", e)
	}
	stz := sysData[api.AccountStatz](t, s, sys, "$SYS.REQ.ACCOUNT.APP.STATZ", "")
	if len(stz.Accounts) != 1 || stz.Accounts[0].Account != "APP" || stz.Accounts[0].Conns != 1 {
		t.Errorf("APP STATZ: %+v", stz)
	}
	expectNoReply(t, s, sys, "$SYS.REQ.ACCOUNT.OTHER.STATZ", "")
	if stz := sysData[api.AccountStatz](t, s, sys, "$SYS.REQ.ACCOUNT.OTHER.STATZ", `{"include_unused":true}`); len(stz.Accounts) != 1 || stz.Accounts[0].Conns != 0 {
		t.Errorf("OTHER STATZ include_unused: %+v", stz)
	}
	if lz := sysData[api.Leafz](t, s, sys, "$SYS.REQ.ACCOUNT.APP.LEAFZ", ""); lz.NumLeafs != 0 {
		t.Errorf("APP LEAFZ: %+v", lz)
	}
	if e := sysError(t, sys, "$SYS.REQ.ACCOUNT.APP.JSZ", ""); e.Code != 500 || e.Description != "jetstream not enabled" {
		t.Errorf("APP JSZ: %+v", e)
	}

	// CONNS answers unwrapped, and only for an account with connections.
	var nc api.AccountNumConns
	decodeStrict(t, request(t, sys, "$SYS.REQ.ACCOUNT.APP.CONNS", "").Data, &nc)
	if nc.Type != api.AccountNumConnsType || nc.Account != "APP" || nc.Conns != 1 || nc.Server.ID != s.ID() {
		t.Errorf("APP CONNS: %+v", nc)
	}
	decodeStrict(t, request(t, sys, "$SYS.REQ.ACCOUNT.APP.CONNS", `{"acc":"APP"}`).Data, &nc)
	expectNoReply(t, s, sys, "$SYS.REQ.ACCOUNT.OTHER.CONNS", "")
	if e := sysError(t, sys, "$SYS.REQ.ACCOUNT.APP.CONNS", `{"acc":"OTHER"}`); e.Code != 400 {
		t.Errorf("CONNS with another account in the body: %+v", e)
	}

	// Every server's account statistics, from the system account.
	names := func(stz api.AccountStatz) string {
		var out []string
		for _, a := range stz.Accounts {
			out = append(out, a.Account)
		}
		return strings.Join(out, ",")
	}
	if got := names(sysData[api.AccountStatz](t, s, sys, "$SYS.REQ.ACCOUNT.PING.STATZ", "")); got != "APP,SYS" {
		t.Errorf("PING.STATZ: %s", got)
	}
	if got := names(sysData[api.AccountStatz](t, s, sys, "$SYS.REQ.ACCOUNT.PING.STATZ", `{"accounts":["OTHER"],"include_unused":true}`)); got != "OTHER" {
		t.Errorf("PING.STATZ OTHER: %s", got)
	}
	expectNoReply(t, s, sys, "$SYS.REQ.ACCOUNT.PING.STATZ", `{"accounts":["OTHER"]}`)
}

func TestSysServicesForEveryAccount(t *testing.T) {
	t.Parallel()
	s := runSys(t)
	sysUser(t, s)
	mustDial(t, s, nats.UserInfo("other", "other"))
	app := appUser(t, s)
	app2 := appUser(t, s)
	want := []uint64{clientID(t, app), clientID(t, app2)}
	// An account sees its own connections, not the others'.
	for _, subj := range []string{"$SYS.REQ.SERVER.PING.CONNZ", "$SYS.REQ.ACCOUNT.PING.CONNZ"} {
		cz := sysData[api.Connz](t, s, app, subj, `{"auth":true}`)
		if got := cids(cz); len(got) != 2 || got[0] != want[0] || got[1] != want[1] || cz.Conns[0].Account != "APP" {
			t.Errorf("%s from APP: %v, want %v", subj, got, want)
		}
	}
	stz := sysData[api.AccountStatz](t, s, app, "$SYS.REQ.ACCOUNT.PING.STATZ", "")
	if len(stz.Accounts) != 1 || stz.Accounts[0].Account != "APP" || stz.Accounts[0].Conns != 2 {
		t.Errorf("PING.STATZ from APP: %+v", stz)
	}
	// Everything else is the system account's alone.
	for _, subj := range []string{
		"$SYS.REQ.SERVER.PING", "$SYS.REQ.SERVER.PING.VARZ", "$SYS.REQ.SERVER.PING.IDZ",
		"$SYS.REQ.SERVER." + s.ID() + ".CONNZ", "$SYS.REQ.SERVER." + s.ID() + ".KICK",
		"$SYS.REQ.ACCOUNT.APP.INFO", "$SYS.REQ.ACCOUNT.APP.CONNZ",
	} {
		if _, err := app.Request(subj, nil, msgWait); !errors.Is(err, nats.ErrNoResponders) {
			t.Errorf("%s from APP: %v, want no responders", subj, err)
		}
	}
}

func TestSysStatszHeartbeat(t *testing.T) {
	t.Parallel()
	s := runSys(t)
	sys := sysUser(t, s)
	hb := subscribeSync(t, sys, "$SYS.SERVER."+s.ID()+".STATSZ")
	var first, second api.ServerStatsMsg
	decodeStrict(t, nextMsg(t, hb).Data, &first)
	decodeStrict(t, nextMsg(t, hb).Data, &second)
	if first.Server.ID != s.ID() || first.Stats.Connections != 1 || second.Server.Seq <= first.Server.Seq {
		t.Errorf("heartbeats: %+v then %+v", first, second)
	}
}

func TestSysShutdownEvent(t *testing.T) {
	t.Parallel()
	s := runSys(t)
	sys := sysUser(t, s)
	ch := make(chan *nats.Msg, 4)
	if _, err := sys.ChanSubscribe("$SYS.SERVER."+s.ID()+".SHUTDOWN", ch); err != nil {
		t.Fatal(err)
	}
	if err := sys.Flush(); err != nil {
		t.Fatal(err)
	}
	s.Shutdown()
	select {
	case m := <-ch:
		var es api.EventServer
		decodeStrict(t, m.Data, &es)
		if es.ID != s.ID() || es.Name != "sys-test-srv" || es.Seq == 0 {
			t.Errorf("shutdown event: %+v", es)
		}
	case <-time.After(waitLong):
		t.Fatal("no shutdown event")
	}
}

func TestSysLameDuckEvent(t *testing.T) {
	t.Parallel()
	s := runSys(t, func(o *server.Options) {
		o.LameDuckGracePeriod = 20 * time.Millisecond
		o.LameDuckDuration = 200 * time.Millisecond
	})
	sys := sysUser(t, s)
	ch := make(chan *nats.Msg, 4)
	if _, err := sys.ChanSubscribe("$SYS.SERVER."+s.ID()+".LAMEDUCK", ch); err != nil {
		t.Fatal(err)
	}
	if err := sys.Flush(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { s.LameDuckMode(); close(done) }()
	select {
	case m := <-ch:
		var es api.EventServer
		decodeStrict(t, m.Data, &es)
		if es.ID != s.ID() {
			t.Errorf("lame duck event: %+v", es)
		}
	case <-time.After(waitLong):
		t.Fatal("no lame duck event")
	}
	<-done
}

func TestSysNoSystemAccount(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, func(o *server.Options) { o.NoSystemAccount = true })
	nc := testutil.Connect(t, s)
	if _, err := nc.Request("$SYS.REQ.SERVER.PING", nil, msgWait); !errors.Is(err, nats.ErrNoResponders) {
		t.Errorf("PING without a system account: %v", err)
	}
	// Who am I still works.
	var env envelope[api.UserInfo]
	decodeStrict(t, request(t, nc, "$SYS.REQ.USER.INFO", "").Data, &env)
	if env.Data.Account != "$G" || env.Server == nil || env.Server.ID != s.ID() {
		t.Errorf("user info: %+v %+v", env.Server, env.Data)
	}
}

// sameJSON compares a JSON document with the text expected ("" for none).
func sameJSON(got json.RawMessage, want string) bool {
	if len(got) == 0 || want == "" {
		return len(got) == 0 && want == ""
	}
	var g, w any
	return json.Unmarshal(got, &g) == nil && json.Unmarshal([]byte(want), &w) == nil && reflect.DeepEqual(g, w)
}
