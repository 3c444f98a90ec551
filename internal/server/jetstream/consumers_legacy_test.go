package jetstream_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/testutil"
)

func TestConsumerLegacyPullAndChan(t *testing.T) {
	s := runJS(t)
	nc, j := connectJS(t, s)
	mkStream(t, j, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	pub(t, j, "s.a", 10)
	js, _ := nc.JetStream()
	ps, err := js.PullSubscribe("s.a", "PD")
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := ps.Fetch(10, nats.MaxWait(2*time.Second))
	if err != nil || len(msgs) != 10 {
		t.Fatalf("pull fetch %d %v", len(msgs), err)
	}
	for _, m := range msgs {
		if err := m.AckSync(); err != nil {
			t.Fatal(err)
		}
	}
	ch := make(chan *nats.Msg, 64)
	cs, err := js.ChanSubscribe("s.a", ch, nats.DeliverNew(), nats.AckExplicit())
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Unsubscribe()
	pub(t, j, "s.a", 5)
	for i := 0; i < 5; i++ {
		select {
		case m := <-ch:
			m.Ack()
		case <-time.After(2 * time.Second):
			t.Fatalf("chan got %d", i)
		}
	}
}

// The jetstream package's ordered consumer recreates its consumer when it
// is deleted under it and goes on after the last message it saw.
func TestConsumerOrderedRecreate(t *testing.T) {
	s := runJS(t)
	_, j := connectJS(t, s)
	st := mkStream(t, j, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	pub(t, j, "s.a", 10)
	oc, err := st.OrderedConsumer(ctx(t), jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var last atomic.Uint64
	var n atomic.Int64
	cc, err := oc.Consume(func(m jetstream.Msg) {
		md, _ := m.Metadata()
		if md.Sequence.Stream != last.Load()+1 {
			t.Errorf("got %d after %d", md.Sequence.Stream, last.Load())
		}
		last.Store(md.Sequence.Stream)
		n.Add(1)
	}, jetstream.PullHeartbeat(500*time.Millisecond), jetstream.PullExpiry(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Stop()
	testutil.CheckFor(t, 3*time.Second, 10*time.Millisecond, func() error {
		if n.Load() != 10 {
			return fmt.Errorf("got %d", n.Load())
		}
		return nil
	})
	name := oc.CachedInfo().Name
	if err := st.DeleteConsumer(ctx(t), name); err != nil {
		t.Fatal(err)
	}
	pub(t, j, "s.a", 5)
	testutil.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if n.Load() != 15 {
			return fmt.Errorf("got %d", n.Load())
		}
		return nil
	})
}
