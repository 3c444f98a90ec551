package consumer

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/api"
)

func TestPushHeartbeatRate(t *testing.T) {
	st := newStore(t, 3)
	_, r := start(t, st, api.ConsumerConfig{AckPolicy: api.AckNone, DeliverSubject: "d", Heartbeat: 100 * time.Millisecond, FlowControl: true})
	r.wait(t, 3)
	time.Sleep(550 * time.Millisecond)
	if n := len(r.take()); n < 3 || n > 6 {
		t.Fatalf("%d heartbeats in 550ms at 100ms", n)
	}
}
