package consumer

import (
	"fmt"
	"strings"
	"sync/atomic"
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

// TestFlowControlWindow: the first request goes once half the 2 MiB
// window is out, delivery stops past the window, and an answer doubles it.
func TestFlowControlWindow(t *testing.T) {
	st := newStore(t, 0)
	data := make([]byte, 300_000)
	for i := 0; i < 20; i++ {
		st.Store("a", nil, data, 0)
	}
	cons, r := start(t, st, api.ConsumerConfig{AckPolicy: api.AckNone, DeliverSubject: "d", Heartbeat: 10 * time.Minute, FlowControl: true})
	kinds := func(ms []Msg) (string, string) {
		var s, fc string
		for _, m := range ms {
			if m.Reply != "" && status(m) == "100 FlowControl Request" {
				s += "F"
				fc = m.Reply
			} else if len(m.Data) == len(data) {
				s += "m"
			}
		}
		return s, fc
	}
	// 4 x 300,000 bytes pass 1 MiB; 7 pass 2 MiB.
	got, fc := kinds(r.wait(t, 8))
	if got != "mmmmFmmm" {
		t.Fatalf("first window: %s", got)
	}
	time.Sleep(50 * time.Millisecond)
	if more := r.take(); len(more) != 0 {
		t.Fatalf("%d more past the window", len(more))
	}
	// Answered: the window is 4 MiB and 3 messages are outstanding, so
	// the next request goes after 4 more (past 2 MiB).
	cons.ProcessFlowControl(fc, nil)
	if got, _ = kinds(r.wait(t, 5)); !strings.HasPrefix(got, "mmmmF") {
		t.Fatalf("after the answer: %s", got)
	}
}

// TestInterestExpired: a request that came through an import and whose
// requester is gone hears 408 Interest Expired when a message comes (its
// max_bytes already charged); a local one is dropped silently.
func TestInterestExpired(t *testing.T) {
	st := newStore(t, 0)
	var gone atomic.Bool
	c, r := start(t, st, api.ConsumerConfig{AckPolicy: api.AckExplicit}, func(e *Env) {
		e.ReplyInterest = func(reply string) func() bool { return func() bool { return !gone.Load() } }
	})
	c.ProcessPull("_R_.x.y", []byte(`{"batch":3,"max_bytes":1000}`))
	c.ProcessPull("in", []byte(`{"batch":2}`))
	waitWaiting(t, c, 2)
	// Flipped under the consumer's lock, with the message stored: a round
	// still due from the pulls runs wholly before (and keeps both
	// requests) or after (and finds the message), never in between,
	// where it drops them silently, as nats-server's does.
	c.mu.Lock()
	gone.Store(true)
	r.interest.Store(false)
	st.Store("a", nil, []byte("1"), 0)
	c.mu.Unlock()
	c.Kick()
	ms := r.wait(t, 1)
	m, _ := st.Load(1)
	size := len(m.Subject) + len(fmt.Sprintf("$JS.ACK.S.C.1.1.1.%d.0", m.Time)) + len(m.Data)
	want := fmt.Sprintf("NATS/1.0 408 Interest Expired\r\nNats-Pending-Messages: 3\r\nNats-Pending-Bytes: %d\r\n\r\n", 1000-size)
	if len(ms) != 1 || ms[0].To != "_R_.x.y" || string(ms[0].Hdr) != want {
		t.Fatalf("got %+v, want %q", ms, want)
	}
	waitWaiting(t, c, 0)
	if ms := r.take(); len(ms) != 0 {
		t.Fatalf("the local request heard %+v", ms)
	}
}

func waitWaiting(t *testing.T, c *Consumer, n int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for c.Info().NumWaiting != n {
		if time.Now().After(deadline) {
			t.Fatalf("waiting %d, want %d", c.Info().NumWaiting, n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
