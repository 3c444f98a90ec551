package jetstream_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
)

// TestConsumerReplayOriginal: replay_policy original sends what was stored
// with the gaps it was stored with (only lower bounds are checked: a
// loaded machine makes gaps longer, never shorter).
func TestConsumerReplayOriginal(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		nc, j := refConn(t, url)
		if _, err := j.CreateStream(ctx(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.MemoryStorage}); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			if i > 0 {
				time.Sleep(300 * time.Millisecond) // the gap being replayed
			}
			j.Publish(ctx(t), "s.a", []byte{'a' + byte(i)})
		}
		sub, err := nc.SubscribeSync("d.replay")
		if err != nil {
			t.Fatal(err)
		}
		addConsumer(t, nc, `{"durable_name":"R","ack_policy":"none","deliver_subject":"d.replay","replay_policy":"original"}`)
		var at []time.Time
		for i := 0; i < 3; i++ {
			if _, err := sub.NextMsg(5 * time.Second); err != nil {
				t.Fatal(err)
			}
			at = append(at, time.Now())
		}
		for i := 1; i < 3; i++ {
			if d := at[i].Sub(at[i-1]); d < 250*time.Millisecond {
				t.Fatalf("gap %d replayed in %v", i, d)
			}
		}
		// Caught up: new messages come at once.
		start := time.Now()
		j.Publish(ctx(t), "s.a", []byte("d"))
		if _, err := sub.NextMsg(5 * time.Second); err != nil {
			t.Fatal(err)
		}
		t.Logf("new message after replay in %v", time.Since(start))
	})
}

// TestConsumerRateLimit: rate_limit_bps holds a push consumer to its rate
// once past a burst of one maximum message size.
func TestConsumerRateLimit(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		nc, j := refConn(t, url)
		if _, err := j.CreateStream(ctx(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.MemoryStorage}); err != nil {
			t.Fatal(err)
		}
		data := make([]byte, 64<<10)
		for i := 0; i < 32; i++ { // 2 MiB
			if _, err := j.Publish(ctx(t), "s.a", data); err != nil {
				t.Fatal(err)
			}
		}
		sub, err := nc.SubscribeSync("d.rate")
		if err != nil {
			t.Fatal(err)
		}
		sub.SetPendingLimits(-1, -1)
		start := time.Now()
		addConsumer(t, nc, `{"durable_name":"R","ack_policy":"none","deliver_subject":"d.rate","rate_limit_bps":8388608}`)
		for i := 0; i < 32; i++ {
			if _, err := sub.NextMsg(10 * time.Second); err != nil {
				t.Fatal(err)
			}
		}
		// 1 MiB burst, then 1 MiB at 1 MiB/s.
		if d := time.Since(start); d < 800*time.Millisecond {
			t.Fatalf("2 MiB at 1 MiB/s after a 1 MiB burst took %v", d)
		}
	})
}
