package server_test

// Internal subscriptions: Go callbacks inside the server, and messages the
// server publishes itself.

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/testutil"
)

type internalMsg struct {
	subject, reply string
	hdr, payload   []byte
}

func TestInternalSubscribeReceivesClientMessages(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	got := make(chan internalMsg, 16)
	is, err := s.SubscribeInternal(s.GlobalAccount(), "int.*.x", "", func(subj, reply string, hdr, msg []byte) {
		got <- internalMsg{subj, reply, hdr, msg}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.UnsubscribeInternal(is)

	nc := testutil.Connect(t, s)
	nc.PublishRequest("int.a.x", "reply.here", []byte("plain"))
	m := nats.NewMsg("int.b.x")
	m.Header.Add("K", "v1")
	m.Header.Add("K", "v2")
	m.Data = []byte("with headers")
	nc.PublishMsg(m)
	nc.Publish("int.c.y", []byte("no match"))
	nc.Flush()

	first := recvInternal(t, got)
	if first.subject != "int.a.x" || first.reply != "reply.here" || first.hdr != nil || string(first.payload) != "plain" {
		t.Fatalf("plain message: %+v", first)
	}
	second := recvInternal(t, got)
	const wantHdr = "NATS/1.0\r\nK: v1\r\nK: v2\r\n\r\n"
	if second.subject != "int.b.x" || string(second.hdr) != wantHdr || string(second.payload) != "with headers" {
		t.Fatalf("header message: subject %q hdr %q payload %q", second.subject, second.hdr, second.payload)
	}
	// Nothing else (the int.c.y message does not match).
	checkRoundTrip(t, nc)
	select {
	case m := <-got:
		t.Fatalf("unexpected internal delivery %+v", m)
	default:
	}

	// After UnsubscribeInternal nothing more arrives.
	s.UnsubscribeInternal(is)
	nc.Publish("int.a.x", []byte("late"))
	checkRoundTrip(t, nc)
	select {
	case m := <-got:
		t.Fatalf("delivery after UnsubscribeInternal: %+v", m)
	default:
	}
}

func recvInternal(t *testing.T, ch <-chan internalMsg) internalMsg {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(msgWait):
		t.Fatal("internal callback not called")
		return internalMsg{}
	}
}

func TestInternalQueueSubscription(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	var internalN atomic.Int64
	is, err := s.SubscribeInternal(s.GlobalAccount(), "iq", "grp", func(string, string, []byte, []byte) {
		internalN.Add(1)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.UnsubscribeInternal(is)
	member := testutil.Connect(t, s)
	var clientN atomic.Int64
	member.QueueSubscribe("iq", "grp", func(*nats.Msg) { clientN.Add(1) })
	member.Flush()
	pub := testutil.Connect(t, s)
	const n = 400
	for i := 0; i < n; i++ {
		pub.Publish("iq", nil)
	}
	pub.Flush()
	testutil.CheckFor(t, waitLong, pollStep, func() error {
		if internalN.Load()+clientN.Load() != n {
			return fmt.Errorf("internal %d + client %d != %d", internalN.Load(), clientN.Load(), n)
		}
		return nil
	})
	if internalN.Load() == 0 || clientN.Load() == 0 {
		t.Fatalf("queue group with an internal member: internal %d, client %d", internalN.Load(), clientN.Load())
	}
}

func TestPublishInternalReachesClients(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	nc := testutil.Connect(t, s)
	sub, _ := nc.SubscribeSync("from.server.>")
	nc.Flush()

	s.PublishInternal(s.GlobalAccount(), "from.server.a", "", nil, []byte("hello"))
	s.PublishInternal(s.GlobalAccount(), "from.server.b", "some.reply", []byte("NATS/1.0\r\nX: 1\r\n\r\n"), []byte("hdr"))
	m, err := sub.NextMsg(msgWait)
	if err != nil || m.Subject != "from.server.a" || string(m.Data) != "hello" || len(m.Header) != 0 {
		t.Fatalf("plain internal publish: %v %+v", err, m)
	}
	m, err = sub.NextMsg(msgWait)
	if err != nil || m.Subject != "from.server.b" || m.Reply != "some.reply" || m.Header.Get("X") != "1" || string(m.Data) != "hdr" {
		t.Fatalf("header internal publish: %v %+v", err, m)
	}

	// A raw subscriber without headers gets the payload only.
	rc := rawConnect(t, s, connQuiet)
	rc.Send("SUB from.server.c 1\r\n")
	rc.Sync()
	s.PublishInternal(s.GlobalAccount(), "from.server.c", "", []byte("NATS/1.0\r\nX: 1\r\n\r\n"), []byte("body"))
	rc.Expect("MSG from.server.c 1 4\r\nbody\r\n")

	// A request the server sends is answered by a nats.go responder
	// through an internal reply subscription.
	replies := make(chan string, 1)
	is, err := s.SubscribeInternal(s.GlobalAccount(), "srv.inbox", "", func(_, _ string, _, msg []byte) {
		replies <- string(msg)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.UnsubscribeInternal(is)
	nc.Subscribe("svc.echo", func(m *nats.Msg) { m.Respond(append([]byte("echo:"), m.Data...)) })
	nc.Flush()
	s.PublishInternal(s.GlobalAccount(), "svc.echo", "srv.inbox", nil, []byte("q"))
	select {
	case r := <-replies:
		if r != "echo:q" {
			t.Fatalf("reply %q", r)
		}
	case <-time.After(msgWait):
		t.Fatal("no reply to the server's request")
	}
}

// TestInternalSlowCallbackDoesNotStallClients: a callback blocked on a
// channel must not hold up a client's publishing; 1000 request/reply round
// trips through another responder complete while it is blocked, and the
// callback later gets every message in order.
func TestInternalSlowCallbackDoesNotStallClients(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	release := make(chan struct{})
	var mu sync.Mutex
	var seen []string
	is, err := s.SubscribeInternal(s.GlobalAccount(), "busy.svc", "", func(_, _ string, _, msg []byte) {
		<-release
		mu.Lock()
		seen = append(seen, string(msg))
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.UnsubscribeInternal(is)

	responder := testutil.Connect(t, s)
	responder.Subscribe("busy.svc", func(m *nats.Msg) { m.Respond(m.Data) })
	responder.Flush()
	requester := testutil.Connect(t, s)
	const n = 1000
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	for i := 0; i < n; i++ {
		want := fmt.Sprintf("r%d", i)
		r, err := requester.Request("busy.svc", []byte(want), msgWait)
		if err != nil {
			t.Fatalf("round trip %d while the internal callback is blocked: %v", i, err)
		}
		if string(r.Data) != want {
			t.Fatalf("round trip %d: got %q", i, r.Data)
		}
	}
	close(release)
	released = true
	testutil.CheckFor(t, waitLong, pollStep, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(seen) != n {
			return fmt.Errorf("callback saw %d of %d", len(seen), n)
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	for i, m := range seen {
		if m != fmt.Sprintf("r%d", i) {
			t.Fatalf("callback message %d = %q: out of order", i, m)
		}
	}
}

func TestInternalCallbackPanicIsContained(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	calls := make(chan string, 4)
	is, err := s.SubscribeInternal(s.GlobalAccount(), "boom", "", func(_, _ string, _, msg []byte) {
		calls <- string(msg)
		if string(msg) == "panic" {
			panic("callback failure")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.UnsubscribeInternal(is)
	nc := testutil.Connect(t, s)
	nc.Publish("boom", []byte("panic"))
	nc.Publish("boom", []byte("after"))
	nc.Flush()
	for _, want := range []string{"panic", "after"} {
		select {
		case got := <-calls:
			if got != want {
				t.Fatalf("got %q want %q", got, want)
			}
		case <-time.After(msgWait):
			t.Fatalf("callback not called for %q", want)
		}
	}
	checkHealthy(t, s, nc)
}

func TestSubscribeInternalRejectsBadInput(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	cb := func(string, string, []byte, []byte) {}
	for _, subj := range []string{"", "foo..bar", "foo.>.x", "a b"} {
		if _, err := s.SubscribeInternal(s.GlobalAccount(), subj, "", cb); err == nil {
			t.Errorf("SubscribeInternal(%q) accepted an invalid subject", subj)
		}
	}
	if _, err := s.SubscribeInternal(nil, "ok", "", cb); err == nil {
		t.Error("SubscribeInternal with a nil account succeeded")
	}
	if _, err := s.SubscribeInternal(s.GlobalAccount(), "ok", "", nil); err == nil {
		t.Error("SubscribeInternal with a nil callback succeeded")
	}
}
