package websocket_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// Message tracing works for WebSocket clients as for TCP ones, against
// sluice and nats-server v2.15.2: a traced publish over ws:// reports its
// ingress and the delivery to a WebSocket subscriber; trace-only delivers
// nothing.
func TestMessageTraceOverWebSocket(t *testing.T) {
	both(t, "", func(t *testing.T, tg target) {
		url := "ws://" + tg.wsAddr
		pub := wsConnect(t, url, nats.Name("wspub"))
		sub := wsConnect(t, url, nats.Name("wssub"))
		tracer := wsConnect(t, tg.natsURL)
		traces, _ := tracer.SubscribeSync("traces")
		tracer.Flush()
		got, _ := sub.SubscribeSync("orders.>")
		sub.Flush()
		for _, only := range []bool{false, true} {
			m := nats.NewMsg("orders.new")
			m.Data = []byte("x")
			m.Header.Set("Nats-Trace-Dest", "traces")
			if only {
				m.Header.Set("Nats-Trace-Only", "true")
			}
			pub.PublishMsg(m)
			tm, err := traces.NextMsg(5 * time.Second)
			if err != nil {
				t.Fatalf("no trace event: %v", err)
			}
			var ev struct {
				Events []map[string]any `json:"events"`
			}
			json.Unmarshal(tm.Data, &ev)
			var steps []string
			for _, e := range ev.Events {
				steps = append(steps, fmt.Sprintf("%v %v %v", e["type"], e["kind"], e["name"]))
			}
			if want := "[in 0 wspub eg 0 wssub]"; fmt.Sprint(steps) != want {
				t.Fatalf("only=%v: steps %v, want %s", only, steps, want)
			}
			_, err = got.NextMsg(500 * time.Millisecond)
			if only != (err != nil) {
				t.Fatalf("only=%v: delivery %v", only, err)
			}
		}
	})
}
