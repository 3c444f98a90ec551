package consumer

import (
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/api"
)

func TestPinAssignAndTimeout(t *testing.T) {
	st := newStore(t, 4)
	c, r := start(t, st, api.ConsumerConfig{AckPolicy: api.AckExplicit, PriorityPolicy: api.PriorityPinnedClient,
		PriorityGroups: []string{"G"}, PinnedTTL: 100 * time.Millisecond})
	c.ProcessPull("one", []byte(`{"batch":1,"group":"G"}`))
	ms := r.wait(t, 1)
	pin := ""
	for _, line := range strings.Split(string(ms[0].Hdr), "\r\n") {
		if v, ok := strings.CutPrefix(line, "Nats-Pin-Id: "); ok {
			pin = v
		}
	}
	if pin == "" || c.Info().PriorityGroups[0].PinnedClientID != pin {
		t.Fatalf("pin %q info %+v", pin, c.Info().PriorityGroups)
	}
	// Another client without the id waits; one with a stale id is refused.
	c.ProcessPull("two", []byte(`{"batch":1,"group":"G","expires":2000000000}`))
	c.ProcessPull("three", []byte(`{"batch":1,"group":"G","id":"OLD"}`))
	if ms = r.wait(t, 1); status(ms[0]) != "423 Nats-Pin-Id mismatch" || ms[0].To != "three" {
		t.Fatalf("stale id %+v", ms)
	}
	// The pinned client stays silent: the pin lapses and "two" is served
	// with a new one.
	ms = r.wait(t, 1)
	if ms[0].To != "two" || !strings.Contains(string(ms[0].Hdr), "Nats-Pin-Id: ") || strings.Contains(string(ms[0].Hdr), pin) {
		t.Fatalf("after the timeout %+v", ms)
	}
	r.mu.Lock()
	evs := strings.Join(r.events, " ")
	r.mu.Unlock()
	if !strings.Contains(evs, "UNPINNED.S.C") || strings.Count(evs, ".PINNED.S.C") != 2 {
		t.Fatalf("events %s", evs)
	}
}

func TestResetToFloorAndSequence(t *testing.T) {
	st := newStore(t, 6)
	c, r := start(t, st, api.ConsumerConfig{AckPolicy: api.AckExplicit})
	c.ProcessPull("in", []byte(`{"batch":3}`))
	ms := r.wait(t, 3)
	c.ProcessAck(ms[0].Reply, "", nil)
	seq, err := c.Reset(0)
	if err != nil || seq != 2 {
		t.Fatalf("reset to floor: %d %v", seq, err)
	}
	ci := c.Info()
	if ci.Delivered.Stream != 1 || ci.Delivered.Consumer != 0 || ci.NumAckPending != 0 || ci.NumPending != 5 {
		t.Fatalf("after reset %+v", ci)
	}
	if seq, err = c.Reset(5); err != nil || seq != 5 || c.Info().NumPending != 2 {
		t.Fatalf("reset to 5: %d %v %+v", seq, err, c.Info())
	}
	last, _ := start(t, st, api.ConsumerConfig{AckPolicy: api.AckExplicit, DeliverPolicy: api.DeliverLast, Durable: "L"})
	if _, err := last.Reset(3); err == nil || err.Error() != "not allowed" {
		t.Fatalf("deliver last: %v", err)
	}
}
