package server_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
)

// The JetStream step of a message trace, against nats-server v2.15.2 and
// sluice: a traced publish into a stream reports the stream and subject
// (and why it was not stored); a trace-only one runs the stream's checks
// but is neither stored nor acknowledged; the stored copy carries tracing
// disabled so a consumer's delivery is not traced again.
func TestMessageTraceJetStream(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		nc, err := nats.Connect(url, nats.UserInfo(srvtest.AppUser, srvtest.AppPass))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		ctx := t.Context()
		st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"},
			SubjectTransform: &jetstream.SubjectTransformConfig{Source: "orders.>", Destination: "o.>"}})
		if err != nil {
			t.Fatal(err)
		}
		traces, _ := nc.SubscribeSync("traces")
		acks, _ := nc.SubscribeSync("acks")
		nc.Flush()
		publish := func(only bool, hdr ...string) []string {
			t.Helper()
			m := nats.NewMsg("orders.new")
			m.Reply = "acks"
			m.Data = []byte("x")
			m.Header.Set("Nats-Trace-Dest", "traces")
			if only {
				m.Header.Set("Nats-Trace-Only", "true")
			}
			for i := 0; i+1 < len(hdr); i += 2 {
				m.Header.Set(hdr[i], hdr[i+1])
			}
			if err := nc.PublishMsg(m); err != nil {
				t.Fatal(err)
			}
			tm, err := traces.NextMsg(5 * time.Second)
			if err != nil {
				t.Fatalf("no trace event: %v", err)
			}
			var ev traceEvent
			json.Unmarshal(tm.Data, &ev)
			var out []string
			for _, e := range ev.Events {
				s := fmt.Sprint(e["type"])
				for _, k := range []string{"stream", "subject", "nointerest", "error"} {
					if v, ok := e[k]; ok {
						s += fmt.Sprintf(" %s=%v", k, v)
					}
				}
				out = append(out, s)
			}
			return out
		}
		expectAck := func(want string) {
			t.Helper()
			m, err := acks.NextMsg(2 * time.Second)
			if want == "" {
				if err == nil {
					t.Fatalf("trace-only message acknowledged: %s", m.Data)
				}
				return
			}
			if err != nil || !strings.Contains(string(m.Data), want) {
				t.Fatalf("ack %q (%v), want %q", m.Data, err, want)
			}
		}
		check := func(got []string, want ...string) {
			t.Helper()
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Fatalf("events\n got %q\nwant %q", got, want)
			}
		}

		check(publish(false), "in", "js stream=ORDERS subject=o.new")
		expectAck(`"seq":1`)
		check(publish(true), "in", "js stream=ORDERS subject=o.new")
		expectAck("")
		check(publish(true, "Nats-Expected-Last-Sequence", "7"), "in", "js stream=ORDERS error=last sequence mismatch: 7 vs 1")
		expectAck("wrong last sequence: 1") // refused: the error is acked
		check(publish(false, "Nats-Expected-Stream", "OTHER"), "in", "js stream=ORDERS error=expected stream does not match")
		expectAck("expected stream does not match")
		check(publish(false, "Nats-Expected-Last-Msg-Id", "zz"), "in", `js stream=ORDERS error=last msgid mismatch: "zz" vs ""`)
		expectAck("wrong last msg ID")
		check(publish(false, "Nats-Msg-Id", "a"), "in", "js stream=ORDERS subject=o.new")
		expectAck(`"seq":2`)
		check(publish(false, "Nats-Msg-Id", "a"), "in", "js stream=ORDERS error=msgid is duplicate")
		expectAck(`"duplicate"`)
		info, _ := st.Info(ctx)
		if info.State.Msgs != 2 {
			t.Fatalf("stream holds %d messages, want 2 (trace-only ones are not stored)", info.State.Msgs)
		}
		// Stored with tracing disabled: a consumer's delivery is not traced.
		raw, err := st.GetMsg(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := raw.Header.Get("Nats-Trace-Dest"); got != "trace disabled" {
			t.Fatalf("stored Nats-Trace-Dest %q", got)
		}
		if _, err := traces.NextMsg(300 * time.Millisecond); err == nil {
			t.Fatal("unexpected further trace event")
		}
	})
}
