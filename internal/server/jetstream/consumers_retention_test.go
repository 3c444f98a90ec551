package jetstream_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/testutil"
)

func streamMsgs(t *testing.T, st jetstream.Stream) uint64 {
	info, err := st.Info(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func fetchAck(t *testing.T, c jetstream.Consumer, n int) {
	t.Helper()
	b, err := c.Fetch(n, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for m := range b.Messages() {
		if err := m.DoubleAck(ctx(t)); err != nil {
			t.Fatal(err)
		}
		got++
	}
	if got != n {
		t.Fatalf("fetched %d of %d (%v)", got, n, b.Error())
	}
}

func TestConsumerWorkQueue(t *testing.T) {
	s := runJS(t)
	nc, j := connectJS(t, s)
	st := mkStream(t, j, jetstream.StreamConfig{Name: "W", Subjects: []string{"w.>"}, Retention: jetstream.WorkQueuePolicy})
	c, err := st.CreateConsumer(ctx(t), jetstream.ConsumerConfig{Durable: "A", FilterSubject: "w.a", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ body, want string }{
		{`{"stream_name":"W","config":{"durable_name":"B","ack_policy":"explicit"}}`, "10099"},
		{`{"stream_name":"W","config":{"durable_name":"B","ack_policy":"explicit","filter_subject":"w.*"}}`, "10100"},
		{`{"stream_name":"W","config":{"durable_name":"B","ack_policy":"none","filter_subject":"w.b"}}`, "10084"},
		{`{"stream_name":"W","config":{"durable_name":"B","ack_policy":"explicit","filter_subject":"w.b","deliver_policy":"new"}}`, "10101"},
	} {
		if got := request(t, nc, "$JS.API.CONSUMER.DURABLE.CREATE.W.B", tc.body); !strings.Contains(got, tc.want) {
			t.Errorf("%s: %s", tc.body, got)
		}
	}
	pub(t, j, "w.a", 5)
	pub(t, j, "w.b", 2)
	fetchAck(t, c, 5)
	testutil.CheckFor(t, 2*time.Second, 10*time.Millisecond, func() error {
		if n := streamMsgs(t, st); n != 2 {
			return fmt.Errorf("msgs %d", n)
		}
		return nil
	})
}

func TestConsumerInterestRetention(t *testing.T) {
	s := runJS(t)
	_, j := connectJS(t, s)
	st := mkStream(t, j, jetstream.StreamConfig{Name: "I", Subjects: []string{"i.>"}, Retention: jetstream.InterestPolicy})
	pub(t, j, "i.a", 3) // nobody interested: not kept
	if n := streamMsgs(t, st); n != 0 {
		t.Fatalf("kept %d without consumers", n)
	}
	c1, _ := st.CreateConsumer(ctx(t), jetstream.ConsumerConfig{Durable: "C1", AckPolicy: jetstream.AckExplicitPolicy})
	c2, _ := st.CreateConsumer(ctx(t), jetstream.ConsumerConfig{Durable: "C2", AckPolicy: jetstream.AckExplicitPolicy, FilterSubject: "i.a"})
	pub(t, j, "i.a", 4)
	pub(t, j, "i.b", 1)
	fetchAck(t, c1, 5)
	if n := streamMsgs(t, st); n != 4 {
		t.Fatalf("after C1 acked all: %d", n)
	}
	fetchAck(t, c2, 4)
	testutil.CheckFor(t, 2*time.Second, 10*time.Millisecond, func() error {
		if n := streamMsgs(t, st); n != 0 {
			return fmt.Errorf("msgs %d", n)
		}
		return nil
	})
	// Deleting the only interested consumer drops what it held.
	pub(t, j, "i.a", 2)
	if err := st.DeleteConsumer(ctx(t), "C2"); err != nil {
		t.Fatal(err)
	}
	fetchAck(t, c1, 2)
	if n := streamMsgs(t, st); n != 0 {
		t.Fatalf("msgs %d", n)
	}
}
