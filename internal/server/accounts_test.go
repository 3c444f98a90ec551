package server_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

const accountsConf = `
accounts {
  PROD {
    users: [ {user: prod, password: p} ]
    exports: [
      {stream: "events.>"}
      {stream: "private.>", accounts: [OPS]}
      {service: "svc.time"}
      {service: "svc.feed", response_type: stream, response_threshold: "2s"}
      {service: "svc.any.>"}
    ]
  }
  DEV {
    users: [ {user: dev, password: p} ]
    imports: [
      {stream: {account: PROD, subject: "events.>"}, prefix: "prod"}
      {service: {account: PROD, subject: "svc.time"}, to: "time"}
      {service: {account: PROD, subject: "svc.feed"}}
      {service: {account: PROD, subject: "svc.any.>"}}
    ]
  }
  OPS {
    users: [ {user: ops, password: p} ]
    imports: [
      {stream: {account: PROD, subject: "private.>"}, to: "mirror.>"}
    ]
  }
}
`

func TestAccountIsolation(t *testing.T) {
	t.Parallel()
	s := runConf(t, accountsConf)
	prod := mustDial(t, s, nats.UserInfo("prod", "p"))
	dev := mustDial(t, s, nats.UserInfo("dev", "p"))
	devSub, _ := dev.SubscribeSync("shared")
	prodSub, _ := prod.SubscribeSync("shared")
	dev.Flush()
	prod.Flush()
	prod.Publish("shared", []byte("prod only"))
	prod.Flush()
	if m, err := prodSub.NextMsg(5 * time.Second); err != nil || string(m.Data) != "prod only" {
		t.Fatalf("same-account delivery: %v %v", m, err)
	}
	// A marker proves the other account saw nothing before it.
	dev.Publish("shared", []byte("dev marker"))
	if m, err := devSub.NextMsg(5 * time.Second); err != nil || string(m.Data) != "dev marker" {
		t.Fatalf("message crossed accounts: %v %v", m, err)
	}
	// Connected clients learn their account from INFO.
	if got := s.LookupAccount("PROD").NumClients(); got != 1 {
		t.Errorf("PROD has %d clients", got)
	}
}

func TestStreamImports(t *testing.T) {
	t.Parallel()
	s := runConf(t, accountsConf)
	prod := mustDial(t, s, nats.UserInfo("prod", "p"))
	dev := mustDial(t, s, nats.UserInfo("dev", "p"))
	ops := mustDial(t, s, nats.UserInfo("ops", "p"))
	devSub, _ := dev.SubscribeSync("prod.events.>")
	opsSub, _ := ops.SubscribeSync("mirror.>")
	dev.Flush()
	ops.Flush()

	msg := nats.NewMsg("events.order.created")
	msg.Header.Set("Trace", "abc")
	msg.Data = []byte("o1")
	prod.PublishMsg(msg)
	prod.Publish("private.audit", []byte("a1"))
	prod.Flush()

	m, err := devSub.NextMsg(5 * time.Second)
	if err != nil || m.Subject != "prod.events.order.created" || string(m.Data) != "o1" || m.Header.Get("Trace") != "abc" {
		t.Fatalf("prefixed stream import: %+v %v", m, err)
	}
	m, err = opsSub.NextMsg(5 * time.Second)
	if err != nil || m.Subject != "mirror.audit" || string(m.Data) != "a1" {
		t.Fatalf("'to' stream import of a private export: %+v %v", m, err)
	}
	// DEV imported events only: private.audit must not have reached it.
	prod.Publish("events.marker", nil)
	if m, err := devSub.NextMsg(5 * time.Second); err != nil || m.Subject != "prod.events.marker" {
		t.Fatalf("after marker: %+v %v", m, err)
	}
	// Importers publishing on the imported subject stay in their account.
	prodSub, _ := prod.SubscribeSync("prod.events.>")
	prod.Flush()
	dev.Publish("prod.events.x", nil)
	dev.Flush()
	prod.Publish("prod.events.marker", nil)
	if m, err := prodSub.NextMsg(5 * time.Second); err != nil || m.Subject != "prod.events.marker" {
		t.Fatalf("import leaked backwards: %+v %v", m, err)
	}
}

func TestServiceImports(t *testing.T) {
	t.Parallel()
	s := runConf(t, accountsConf)
	prod := mustDial(t, s, nats.UserInfo("prod", "p"))
	dev := mustDial(t, s, nats.UserInfo("dev", "p"))
	prod.Subscribe("svc.time", func(m *nats.Msg) {
		if !strings.HasPrefix(m.Reply, "_R_.") {
			m.Respond([]byte("reply subject not rewritten: " + m.Reply))
			return
		}
		m.Respond([]byte("noon"))
		m.Respond([]byte("second reply of a singleton"))
	})
	prod.Subscribe("svc.feed", func(m *nats.Msg) {
		for i := range 3 {
			m.Respond([]byte(fmt.Sprint(i)))
		}
	})
	prod.Subscribe("svc.any.>", func(m *nats.Msg) { m.Respond([]byte(m.Subject)) })
	prod.Flush()

	// Renamed service, request/reply through nats.go.
	r, err := dev.Request("time", nil, 5*time.Second)
	if err != nil || string(r.Data) != "noon" {
		t.Fatalf("service import: %v %v", r, err)
	}
	// A singleton export lets one reply through: the second is dropped.
	inbox := nats.NewInbox()
	replies, _ := dev.SubscribeSync(inbox)
	dev.Flush()
	dev.PublishRequest("time", inbox, nil)
	if m, err := replies.NextMsg(5 * time.Second); err != nil || string(m.Data) != "noon" {
		t.Fatalf("first reply: %v %v", m, err)
	}
	testutil.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if n := s.LookupAccount("PROD").NumPendingResponses(); n != 0 {
			return fmt.Errorf("%d responses still pending after a singleton reply", n)
		}
		return nil
	})
	// Stream responses: every reply comes back.
	feed := nats.NewInbox()
	fs, _ := dev.SubscribeSync(feed)
	dev.Flush()
	dev.PublishRequest("svc.feed", feed, nil)
	for i := range 3 {
		m, err := fs.NextMsg(5 * time.Second)
		if err != nil || string(m.Data) != fmt.Sprint(i) {
			t.Fatalf("stream response %d: %v %v", i, m, err)
		}
	}
	// The second singleton reply never arrived before this marker.
	dev.Publish(inbox, []byte("marker"))
	if m, err := replies.NextMsg(5 * time.Second); err != nil || string(m.Data) != "marker" {
		t.Fatalf("second singleton reply leaked: %v %v", m, err)
	}
	// Wildcard services keep the subject.
	r, err = dev.Request("svc.any.thing", nil, 5*time.Second)
	if err != nil || string(r.Data) != "svc.any.thing" {
		t.Fatalf("wildcard service import: %v %v", r, err)
	}
}

func TestServiceImportNoResponders(t *testing.T) {
	t.Parallel()
	s := runConf(t, accountsConf)
	dev := mustDial(t, s, nats.UserInfo("dev", "p"))
	_, err := dev.Request("time", nil, 5*time.Second)
	if !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("request to an import nobody serves: %v, want no responders", err)
	}
	if n := s.LookupAccount("PROD").NumPendingResponses(); n != 0 {
		t.Errorf("%d responses pending for a request nobody got", n)
	}
}

// Reload: a user moved to another account is cut, a removed user is cut,
// changed permissions apply at once, and new imports work.
func TestReloadSecurity(t *testing.T) {
	t.Parallel()
	before := `
accounts {
  A { users: [ {user: stay, password: p}, {user: mover, password: p}, {user: gone, password: p} ]
      exports: [ {stream: "news.>"} ] }
  B { users: [ {user: b, password: p} ] }
}`
	after := `
accounts {
  A { users: [ {user: stay, password: p, permissions: {publish: "allowed.>", subscribe: "news.>"}} ]
      exports: [ {stream: "news.>"} ] }
  B { users: [ {user: b, password: p}, {user: mover, password: p} ]
      imports: [ {stream: {account: A, subject: "news.>"}} ] }
}`
	s := runConf(t, before)
	closed := map[string]chan struct{}{}
	conns := map[string]*nats.Conn{}
	for _, u := range []string{"stay", "mover", "gone", "b"} {
		ch := make(chan struct{})
		closed[u] = ch
		conns[u] = mustDial(t, s, nats.UserInfo(u, "p"), nats.ClosedHandler(func(*nats.Conn) { close(ch) }))
	}
	conns["stay"].SubscribeSync("other.>")
	expectErr := asyncErrors(t, conns["stay"])

	var next server.Options
	if _, err := next.ProcessConfigFile(writeConf(t, after), true); err != nil {
		t.Fatal(err)
	}
	next.Host, next.Port = "127.0.0.1", s.Options().Port
	if _, err := s.ReloadOptions(next); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"mover", "gone"} {
		select {
		case <-closed[u]:
		case <-time.After(5 * time.Second):
			t.Errorf("%s still connected after reload", u)
		}
	}
	if err := conns["stay"].Flush(); err != nil {
		t.Fatalf("unaffected user dropped: %v", err)
	}
	if err := conns["b"].Flush(); err != nil {
		t.Fatalf("unaffected user dropped: %v", err)
	}
	// stay's subscription to other.> is no longer allowed: it is removed
	// and the client told, and the new publish permissions apply.
	expectErr(`Permissions Violation for Subscription to "other.>"`)
	conns["stay"].Publish("forbidden", nil)
	expectErr(`Permissions Violation for Publish to "forbidden"`)
	// The new import works, and mover may log in to B.
	bSub, _ := conns["b"].SubscribeSync("news.>")
	conns["b"].Flush()
	mover := mustDial(t, s, nats.UserInfo("mover", "p"))
	moverSub, _ := mover.SubscribeSync("news.>")
	mover.Flush()
	// Nobody in A may publish news.> any more; the server can.
	a := s.LookupAccount("A")
	s.PublishInternal(a, "news.today", "", nil, []byte("hello B"))
	for _, sub := range []*nats.Subscription{bSub, moverSub} {
		if m, err := sub.NextMsg(5 * time.Second); err != nil || string(m.Data) != "hello B" {
			t.Fatalf("import added on reload: %v %v", m, err)
		}
	}
}
