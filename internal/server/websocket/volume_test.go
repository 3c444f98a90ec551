package websocket_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/testutil"
)

// TestVolume: a fast publisher and a WebSocket subscriber, so that output
// piles up and goes out in big writes: nats.go must accept every frame
// (it refuses 64-bit lengths over 8x max_payload) and get every message.
func TestVolume(t *testing.T) {
	s := runWS(t)
	var lost atomic.Bool
	opts := []nats.Option{nats.NoReconnect(), nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
		if err != nil {
			lost.Store(true)
			t.Errorf("subscriber disconnected: %v", err)
		}
	})}
	sc := wsConnect(t, s.WebsocketURL(), opts...)
	pc := wsConnect(t, s.WebsocketURL())
	const n = 200000
	var got atomic.Int64
	sub, _ := sc.Subscribe("vol", func(*nats.Msg) { got.Add(1) })
	sub.SetPendingLimits(-1, -1)
	sc.Flush()
	p := make([]byte, 128)
	for range n {
		pc.Publish("vol", p)
	}
	pc.Flush()
	testutil.CheckFor(t, 30*time.Second, 10*time.Millisecond, func() error {
		if lost.Load() {
			t.FailNow()
		}
		if k := got.Load(); k < n {
			return fmt.Errorf("got %d of %d", k, n)
		}
		return nil
	})
}
