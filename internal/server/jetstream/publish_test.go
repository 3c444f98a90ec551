package jetstream_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/testutil"
)

func apiErrCode(err error) uint16 {
	var ae *jetstream.APIError
	if errors.As(err, &ae) {
		return uint16(ae.ErrorCode)
	}
	return 0
}

func TestPublishHeaders(t *testing.T) {
	s := runJS(t)
	_, j := connectJS(t, s)
	c := ctx(t)
	_, err := j.CreateStream(c, jetstream.StreamConfig{Name: "H", Subjects: []string{"h.>"}, Storage: jetstream.MemoryStorage,
		AllowRollup: true, AllowMsgTTL: true, Duplicates: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ack, err := j.Publish(c, "h.a", []byte("1"), jetstream.WithMsgID("id1"))
	if err != nil || ack.Sequence != 1 || ack.Duplicate {
		t.Fatalf("first %v %+v", err, ack)
	}
	ack, err = j.Publish(c, "h.a", []byte("1"), jetstream.WithMsgID("id1"))
	if err != nil || ack.Sequence != 1 || !ack.Duplicate {
		t.Fatalf("duplicate %v %+v", err, ack)
	}
	if _, err := j.Publish(c, "h.a", nil, jetstream.WithExpectLastSequence(5)); apiErrCode(err) != 10071 {
		t.Fatalf("expect last seq: %v", err)
	}
	if _, err := j.Publish(c, "h.a", nil, jetstream.WithExpectLastSequencePerSubject(1)); err != nil {
		t.Fatalf("expect last subj seq: %v", err)
	}
	if _, err := j.Publish(c, "h.b", nil, jetstream.WithExpectLastSequencePerSubject(0)); err != nil {
		t.Fatalf("expect new subject: %v", err)
	}
	if _, err := j.Publish(c, "h.b", nil, jetstream.WithExpectLastSequencePerSubject(0)); apiErrCode(err) != 10071 {
		t.Fatalf("expect new subject again: %v", err)
	}
	if _, err := j.Publish(c, "h.a", nil, jetstream.WithExpectLastMsgID("nope")); apiErrCode(err) != 10070 {
		t.Fatalf("expect last msg id: %v", err)
	}
	if _, err := j.Publish(c, "h.a", nil, jetstream.WithExpectStream("X")); apiErrCode(err) != 10060 {
		t.Fatalf("expect stream: %v", err)
	}
	if _, err := j.Publish(c, "h.a", nil, jetstream.WithMsgTTL(500*time.Millisecond)); apiErrCode(err) != 10165 {
		t.Fatalf("short ttl: %v", err)
	}
	// Rollup of a subject leaves only the new message of that subject.
	m := nats.NewMsg("h.a")
	m.Header.Set("Nats-Rollup", "sub")
	if _, err := j.PublishMsg(c, m); err != nil {
		t.Fatalf("rollup: %v", err)
	}
	st, _ := j.Stream(c, "H")
	info, _ := st.Info(c, jetstream.WithSubjectFilter("h.>"))
	if info.State.Subjects["h.a"] != 1 || info.State.Subjects["h.b"] != 1 {
		t.Fatalf("after rollup %+v", info.State.Subjects)
	}
	// A message with a TTL goes away on its own.
	ack, err = j.Publish(c, "h.ttl", []byte("x"), jetstream.WithMsgTTL(time.Second))
	if err != nil {
		t.Fatalf("ttl publish: %v", err)
	}
	testutil.CheckFor(t, 5*time.Second, 50*time.Millisecond, func() error {
		if _, err := st.GetMsg(c, ack.Sequence); err == nil {
			return errors.New("ttl message still there")
		}
		return nil
	})
}

func TestCounters(t *testing.T) {
	s := runJS(t)
	nc, j := connectJS(t, s)
	c := ctx(t)
	if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "C", Subjects: []string{"c.>"}, Storage: jetstream.MemoryStorage, AllowMsgCounter: true}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"5", "3", "103"} {
		incr := []string{"5", "-2", "100"}[i]
		m := nats.NewMsg("c.a")
		m.Header.Set("Nats-Incr", incr)
		r, err := nc.RequestMsg(m, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(r.Data), `"val":"`+want+`"`) {
			t.Fatalf("incr %s: %s", incr, r.Data)
		}
	}
	if _, err := j.Publish(c, "c.a", []byte("x")); apiErrCode(err) != 10169 {
		t.Fatalf("publish without incr: %v", err)
	}
}

func TestDirectGetBatch(t *testing.T) {
	s := runJS(t)
	nc, j := connectJS(t, s)
	c := ctx(t)
	if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "D", Subjects: []string{"d.>"}, Storage: jetstream.MemoryStorage, AllowDirect: true}); err != nil {
		t.Fatal(err)
	}
	for _, subj := range []string{"d.a", "d.b", "d.a", "d.c"} {
		if _, err := j.Publish(c, subj, []byte(subj)); err != nil {
			t.Fatal(err)
		}
	}
	inbox := nats.NewInbox()
	sub, _ := nc.SubscribeSync(inbox)
	nc.PublishRequest("$JS.API.DIRECT.GET.D", inbox, []byte(`{"seq":2,"batch":2}`))
	var got []string
	for {
		m, err := sub.NextMsg(2 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if m.Header.Get("Status") == "204" {
			if m.Header.Get("Nats-Num-Pending") != "1" || m.Header.Get("Nats-Last-Sequence") != "3" {
				t.Fatalf("EOB headers %v", m.Header)
			}
			break
		}
		got = append(got, m.Header.Get("Nats-Sequence")+"/"+m.Header.Get("Nats-Num-Pending")+"/"+m.Header.Get("Nats-Last-Sequence"))
	}
	if strings.Join(got, ",") != "2/2/0,3/1/2" {
		t.Fatalf("batch %v", got)
	}
	nc.PublishRequest("$JS.API.DIRECT.GET.D", inbox, []byte(`{"multi_last":["d.>"]}`))
	got = nil
	for {
		m, err := sub.NextMsg(2 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if m.Header.Get("Status") == "204" {
			if m.Header.Get("Nats-UpTo-Sequence") != "4" {
				t.Fatalf("EOB %v", m.Header)
			}
			break
		}
		got = append(got, m.Header.Get("Nats-Sequence"))
	}
	if strings.Join(got, ",") != "2,3,4" {
		t.Fatalf("multi_last %v", got)
	}
}
