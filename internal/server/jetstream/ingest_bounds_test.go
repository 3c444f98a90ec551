package jetstream_test

import (
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/server"
)

// TestIngestQueueFullAnswers429: with max_buffered_msgs of 1, a burst of
// async publishes overruns the stream's ingest queue. The publishes it
// refuses are answered on the publisher's own read loop (the stream's
// subscription is inline) with a 429 too-many-requests ack, without
// deadlocking that connection, and every publish gets an answer: the
// stream holds exactly the acknowledged ones.
func TestIngestQueueFullAnswers429(t *testing.T) {
	s := runJS(t, func(o *server.Options) { o.JetStream.MaxBufferedMsgs = 1 })
	nc, j := connectJS(t, s)
	if _, err := j.CreateStream(ctx(t), jetstream.StreamConfig{Name: "Q", Subjects: []string{"q"}}); err != nil {
		t.Fatal(err)
	}
	const n = 5000
	futures := make([]jetstream.PubAckFuture, 0, n)
	for i := 0; i < n; i++ {
		f, err := j.PublishMsgAsync(&nats.Msg{Subject: "q", Data: []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		futures = append(futures, f)
	}
	select {
	case <-j.PublishAsyncComplete():
	case <-time.After(10 * time.Second):
		t.Fatalf("%d publishes unanswered", j.PublishAsyncPending())
	}
	acked, refused := 0, 0
	for _, f := range futures {
		select {
		case <-f.Ok():
			acked++
		case err := <-f.Err():
			var apiErr *jetstream.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode != 10167 {
				t.Fatalf("refusal %v, want a 429 with error code 10167", err)
			}
			refused++
		}
	}
	if refused == 0 {
		// One read of the socket holds hundreds of publishes; a queue
		// of one cannot take them all.
		t.Fatalf("all %d publishes acked with a queue of one", acked)
	}
	info, err := j.Stream(ctx(t), "Q")
	if err != nil {
		t.Fatal(err)
	}
	if got := info.CachedInfo().State.Msgs; got != uint64(acked) {
		t.Fatalf("stream holds %d messages, %d acked, %d refused", got, acked, refused)
	}
	if err := nc.Flush(); err != nil { // the connection still answers
		t.Fatal(err)
	}
}
