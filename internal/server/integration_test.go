package server_test

// Integration tests driven by nats.go, the judge of compatibility.

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

func TestPubSub(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	sub := testutil.Connect(t, s)
	pub := testutil.Connect(t, s)

	cases := []struct {
		name    string
		pattern string
		match   []string
		miss    []string
	}{
		{"literal", "foo.bar", []string{"foo.bar"}, []string{"foo", "foo.bar.baz", "foo.baz"}},
		{"star middle", "foo.*.baz", []string{"foo.x.baz", "foo.bar.baz"}, []string{"foo.baz", "foo.x.y.baz", "foo.x.bar"}},
		{"star last", "a.*", []string{"a.b", "a.c"}, []string{"a", "a.b.c"}},
		{"star first", "*.end", []string{"x.end"}, []string{"end", "x.y.end"}},
		{"gt", "g.>", []string{"g.a", "g.a.b.c"}, []string{"g", "h.a"}},
		{"star and gt", "s.*.t.>", []string{"s.1.t.x", "s.2.t.x.y"}, []string{"s.1.t", "s.1.u.x"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prefix := uniqueSubject("ps")
			ss, err := sub.SubscribeSync(prefix + "." + tc.pattern)
			if err != nil {
				t.Fatal(err)
			}
			defer ss.Unsubscribe()
			if err := sub.Flush(); err != nil {
				t.Fatal(err)
			}
			for _, m := range append(append([]string{}, tc.miss...), tc.match...) {
				if err := pub.Publish(prefix+"."+m, []byte(m)); err != nil {
					t.Fatal(err)
				}
			}
			for _, want := range tc.match {
				m, err := ss.NextMsg(msgWait)
				if err != nil {
					t.Fatalf("%s: waiting for %s: %v", tc.pattern, want, err)
				}
				if m.Subject != prefix+"."+want || string(m.Data) != want {
					t.Fatalf("%s: got %s %q, want %s (published subject, in order)", tc.pattern, m.Subject, m.Data, want)
				}
			}
			// A round trip through the server proves no late extra message.
			if err := pub.Flush(); err != nil {
				t.Fatal(err)
			}
			if err := sub.Flush(); err != nil {
				t.Fatal(err)
			}
			if n, _, _ := ss.Pending(); n != 0 {
				m, _ := ss.NextMsg(0)
				t.Fatalf("%s: unexpected extra message on %s", tc.pattern, m.Subject)
			}
		})
	}

	t.Run("full wildcard", func(t *testing.T) {
		nc := testutil.Connect(t, s)
		all, err := nc.SubscribeSync(">")
		if err != nil {
			t.Fatal(err)
		}
		nc.Flush()
		subj := uniqueSubject("any.deep.subject")
		pub.Publish(subj, []byte("x"))
		for {
			m, err := all.NextMsg(msgWait)
			if err != nil {
				t.Fatal(err)
			}
			if m.Subject == subj {
				break
			}
		}
	})

	t.Run("ordering and payloads", func(t *testing.T) {
		subj := uniqueSubject("order")
		ss, _ := sub.SubscribeSync(subj)
		defer ss.Unsubscribe()
		sub.Flush()
		const n = 2000
		for i := 0; i < n; i++ {
			pub.Publish(subj, []byte(fmt.Sprintf("%d:%s", i, strings.Repeat("x", i%300))))
		}
		for i := 0; i < n; i++ {
			m, err := ss.NextMsg(msgWait)
			if err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			if want := fmt.Sprintf("%d:%s", i, strings.Repeat("x", i%300)); string(m.Data) != want {
				t.Fatalf("message %d out of order or corrupted: %q", i, testutil.Snip(string(m.Data)))
			}
		}
	})
}

func TestQueueDistribution(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	const members, msgs = 4, 1000
	subj := uniqueSubject("work")
	var counts [members]atomic.Int64
	var total atomic.Int64
	for i := 0; i < members; i++ {
		nc := testutil.Connect(t, s)
		if _, err := nc.QueueSubscribe(subj, "workers", func(*nats.Msg) {
			counts[i].Add(1)
			total.Add(1)
		}); err != nil {
			t.Fatal(err)
		}
		nc.Flush()
	}
	// A plain subscriber beside the group gets every message.
	plain := testutil.Connect(t, s)
	var plainN atomic.Int64
	plain.Subscribe(subj, func(*nats.Msg) { plainN.Add(1) })
	plain.Flush()
	// A second group gets its own copy of each message.
	other := testutil.Connect(t, s)
	var otherN atomic.Int64
	other.QueueSubscribe(subj, "auditors", func(*nats.Msg) { otherN.Add(1) })
	other.Flush()

	pub := testutil.Connect(t, s)
	for i := 0; i < msgs; i++ {
		pub.Publish(subj, []byte("job"))
	}
	pub.Flush()
	testutil.CheckFor(t, waitLong, pollStep, func() error {
		if total.Load() < msgs || plainN.Load() < msgs || otherN.Load() < msgs {
			return fmt.Errorf("queue %d, plain %d, other group %d of %d", total.Load(), plainN.Load(), otherN.Load(), msgs)
		}
		return nil
	})
	// Everything settled: exactly one member per message.
	for _, nc := range []*nats.Conn{pub, plain, other} {
		nc.Flush()
	}
	if total.Load() != msgs || plainN.Load() != msgs || otherN.Load() != msgs {
		t.Fatalf("duplicates: queue %d, plain %d, other %d, want %d each", total.Load(), plainN.Load(), otherN.Load(), msgs)
	}
	// Spread: each member should get about msgs/members (250); a random
	// pick stays far above 100 with overwhelming probability.
	for i := range counts {
		if n := counts[i].Load(); n < msgs/members*2/5 {
			t.Errorf("member %d got %d of %d messages: poor spread %v", i, n, msgs, loadAll(counts[:]))
		}
	}
}

func loadAll(c []atomic.Int64) []int64 {
	out := make([]int64, len(c))
	for i := range c {
		out[i] = c[i].Load()
	}
	return out
}

func TestQueueMemberLeaves(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	subj := uniqueSubject("q")
	a := testutil.Connect(t, s)
	b := testutil.Connect(t, s)
	sa, _ := a.QueueSubscribeSync(subj, "g")
	sb, _ := b.QueueSubscribeSync(subj, "g")
	a.Flush()
	b.Flush()
	sa.Unsubscribe()
	a.Flush()
	pub := testutil.Connect(t, s)
	for i := 0; i < 50; i++ {
		pub.Publish(subj, nil)
	}
	pub.Flush()
	for i := 0; i < 50; i++ {
		if _, err := sb.NextMsg(msgWait); err != nil {
			t.Fatalf("remaining member got %d of 50: %v", i, err)
		}
	}
}

func TestRequestReply(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	responder := testutil.Connect(t, s)
	requester := testutil.Connect(t, s)
	subj := uniqueSubject("svc")
	responder.Subscribe(subj, func(m *nats.Msg) {
		m.Respond(append([]byte("re:"), m.Data...))
	})
	responder.Flush()
	for i := 0; i < 100; i++ {
		req := fmt.Sprintf("q%d", i)
		r, err := requester.Request(subj, []byte(req), msgWait)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if string(r.Data) != "re:"+req {
			t.Fatalf("request %d: got %q", i, r.Data)
		}
	}
	// Old-style requests (a fresh inbox subscription per request).
	old := testutil.Connect(t, s, nats.UseOldRequestStyle())
	r, err := old.Request(subj, []byte("old"), msgWait)
	if err != nil || string(r.Data) != "re:old" {
		t.Fatalf("old-style request: %v %v", r, err)
	}
	// Requests with headers answered with headers.
	hs := uniqueSubject("hsvc")
	responder.Subscribe(hs, func(m *nats.Msg) {
		out := nats.NewMsg(m.Reply)
		out.Header.Set("Echo", m.Header.Get("Ask"))
		out.Data = m.Data
		m.RespondMsg(out)
	})
	responder.Flush()
	req := nats.NewMsg(hs)
	req.Header.Set("Ask", "42")
	req.Data = []byte("body")
	rm, err := requester.RequestMsg(req, msgWait)
	if err != nil {
		t.Fatal(err)
	}
	if rm.Header.Get("Echo") != "42" || string(rm.Data) != "body" {
		t.Fatalf("header request: got %v %q", rm.Header, rm.Data)
	}
}

func TestNoResponders(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	nc := testutil.Connect(t, s)
	_, err := nc.Request(uniqueSubject("nobody"), []byte("x"), msgWait)
	if !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("request with no subscriber: err = %v, want nats.ErrNoResponders", err)
	}
	// Old request style too.
	old := testutil.Connect(t, s, nats.UseOldRequestStyle())
	_, err = old.Request(uniqueSubject("nobody"), nil, msgWait)
	if !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("old-style request: err = %v, want nats.ErrNoResponders", err)
	}
	// A responder appearing later is reached normally.
	subj := uniqueSubject("later")
	other := testutil.Connect(t, s)
	other.Subscribe(subj, func(m *nats.Msg) { m.Respond([]byte("here")) })
	other.Flush()
	if r, err := nc.Request(subj, nil, msgWait); err != nil || string(r.Data) != "here" {
		t.Fatalf("request with responder: %v", err)
	}
	// A plain subscriber on the reply subject sees the 503 status message,
	// which nats.go's NextMsg reports as ErrNoResponders.
	inbox := nc.NewRespInbox()
	sub, _ := nc.SubscribeSync(inbox)
	nc.PublishRequest("nothing.here", inbox, nil)
	if _, err := sub.NextMsg(msgWait); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("NextMsg on the inbox: err = %v, want nats.ErrNoResponders", err)
	}
	// An async subscriber gets the status message itself.
	got := make(chan *nats.Msg, 1)
	inbox2 := nc.NewRespInbox()
	nc.Subscribe(inbox2, func(m *nats.Msg) { got <- m })
	nc.PublishRequest("nothing.here", inbox2, nil)
	select {
	case m := <-got:
		if m.Header.Get("Status") != "503" || len(m.Data) != 0 || m.Header.Get("Nats-Subject") != "nothing.here" {
			t.Fatalf("no-responders message: header %v data %q", m.Header, m.Data)
		}
	case <-time.After(msgWait):
		t.Fatal("no status message on the inbox")
	}
}

func TestHeadersPassThrough(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	pub := testutil.Connect(t, s)
	sub := testutil.Connect(t, s)
	subj := uniqueSubject("hdr")
	ss, _ := sub.SubscribeSync(subj)
	sub.Flush()

	msg := nats.NewMsg(subj)
	msg.Header.Add("X-Multi", "one")
	msg.Header.Add("X-Multi", "two")
	msg.Header.Add("X-Multi", "three")
	msg.Header.Set("lower-case-key", "Mixed Value: with colon")
	msg.Header.Set("Empty", "")
	msg.Data = []byte("payload")
	if err := pub.PublishMsg(msg); err != nil {
		t.Fatal(err)
	}
	got, err := ss.NextMsg(msgWait)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Header, msg.Header) {
		t.Fatalf("headers changed in transit:\n got  %v\n want %v", got.Header, msg.Header)
	}
	if string(got.Data) != "payload" {
		t.Fatalf("payload %q", got.Data)
	}

	// Headers and no payload; payload and no headers.
	m2 := nats.NewMsg(subj)
	m2.Header.Set("Only", "headers")
	pub.PublishMsg(m2)
	pub.Publish(subj, []byte("plain"))
	if g, err := ss.NextMsg(msgWait); err != nil || g.Header.Get("Only") != "headers" || len(g.Data) != 0 {
		t.Fatalf("headers-only message: %v %v %q", err, g.Header, g.Data)
	}
	if g, err := ss.NextMsg(msgWait); err != nil || len(g.Header) != 0 || string(g.Data) != "plain" {
		t.Fatalf("plain message: %v %v %q", err, g.Header, g.Data)
	}
}

// TestHeadersStrippedForRawClient: nats.go publishes with headers; a raw
// client that did not negotiate headers gets only the payload.
func TestHeadersStrippedForRawClient(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	rc := rawConnect(t, s, connQuiet)
	rc.Send("SUB strip 1\r\n")
	rc.Sync()
	nc := testutil.Connect(t, s)
	m := nats.NewMsg("strip")
	m.Header.Set("K", "v")
	m.Data = []byte("body")
	nc.PublishMsg(m)
	nc.Flush()
	rc.Expect("MSG strip 1 4\r\nbody\r\n")
}

func TestAutoUnsubscribe(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	nc := testutil.Connect(t, s)
	base := s.GlobalAccount().NumSubscriptions() // the server's own
	subj := uniqueSubject("auto")
	var n atomic.Int64
	sub, err := nc.Subscribe(subj, func(*nats.Msg) { n.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.AutoUnsubscribe(10); err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	for i := 0; i < 25; i++ {
		nc.Publish(subj, nil)
	}
	nc.Flush()
	testutil.CheckFor(t, waitLong, pollStep, func() error {
		if n.Load() < 10 {
			return fmt.Errorf("got %d of 10", n.Load())
		}
		return nil
	})
	// The server removed the interest itself.
	if acc := s.GlobalAccount(); acc.NumSubscriptions() != base {
		t.Errorf("server still holds %d subscriptions", acc.NumSubscriptions()-base)
	}
	// A round trip later, nothing more arrived.
	checkRoundTrip(t, nc)
	if n.Load() != 10 {
		t.Fatalf("auto-unsubscribe after 10: got %d messages", n.Load())
	}
}

func TestEchoOff(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	noEcho := testutil.Connect(t, s, nats.NoEcho())
	echo := testutil.Connect(t, s)
	subj := uniqueSubject("echo")
	selfSub, _ := noEcho.SubscribeSync(subj)
	echoSub, _ := echo.SubscribeSync(subj)
	noEcho.Flush()
	echo.Flush()

	noEcho.Publish(subj, []byte("mine"))
	noEcho.Flush()
	echo.Publish(subj, []byte("theirs"))
	echo.Flush()
	// The echoing client sees both, the no-echo client only the other's.
	for _, want := range []string{"mine", "theirs"} {
		m, err := echoSub.NextMsg(msgWait)
		if err != nil || string(m.Data) != want {
			t.Fatalf("echo client: got %v %v, want %q", m, err, want)
		}
	}
	m, err := selfSub.NextMsg(msgWait)
	if err != nil || string(m.Data) != "theirs" {
		t.Fatalf("no-echo client: got %v %v, want theirs", m, err)
	}
	noEcho.Flush()
	if n, _, _ := selfSub.Pending(); n != 0 {
		t.Fatalf("no-echo client received its own message")
	}
}

func TestManyConnections(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	const n = 200
	conns := make([]*nats.Conn, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nc, err := nats.Connect(s.ClientURL())
			if err != nil {
				errs <- err
				return
			}
			conns[i] = nc
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() {
		for _, nc := range conns {
			nc.Close()
		}
	})
	waitClients(t, s, n)

	// Everyone subscribes to a broadcast subject and to its own subject.
	var bcast atomic.Int64
	direct := make([]atomic.Int64, n)
	for i, nc := range conns {
		nc.Subscribe("all", func(*nats.Msg) { bcast.Add(1) })
		nc.Subscribe(fmt.Sprintf("one.%d", i), func(*nats.Msg) { direct[i].Add(1) })
	}
	for _, nc := range conns {
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	// Everyone publishes once to all, and once to its neighbour.
	for i, nc := range conns {
		nc.Publish("all", []byte("hi"))
		nc.Publish(fmt.Sprintf("one.%d", (i+1)%n), []byte("hi"))
	}
	for _, nc := range conns {
		nc.Flush()
	}
	testutil.CheckFor(t, waitLong, 10*time.Millisecond, func() error {
		if got := bcast.Load(); got != n*n {
			return fmt.Errorf("broadcast deliveries %d, want %d", got, n*n)
		}
		for i := range direct {
			if direct[i].Load() != 1 {
				return fmt.Errorf("client %d got %d direct messages", i, direct[i].Load())
			}
		}
		return nil
	})
}

// TestMaxPayloadClientSide: nats.go learns max_payload from INFO and
// refuses bigger messages itself; the connection stays up.
func TestMaxPayloadClientSide(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, func(o *server.Options) { o.MaxPayload = 1024 })
	nc := testutil.Connect(t, s)
	if got := nc.MaxPayload(); got != 1024 {
		t.Fatalf("nats.go sees max payload %d, want 1024", got)
	}
	if err := nc.Publish("big", make([]byte, 1025)); !errors.Is(err, nats.ErrMaxPayload) {
		t.Fatalf("publish 1025 bytes: err = %v, want nats.ErrMaxPayload", err)
	}
	sub, _ := nc.SubscribeSync("big")
	nc.Publish("big", make([]byte, 1024)) // exactly the limit is fine
	if m, err := sub.NextMsg(msgWait); err != nil || len(m.Data) != 1024 {
		t.Fatalf("publish at the limit: %v", err)
	}
	checkRoundTrip(t, nc)
}

// TestPedanticClient: a pedantic nats.go client publishing to a wildcard
// subject gets -ERR 'Invalid Publish Subject' (which nats.go treats as
// fatal), while the message still reaches subscribers.
func TestPedanticClient(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	watcher := testutil.Connect(t, s)
	ws, _ := watcher.SubscribeSync("ped.>")
	watcher.Flush()

	closed := make(chan struct{})
	ped := testutil.Connect(t, s, pedantic, nats.NoReconnect(),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	ped.Publish("ped.*", []byte("x"))
	ped.Flush()

	m, err := ws.NextMsg(msgWait)
	if err != nil || m.Subject != "ped.*" {
		t.Fatalf("message on an invalid publish subject not routed: %v", err)
	}
	select {
	case <-closed:
	case <-time.After(waitLong):
		t.Fatalf("nats.go did not act on -ERR 'Invalid Publish Subject' (status %v)", ped.Status())
	}
	if err := ped.LastError(); err == nil || !strings.Contains(strings.ToLower(err.Error()), "invalid publish subject") {
		t.Fatalf("LastError = %v, want invalid publish subject", err)
	}
	checkHealthy(t, s, watcher)
}

// pedantic turns on CONNECT's pedantic flag (nats.go has no named option).
func pedantic(o *nats.Options) error {
	o.Pedantic = true
	return nil
}
