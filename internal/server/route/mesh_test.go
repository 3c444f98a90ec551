package route_test

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

func next(t *testing.T, s *nats.Subscription) *nats.Msg {
	t.Helper()
	m, err := s.NextMsg(2 * time.Second)
	if err != nil {
		t.Fatalf("%s: %v", s.Subject, err)
	}
	return m
}

func noMore(t *testing.T, s *nats.Subscription) {
	t.Helper()
	if m, err := s.NextMsg(50 * time.Millisecond); err == nil {
		t.Fatalf("%s: unexpected message on %s", s.Subject, m.Subject)
	}
}

// A message crosses a route only where there is interest, and once per
// route however many subscriptions behind it match.
func TestInterestOncePerRoute(t *testing.T) {
	ss := mesh(t, 3, nil)
	a, b := connect(t, ss[0]), connect(t, ss[1])
	s1, _ := b.SubscribeSync("foo.*")
	s2, _ := b.SubscribeSync("foo.bar")
	s3, _ := b.SubscribeSync(">")
	b.Flush()
	waitInterest(t, ss[0], "foo.bar", 3)
	beforeB, beforeC := ss[0].Routes().OutMsgsTo(ss[1].ID()), ss[0].Routes().OutMsgsTo(ss[2].ID())
	a.Publish("foo.bar", []byte("x"))
	a.Flush()
	for _, s := range []*nats.Subscription{s1, s2, s3} {
		next(t, s)
		noMore(t, s)
	}
	if n := ss[0].Routes().OutMsgsTo(ss[1].ID()) - beforeB; n != 1 {
		t.Fatalf("%d messages sent to B, want 1", n)
	}
	if n := ss[0].Routes().OutMsgsTo(ss[2].ID()) - beforeC; n != 0 {
		t.Fatalf("%d messages sent to C (no interest), want 0", n)
	}
	// Interest goes with the last subscription.
	s1.Unsubscribe()
	s2.Unsubscribe()
	s3.Unsubscribe()
	b.Flush()
	waitInterest(t, ss[0], "foo.bar", 0)
}

func TestQueuePrefersLocalThenSpreads(t *testing.T) {
	ss := mesh(t, 3, nil)
	a, b, c := connect(t, ss[0]), connect(t, ss[1]), connect(t, ss[2])
	var na, nb, nc atomic.Int32
	a.QueueSubscribe("work", "q", func(*nats.Msg) { na.Add(1) })
	b.QueueSubscribe("work", "q", func(*nats.Msg) { nb.Add(1) })
	c.QueueSubscribe("work", "q", func(*nats.Msg) { nc.Add(1) })
	for _, x := range []*nats.Conn{a, b, c} {
		x.Flush()
	}
	waitInterest(t, ss[0], "work", 3)
	pub := connect(t, ss[0])
	for i := 0; i < 100; i++ {
		pub.Publish("work", nil)
	}
	pub.Flush()
	testutil.CheckFor(t, 2*time.Second, 5*time.Millisecond, func() error {
		if na.Load() != 100 || nb.Load() != 0 || nc.Load() != 0 {
			return fmt.Errorf("a=%d b=%d c=%d, want all 100 on the local member", na.Load(), nb.Load(), nc.Load())
		}
		return nil
	})
	// Without a local member, the remote ones share the work: each message
	// reaches exactly one of them.
	a.Close()
	waitInterest(t, ss[0], "work", 2)
	for i := 0; i < 200; i++ {
		pub.Publish("work", nil)
	}
	pub.Flush()
	testutil.CheckFor(t, 2*time.Second, 5*time.Millisecond, func() error {
		if nb.Load()+nc.Load() != 200 {
			return fmt.Errorf("b=%d c=%d, want 200 in all", nb.Load(), nc.Load())
		}
		return nil
	})
	if nb.Load() == 0 || nc.Load() == 0 {
		t.Fatalf("b=%d c=%d: one member got nothing", nb.Load(), nc.Load())
	}
}

func TestRequestReplyAcrossServers(t *testing.T) {
	ss := mesh(t, 3, nil)
	a, c := connect(t, ss[0]), connect(t, ss[2])
	c.Subscribe("svc", func(m *nats.Msg) { m.Respond(append([]byte("re:"), m.Data...)) })
	c.QueueSubscribe("qsvc", "workers", func(m *nats.Msg) { m.Respond([]byte("q")) })
	c.Flush()
	waitInterest(t, ss[0], "svc", 1)
	waitInterest(t, ss[0], "qsvc", 1)
	m, err := a.Request("svc", []byte("hi"), 2*time.Second)
	if err != nil || string(m.Data) != "re:hi" {
		t.Fatalf("request: %v %v", m, err)
	}
	if m, err = a.Request("qsvc", nil, 2*time.Second); err != nil || string(m.Data) != "q" {
		t.Fatalf("queue request: %v %v", m, err)
	}
	// Nobody anywhere: no responders, not a timeout.
	if _, err := a.Request("nobody", nil, 2*time.Second); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("got %v, want no responders", err)
	}
	// Old-style request with a wildcard inbox subscription on another node.
	b := connect(t, ss[1])
	inbox, _ := b.SubscribeSync("replies.>")
	b.Flush()
	waitInterest(t, ss[2], "replies.x", 1)
	b.PublishRequest("svc", "replies.x", []byte("old"))
	if m := next(t, inbox); string(m.Data) != "re:old" {
		t.Fatalf("got %q", m.Data)
	}
}

func TestFiveNodeMesh(t *testing.T) {
	ss := mesh(t, 5, nil)
	subs := make([]*nats.Subscription, len(ss))
	for i, s := range ss {
		subs[i], _ = connect(t, s).SubscribeSync("all")
	}
	for _, s := range ss {
		waitInterest(t, s, "all", 5)
	}
	for i, s := range ss {
		nc := connect(t, s)
		nc.Publish("all", []byte(fmt.Sprint(i)))
		nc.Flush()
	}
	for _, sub := range subs {
		seen := map[string]bool{}
		for range ss {
			seen[string(next(t, sub).Data)] = true
		}
		noMore(t, sub)
		if len(seen) != 5 {
			t.Fatalf("got %v", seen)
		}
	}
}

// Clients learn the cluster's members as they come, without reconnecting.
func TestConnectURLsPushed(t *testing.T) {
	ss := mesh(t, 2, nil)
	nc := connect(t, ss[0])
	want := func(n int) {
		t.Helper()
		testutil.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
			if got := nc.DiscoveredServers(); len(got) != n {
				return fmt.Errorf("discovered %v, want %d", got, n)
			}
			return nil
		})
	}
	want(1)
	s3 := node(t, "s3", nil, ss[0])
	waitMesh(t, ss[0], ss[1], s3)
	want(2)
	if !slices.Contains(nc.DiscoveredServers(), s3.ClientURL()) {
		t.Fatalf("discovered %v, lacks %s", nc.DiscoveredServers(), s3.ClientURL())
	}
}

// A member killed and restarted on the same route port rejoins: the
// others redial it, interest is exchanged again and messages flow.
func TestNodeRestart(t *testing.T) {
	ss := mesh(t, 3, nil)
	port := ss[0].Routes().Port()
	ss[0].Shutdown()
	testutil.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if n := len(ss[1].Routes().Remotes()); n != 1 {
			return fmt.Errorf("s2 has %d peers", n)
		}
		return nil
	})
	s1 := testutil.RunServer(t, func(o *server.Options) {
		o.ServerName = "s1"
		o.Cluster = clusterAt(port)
	})
	waitMesh(t, s1, ss[1], ss[2])
	sub, _ := connect(t, s1).SubscribeSync("back")
	waitInterest(t, ss[2], "back", 1)
	pc := connect(t, ss[2])
	pc.Publish("back", []byte("again"))
	if m := next(t, sub); string(m.Data) != "again" {
		t.Fatalf("got %q", m.Data)
	}
}

// A server in lame duck mode is taken out of the connect_urls the others
// push, so clients move elsewhere.
func TestLameDuckLeavesConnectURLs(t *testing.T) {
	ss := mesh(t, 3, nil)
	nc := connect(t, ss[1])
	testutil.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if got := nc.DiscoveredServers(); len(got) != 2 {
			return fmt.Errorf("discovered %v", got)
		}
		return nil
	})
	go ss[0].LameDuckMode()
	testutil.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		got := nc.DiscoveredServers()
		if slices.Contains(got, ss[0].ClientURL()) || !slices.Contains(got, ss[2].ClientURL()) {
			return fmt.Errorf("discovered %v; want %s gone and %s kept", got, ss[0].ClientURL(), ss[2].ClientURL())
		}
		return nil
	})
	ss[0].Shutdown()
}
