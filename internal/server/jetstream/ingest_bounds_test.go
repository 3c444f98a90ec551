package jetstream_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/server"
)

// TestIngestQueueFullSlowsPublisher: with max_buffered_msgs of 1, a burst
// of async publishes overruns the stream's ingest queue at once (one read
// of the socket holds hundreds of them). The publisher is slowed instead
// of refused: its read loop waits for room, every publish is acked, the
// stream holds them all in order, and the connection still answers.
// (A publish still refused after the wait gets a 429 with error code
// 10167: TestIngestFullQueueWaitOrRefuse.)
func TestIngestQueueFullSlowsPublisher(t *testing.T) {
	s := runJS(t, func(o *server.Options) { o.JetStream.MaxBufferedMsgs = 1 })
	nc, j := connectJS(t, s)
	if _, err := j.CreateStream(ctx(t), jetstream.StreamConfig{Name: "Q", Subjects: []string{"q"}}); err != nil {
		t.Fatal(err)
	}
	const n = 5000
	futures := make([]jetstream.PubAckFuture, 0, n)
	for i := 0; i < n; i++ {
		f, err := j.PublishMsgAsync(&nats.Msg{Subject: "q", Data: []byte(strconv.Itoa(i))})
		if err != nil {
			t.Fatal(err)
		}
		futures = append(futures, f)
	}
	select {
	case <-j.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		t.Fatalf("%d publishes unanswered", j.PublishAsyncPending())
	}
	for i, f := range futures {
		select {
		case ack := <-f.Ok():
			if ack.Sequence != uint64(i+1) {
				t.Fatalf("publish %d stored as %d", i, ack.Sequence)
			}
		case err := <-f.Err():
			t.Fatalf("publish %d refused: %v", i, err)
		}
	}
	st, err := j.Stream(ctx(t), "Q")
	if err != nil {
		t.Fatal(err)
	}
	if got := st.CachedInfo().State.Msgs; got != n {
		t.Fatalf("stream holds %d messages, want %d", got, n)
	}
	m, err := st.GetMsg(ctx(t), n)
	if err != nil || string(m.Data) != strconv.Itoa(n-1) {
		t.Fatalf("last message: %v %v", m, err)
	}
	if err := nc.Flush(); err != nil { // the connection still answers
		t.Fatal(err)
	}
}
