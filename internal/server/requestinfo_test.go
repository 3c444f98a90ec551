package server_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/testutil"
	"github.com/sluicehq/sluice/pkg/api"
)

const requestInfoConf = `
server_name: ri1
accounts {
  S { users: [{user: s, password: s}]
      exports: [{service: "svc.>"}, {service: "sh.>"}] }
  M { users: [{user: m, password: m}]
      imports: [{service: {account: S, subject: "svc.z"}, to: "m.z"}]
      exports: [{service: "m.z"}] }
  A { users: [{user: a, password: a}]
      imports: [{service: {account: S, subject: "svc.>"}}
                {service: {account: S, subject: "sh.>"}, share: true}
                {service: {account: M, subject: "m.z"}}] }
}
`

// A request crossing a service import carries Nats-Request-Info as
// nats-server v2.15.2 writes it (checked side by side with this config):
// account and RTT; every detail with `share: true`; along a chain, the
// first hop's info naming the service account passed; a client's own
// header of that name replaced.
func TestServiceImportRequestInfo(t *testing.T) {
	t.Parallel()
	s := runConf(t, requestInfoConf)
	svc := mustDial(t, s, nats.UserInfo("s", "s"))
	got := make(chan *nats.Msg, 16)
	svc.Subscribe("svc.>", func(m *nats.Msg) { got <- m; m.Respond([]byte("ok")) })
	svc.Subscribe("sh.>", func(m *nats.Msg) { got <- m; m.Respond([]byte("ok")) })
	svc.Flush()
	a := mustDial(t, s, nats.UserInfo("a", "a"), nats.Name("app"))

	info := func(m *nats.Msg) (api.ClientInfo, map[string]any) {
		t.Helper()
		raw := m.Header.Get("Nats-Request-Info")
		var ci api.ClientInfo
		var keys map[string]any
		if err := json.Unmarshal([]byte(raw), &ci); err != nil {
			t.Fatalf("%s: Nats-Request-Info %q: %v", m.Subject, raw, err)
		}
		json.Unmarshal([]byte(raw), &keys)
		return ci, keys
	}
	request := func(m *nats.Msg) *nats.Msg {
		t.Helper()
		if _, err := a.RequestMsg(m, 5*time.Second); err != nil {
			t.Fatalf("request %s: %v", m.Subject, err)
		}
		return <-got
	}

	ci, keys := info(request(&nats.Msg{Subject: "svc.x", Data: []byte("hi")}))
	if ci.Account != "A" || ci.RTT <= 0 || len(keys) != 2 {
		t.Errorf("plain import: %v, want only acc A and rtt", keys)
	}

	ci, keys = info(request(&nats.Msg{Subject: "sh.y"}))
	if ci.Account != "A" || ci.User != "a" || ci.Name != "app" || ci.Lang != "go" || ci.Server != "ri1" ||
		ci.Kind != "Client" || ci.ClientType != "nats" || ci.Start == nil || ci.ID == 0 || ci.Host == "" {
		t.Errorf("shared import: %v", keys)
	}
	if _, ok := keys["name_tag"]; ok {
		t.Errorf("shared import: name_tag %v (nats-server leaves it out in config mode)", keys["name_tag"])
	}

	ci, keys = info(request(&nats.Msg{Subject: "m.z"}))
	if ci.Account != "A" || ci.Service != "M" || len(keys) != 3 {
		t.Errorf("chained import: %v, want acc A, svc M, rtt", keys)
	}

	spoof := nats.NewMsg("svc.spoof")
	spoof.Header.Set("X-Mine", "1")
	spoof.Header.Set("Nats-Request-Info", `{"acc":"EVIL"}`)
	m := request(spoof)
	if ci, _ = info(m); ci.Account != "A" {
		t.Errorf("a client's own Nats-Request-Info reached the service: %+v", ci)
	}
	if m.Header.Get("X-Mine") != "1" || len(m.Header.Values("Nats-Request-Info")) != 1 {
		t.Errorf("headers after stamping: %v", m.Header)
	}

	// A responder without header support gets the payload alone.
	svc.Close()
	rc, _ := testutil.NewRawConn(t, s)
	rc.Send("CONNECT {\"user\":\"s\",\"pass\":\"s\",\"headers\":false,\"verbose\":false}\r\nSUB svc.> 1\r\nPING\r\n")
	rc.Expect("PONG\r\n")
	a.Publish("svc.raw", []byte("hello"))
	a.Flush()
	rc.Expect("MSG svc.raw 1 5\r\nhello\r\n")
}
