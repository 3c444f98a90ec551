package route_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/server/route"
)

// BenchmarkRouteAToB: a publisher on node A, a subscriber on node B of a
// 3-node cluster, 128-byte messages crossing one route.
func BenchmarkRouteAToB(b *testing.B) {
	ss := mesh(b, 3, nil)
	pub, sub := connect(b, ss[0]), connect(b, ss[1])
	done := make(chan struct{})
	n := 0
	sub.Subscribe("bench", func(*nats.Msg) {
		n++
		if n == b.N {
			close(done)
		}
	})
	sub.Flush()
	waitInterest(b, ss[0], "bench", 1)
	payload := make([]byte, 128)
	wire0 := wireTo(ss[0], ss[1].ID())
	b.SetBytes(128)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pub.Publish("bench", payload)
	}
	pub.Flush()
	select {
	case <-done:
	case <-time.After(time.Minute):
		v0, _ := ss[0].Varz()
		v1, _ := ss[1].Varz()
		b.Fatalf("got %d of %d (slow consumers A=%d B=%d, routes A=%d B=%d, sub closed=%v)", n, b.N,
			v0.SlowConsumers, v1.SlowConsumers, v0.Routes, v1.Routes, sub.IsClosed())
	}
	b.ReportMetric(float64(wireTo(ss[0], ss[1].ID())-wire0)/float64(b.N), "wireB/msg")
}

// BenchmarkRouteAToBCompressed is BenchmarkRouteAToB with s2_fast on the
// routes; it reports the bytes on the wire per message.
func BenchmarkRouteAToBCompressed(b *testing.B) {
	ss := mesh(b, 3, func(o *server.Options) { o.Cluster.Compression = route.CompressionS2Fast })
	pub, sub := connect(b, ss[0]), connect(b, ss[1])
	done := make(chan struct{})
	n := 0
	sub.Subscribe("bench", func(*nats.Msg) {
		n++
		if n == b.N {
			close(done)
		}
	})
	sub.Flush()
	waitInterest(b, ss[0], "bench", 1)
	// A 128-byte payload shaped like typical JSON events.
	payload := []byte(`{"id":12345,"kind":"order.created","ts":"2026-12-04T17:00:00Z","amount":42.5,"currency":"EUR","customer":"c-778","ok":true}`)
	payload = append(payload, bytes.Repeat([]byte(" "), 128-len(payload))...)
	wire0 := wireTo(ss[0], ss[1].ID())
	b.SetBytes(128)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Messages differ (id, amount) as real events do.
		copy(payload[6:11], fmt.Sprintf("%05d", i%100000))
		copy(payload[65:69], fmt.Sprintf("%04d", (i*7919)%10000))
		pub.Publish("bench", payload)
	}
	pub.Flush()
	select {
	case <-done:
	case <-time.After(time.Minute):
		b.Fatalf("got %d of %d", n, b.N)
	}
	b.ReportMetric(float64(wireTo(ss[0], ss[1].ID())-wire0)/float64(b.N), "wireB/msg")
}

func wireTo(s *server.Server, id string) int64 {
	var n int64
	for _, c := range s.Routes().Conns() {
		if c.RemoteID == id {
			n += c.WireOut
		}
	}
	return n
}

// BenchmarkInterestToJoiningNode: node A holds 100,000 subscriptions; each
// iteration starts node B and waits until B holds all of A's interest.
func BenchmarkInterestToJoiningNode(b *testing.B) {
	const n = 100000
	a := node(b, "a", nil)
	nc := connect(b, a)
	for i := 0; i < n; i++ {
		// Callback subscriptions: a sync one allocates a 64k-slot channel each.
		if _, err := nc.Subscribe(fmt.Sprintf("interest.%d", i), func(*nats.Msg) {}); err != nil {
			b.Fatal(err)
		}
	}
	nc.Flush()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := node(b, fmt.Sprintf("b%d", i), nil, a)
		for s.GlobalAccount().NumSubscriptions() < n {
			time.Sleep(time.Millisecond)
		}
		b.StopTimer()
		s.Shutdown()
		b.StartTimer()
	}
}
