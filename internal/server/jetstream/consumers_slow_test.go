package jetstream_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

// stalledSub subscribes to subj on a raw connection that then never reads.
func stalledSub(t *testing.T, s *server.Server, subj string) *testutil.RawConn {
	rc, _ := testutil.NewRawConn(t, s)
	rc.Connect(`{"verbose":false,"headers":true,"no_responders":true}`, false)
	rc.Send("SUB " + subj + " 1\r\n")
	rc.Sync()
	return rc
}

// TestConsumerPushSlowSubscriber: push consumers without flow control
// whose subscriber stops reading do not grow server memory: with ack none
// the subscriber's pending output stops at max_pending, where the server
// cuts it as a slow consumer and delivery stops for want of interest;
// with acks, max_ack_pending bounds what is handed out, and a reader
// that comes later gets everything.
func TestConsumerPushSlowSubscriber(t *testing.T) {
	s := runJS(t, func(o *server.Options) { o.MaxPending, o.MaxPayload = 256<<10, 64<<10 })
	_, j := connectJS(t, s)
	st := mkStream(t, j, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	data := make([]byte, 32<<10)
	for i := 0; i < 128; i++ { // 4 MiB, 16 times max_pending
		if _, err := j.Publish(ctx(t), "s.a", data); err != nil {
			t.Fatal(err)
		}
	}

	stalledSub(t, s, "d.none")
	c, err := st.CreateConsumer(ctx(t), jetstream.ConsumerConfig{Durable: "N", DeliverSubject: "d.none", AckPolicy: jetstream.AckNonePolicy})
	if err != nil {
		t.Fatal(err)
	}
	testutil.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if v, _ := s.Varz(); v.SlowConsumers == 0 {
			return fmt.Errorf("no slow consumer yet")
		}
		if ci, _ := c.Info(ctx(t)); ci.PushBound {
			return fmt.Errorf("still bound")
		}
		return nil
	})

	rc := stalledSub(t, s, "d.acks")
	c, err = st.CreateConsumer(ctx(t), jetstream.ConsumerConfig{Durable: "A", DeliverSubject: "d.acks",
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: time.Second, MaxAckPending: 4})
	if err != nil {
		t.Fatal(err)
	}
	testutil.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		ci, _ := c.Info(ctx(t))
		if ci.NumAckPending != 4 || ci.Delivered.Stream != 4 {
			return fmt.Errorf("pending %d delivered %d", ci.NumAckPending, ci.Delivered.Stream)
		}
		return nil
	})
	rc.Close()
	nc := testutil.Connect(t, s)
	sub, err := nc.SubscribeSync("d.acks")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	for len(seen) < 128 {
		m, err := sub.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatalf("after %d of 128: %v", len(seen), err)
		}
		md, err := m.Metadata()
		if err != nil {
			continue // heartbeat or status
		}
		seen[md.Sequence.Stream] = true
		m.Ack()
	}
}
