package jetstream_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
)

// advisories collects the pinned/unpinned advisories of a consumer.
func advisories(t *testing.T, nc *nats.Conn, consumer string) *nats.Subscription {
	t.Helper()
	sub, err := nc.SubscribeSync("$JS.EVENT.ADVISORY.CONSUMER.*.S." + consumer)
	if err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	return sub
}

type pinAdvisory struct {
	Type     string `json:"type"`
	Account  string `json:"account"`
	Stream   string `json:"stream"`
	Consumer string `json:"consumer"`
	Group    string `json:"group"`
	PinnedID string `json:"pinned_id"`
	Reason   string `json:"reason"`
}

func nextAdvisory(t *testing.T, sub *nats.Subscription) (string, pinAdvisory) {
	t.Helper()
	m, err := sub.NextMsg(5 * time.Second)
	for err == nil && !strings.HasSuffix(m.Subject, "PINNED.S.C") {
		m, err = sub.NextMsg(5 * time.Second)
	}
	if err != nil {
		t.Fatalf("no advisory: %v", err)
	}
	var a pinAdvisory
	if err := json.Unmarshal(m.Data, &a); err != nil {
		t.Fatal(err)
	}
	return m.Subject, a
}

func fetchData(t *testing.T, c jetstream.Consumer, n int, opts ...jetstream.FetchOpt) ([]string, string) {
	t.Helper()
	b, err := c.Fetch(n, opts...)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	pin := ""
	for m := range b.Messages() {
		got = append(got, string(m.Data()))
		pin = m.Headers().Get("Nats-Pin-Id")
		m.Ack()
	}
	if err := b.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
		t.Fatalf("fetch: %v", err)
	}
	return got, pin
}

// TestConsumerPinnedClient: the first client of a pinned_client group is
// pinned; others wait until an admin unpins it or it stays silent past
// priority_timeout; advisories say so; the same on both servers.
func TestConsumerPinnedClient(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		nc, j := refConn(t, url)
		st, err := j.CreateStream(ctx(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.MemoryStorage})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 20; i++ {
			j.Publish(ctx(t), "s.a", []byte{'a' + byte(i)})
		}
		adv := advisories(t, nc, "C")
		if _, err := st.CreateConsumer(ctx(t), jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckExplicitPolicy,
			PriorityPolicy: jetstream.PriorityPolicyPinned, PriorityGroups: []string{"G"}, PinnedTTL: 500 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		// Two clients: each consumer handle keeps its own pin id.
		c1, _ := st.Consumer(ctx(t), "C")
		c2, _ := st.Consumer(ctx(t), "C")
		got, pin := fetchData(t, c1, 3, jetstream.FetchPriorityGroup("G"), jetstream.FetchMaxWait(2*time.Second))
		if strings.Join(got, "") != "abc" || pin == "" {
			t.Fatalf("first client got %q pin %q", got, pin)
		}
		subj, a := nextAdvisory(t, adv)
		if subj != "$JS.EVENT.ADVISORY.CONSUMER.PINNED.S.C" || a.Type != "io.nats.jetstream.advisory.v1.consumer_group_pinned" ||
			a.PinnedID != pin || a.Group != "G" || a.Account != "A" || a.Stream != "S" || a.Consumer != "C" {
			t.Fatalf("pinned advisory %s %+v", subj, a)
		}
		ci, err := c1.Info(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if len(ci.PriorityGroups) != 1 || ci.PriorityGroups[0].PinnedClientID != pin || ci.PriorityGroups[0].PinnedTS.IsZero() {
			t.Fatalf("info groups %+v", ci.PriorityGroups)
		}
		// The other client waits while the first keeps asking.
		got, _ = fetchData(t, c2, 3, jetstream.FetchPriorityGroup("G"), jetstream.FetchMaxWait(300*time.Millisecond))
		if len(got) != 0 {
			t.Fatalf("second client served while pinned: %q", got)
		}
		got, pin2 := fetchData(t, c1, 2, jetstream.FetchPriorityGroup("G"), jetstream.FetchMaxWait(2*time.Second))
		if strings.Join(got, "") != "de" || pin2 != pin {
			t.Fatalf("pinned client again got %q pin %q", got, pin2)
		}
		// A request with a stale pin id is refused.
		p := newPuller(t, nc)
		p.pull("C", `{"batch":1,"group":"G","id":"STALE"}`)
		if got := p.next(); got != "423 Nats-Pin-Id mismatch" {
			t.Fatalf("stale id: %q", got)
		}

		// An admin unpins: the next client gets a new pin.
		if err := st.UnpinConsumer(ctx(t), "C", "G"); err != nil {
			t.Fatal(err)
		}
		subj, a = nextAdvisory(t, adv)
		if subj != "$JS.EVENT.ADVISORY.CONSUMER.UNPINNED.S.C" || a.Reason != "admin" || a.Group != "G" {
			t.Fatalf("unpinned advisory %s %+v", subj, a)
		}
		got, pin3 := fetchData(t, c2, 2, jetstream.FetchPriorityGroup("G"), jetstream.FetchMaxWait(2*time.Second))
		if strings.Join(got, "") != "fg" || pin3 == "" || pin3 == pin {
			t.Fatalf("second client after unpin got %q pin %q (old %q)", got, pin3, pin)
		}
		nextAdvisory(t, adv) // pinned to the second client
		// Silent past priority_timeout: unpinned with reason timeout.
		subj, a = nextAdvisory(t, adv)
		if subj != "$JS.EVENT.ADVISORY.CONSUMER.UNPINNED.S.C" || a.Reason != "timeout" {
			t.Fatalf("timeout advisory %s %+v", subj, a)
		}

		// UNPIN's bad input.
		for body, want := range map[string]string{
			``:                    `"description":"invalid JSON: unexpected end of JSON input"`,
			`{}`:                  `"description":"invalid JSON: consumer group not specified"`,
			`{"group":"bad.grp"}`: `"err_code":10162`,
			`{"group":"OTHER"}`:   `"err_code":10160`,
		} {
			m, err := nc.Request("$JS.API.CONSUMER.UNPIN.S.C", []byte(body), 5*time.Second)
			if err != nil || !strings.Contains(string(m.Data), want) {
				t.Fatalf("unpin %s: %v %s, want %s", body, err, m.Data, want)
			}
		}
		m, err := nc.Request("$JS.API.CONSUMER.UNPIN.S.NOPE", []byte(`{"group":"G"}`), 5*time.Second)
		if err != nil || !strings.Contains(string(m.Data), `"err_code":10014`) {
			t.Fatalf("unpin unknown consumer: %v %s", err, m.Data)
		}
	})
}

// TestConsumerPrioritized: with the prioritized policy the request of the
// lowest priority number is served first.
func TestConsumerPrioritized(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		nc, j := refConn(t, url)
		if _, err := j.CreateStream(ctx(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.MemoryStorage}); err != nil {
			t.Fatal(err)
		}
		addConsumer(t, nc, `{"durable_name":"C","ack_policy":"explicit","priority_policy":"prioritized","priority_groups":["G"]}`)
		low, high := newPuller(t, nc), newPuller(t, nc)
		low.pull("C", `{"batch":2,"expires":3000000000,"group":"G","priority":5}`)
		high.pull("C", `{"batch":1,"expires":3000000000,"group":"G","priority":1}`)
		waitFor(t, func() bool { return numWaiting(t, nc, "C") == 2 })
		for i := 0; i < 3; i++ {
			j.Publish(ctx(t), "s.a", []byte{'a' + byte(i)})
		}
		if got := high.next(); got != "msg a" {
			t.Fatalf("priority 1 got %q", got)
		}
		if got := low.next(); got != "msg b" {
			t.Fatalf("priority 5 got %q", got)
		}
		if got := low.next(); got != "msg c" {
			t.Fatalf("priority 5 got %q", got)
		}
		p := newPuller(t, nc)
		p.pull("C", `{"batch":1,"group":"G","priority":10}`)
		if got := p.next(); got != "400 Bad Request - Priority must be between 0 and 9" {
			t.Fatalf("priority 10: %q", got)
		}
		p.pull("C", `{"batch":1,"group":"G","min_pending":3}`)
		if got := p.next(); got != "400 Bad Request - Not a Overflow Priority consumer" {
			t.Fatalf("min_pending: %q", got)
		}
		p.pull("C", `{"batch":1}`)
		if got := p.next(); got != "400 Bad Request - Priority Group missing" {
			t.Fatalf("no group: %q", got)
		}
		p.pull("C", `{"batch":1,"group":"H"}`)
		if got := p.next(); got != "400 Bad Request - Invalid Priority Group" {
			t.Fatalf("other group: %q", got)
		}
	})
}

// TestConsumerOverflow: a request with min_pending is served only while
// that many messages wait.
func TestConsumerOverflow(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		nc, j := refConn(t, url)
		if _, err := j.CreateStream(ctx(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.MemoryStorage}); err != nil {
			t.Fatal(err)
		}
		addConsumer(t, nc, `{"durable_name":"C","ack_policy":"explicit","priority_policy":"overflow","priority_groups":["G"]}`)
		for i := 0; i < 3; i++ {
			j.Publish(ctx(t), "s.a", []byte{'a' + byte(i)})
		}
		over := newPuller(t, nc)
		over.pull("C", `{"batch":5,"expires":500000000,"group":"G","min_pending":5}`)
		if got := over.next(); got != "408 Request Timeout msgs=5 bytes=0" {
			t.Fatalf("below min_pending: %q", got)
		}
		over.pull("C", `{"batch":1,"expires":2000000000,"group":"G","min_pending":3}`)
		if got := over.next(); got != "msg a" {
			t.Fatalf("at min_pending: %q", got)
		}
		p := newPuller(t, nc)
		p.pull("C", `{"batch":1,"group":"G","id":"X"}`)
		if got := p.next(); got != "400 Bad Request - Not a Pinned Client Priority consumer" {
			t.Fatalf("pin id on overflow: %q", got)
		}
	})
}
