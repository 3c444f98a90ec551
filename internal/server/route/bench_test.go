package route_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
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
}
