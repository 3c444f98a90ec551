package server_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server/subject"
	"github.com/sluicehq/sluice/internal/testutil"
)

// TestTailMatchFollowsSubscriptions: a publisher sending to many subjects
// that differ only in their last token (as acks to an inbox do) reuses
// one match for them, and still delivers exactly what the subscriptions
// ask for as they come and go: a literal sibling, a '*' ahead of a
// literal, a queue group.
func TestTailMatchFollowsSubscriptions(t *testing.T) {
	s := testutil.RunServer(t)
	pub := testutil.Connect(t, s)
	nc := testutil.Connect(t, s)
	// Fill the account's match cache, so that fresh subjects are matched
	// as a publisher's acks are once it runs: not cached.
	for i := 0; i < 2*subject.DefaultCacheSize; i++ {
		if err := pub.Publish(fmt.Sprintf("fill.%d", i), nil); err != nil {
			t.Fatal(err)
		}
	}
	counter := func(subj, queue string) (*nats.Subscription, chan string) {
		ch := make(chan string, 1000)
		var sub *nats.Subscription
		var err error
		if queue == "" {
			sub, err = nc.Subscribe(subj, func(m *nats.Msg) { ch <- m.Subject })
		} else {
			sub, err = nc.QueueSubscribe(subj, queue, func(m *nats.Msg) { ch <- m.Subject })
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := nc.Flush(); err != nil { // the server has the subscription
			t.Fatal(err)
		}
		return sub, ch
	}
	send := func(round string) {
		t.Helper()
		for i := 0; i < 50; i++ {
			if err := pub.Publish(fmt.Sprintf("acks.%s.%s%d", round, round, i), nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := pub.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(ch chan string, n int, what string) {
		t.Helper()
		for i := 0; i < n; i++ {
			select {
			case <-ch:
			case <-time.After(5 * time.Second):
				t.Fatalf("%s: got %d of %d", what, i, n)
			}
		}
		select {
		case m := <-ch:
			t.Fatalf("%s: one more than %d: %s", what, n, m)
		case <-time.After(50 * time.Millisecond):
		}
	}

	_, all := counter("acks.a.*", "")
	send("a")
	expect(all, 50, "acks.a.*")

	lit, one := counter("acks.a.a7", "")
	send("a")
	expect(all, 50, "acks.a.* beside a literal")
	expect(one, 1, "acks.a.a7")
	lit.Unsubscribe()

	star, seven := counter("acks.*.a7", "")
	send("a")
	expect(all, 50, "acks.a.* beside acks.*.a7")
	expect(seven, 1, "acks.*.a7")
	star.Unsubscribe()

	_, q1 := counter("acks.b.*", "g")
	_, q2 := counter("acks.b.*", "g")
	send("b")
	got := 0
	for got < 50 {
		select {
		case <-q1:
		case <-q2:
		case <-time.After(5 * time.Second):
			t.Fatalf("queue group: got %d of 50", got)
		}
		got++
	}
	select {
	case m := <-q1:
		t.Fatalf("queue group: a message twice: %s", m)
	case m := <-q2:
		t.Fatalf("queue group: a message twice: %s", m)
	case <-time.After(50 * time.Millisecond):
	}
}
