package jetstream_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestStreamLifecycleMemory(t *testing.T) {
	s := runJS(t)
	nc, j := connectJS(t, s)
	c := ctx(t)
	info, err := j.AccountInfo(c)
	if err != nil {
		t.Fatalf("account info: %v", err)
	}
	if info.API.Level < 1 {
		t.Fatalf("api level %d", info.API.Level)
	}
	st, err := j.CreateStream(c, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}, Storage: jetstream.MemoryStorage})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	for i := 0; i < 10; i++ {
		ack, err := j.Publish(c, fmt.Sprintf("orders.%d", i%3), []byte("hello"))
		if err != nil {
			t.Fatalf("publish: %v", err)
		}
		if ack.Stream != "ORDERS" || ack.Sequence != uint64(i+1) {
			t.Fatalf("ack %+v", ack)
		}
	}
	si, err := st.Info(c)
	if err != nil {
		t.Fatal(err)
	}
	if si.State.Msgs != 10 || si.State.LastSeq != 10 || si.State.NumSubjects != 3 {
		t.Fatalf("state %+v", si.State)
	}
	m, err := st.GetMsg(c, 4)
	if err != nil || m.Subject != "orders.0" || string(m.Data) != "hello" {
		t.Fatalf("get msg: %v %+v", err, m)
	}
	m, err = st.GetLastMsgForSubject(c, "orders.1")
	if err != nil || m.Sequence != 8 {
		t.Fatalf("last for subject: %v %+v", err, m)
	}
	if err := st.DeleteMsg(c, 8); err != nil {
		t.Fatalf("delete msg: %v", err)
	}
	if _, err := st.GetMsg(c, 8); !errors.Is(err, jetstream.ErrMsgNotFound) {
		t.Fatalf("deleted msg: %v", err)
	}
	if err := st.DeleteMsg(c, 8); err == nil {
		t.Fatal("second delete worked")
	}
	if err := st.Purge(c, jetstream.WithPurgeSubject("orders.0")); err != nil {
		t.Fatalf("purge: %v", err)
	}
	si, _ = st.Info(c)
	if si.State.Msgs != 5 {
		t.Fatalf("after purge %+v", si.State)
	}
	names := j.StreamNames(c)
	var got []string
	for n := range names.Name() {
		got = append(got, n)
	}
	if len(got) != 1 || got[0] != "ORDERS" {
		t.Fatalf("names %v %v", got, names.Err())
	}
	if name, err := j.StreamNameBySubject(c, "orders.x"); err != nil || name != "ORDERS" {
		t.Fatalf("by subject %q %v", name, err)
	}
	// Same config again is fine; a different one is refused.
	if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}, Storage: jetstream.MemoryStorage}); err != nil {
		t.Fatalf("idempotent create: %v", err)
	}
	if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"x"}, Storage: jetstream.MemoryStorage}); !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		t.Fatalf("different create: %v", err)
	}
	if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "OTHER", Subjects: []string{"orders.new"}, Storage: jetstream.MemoryStorage}); err == nil || !strings.Contains(err.Error(), "overlap") {
		t.Fatalf("overlap: %v", err)
	}
	if _, err := j.UpdateStream(c, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>", "more"}, Storage: jetstream.MemoryStorage, MaxMsgs: 3}); err != nil {
		t.Fatalf("update: %v", err)
	}
	si, _ = st.Info(c)
	if si.State.Msgs != 3 || si.Config.MaxMsgs != 3 {
		t.Fatalf("after update %+v", si.State)
	}
	if _, err := j.Publish(c, "more", nil); err != nil {
		t.Fatalf("publish to new subject: %v", err)
	}
	if err := j.DeleteStream(c, "ORDERS"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := j.Stream(c, "ORDERS"); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("stream after delete: %v", err)
	}
	// No stream: publishes get no responders.
	if _, err := j.Publish(c, "orders.1", nil, jetstream.WithRetryAttempts(0)); !errors.Is(err, jetstream.ErrNoStreamResponse) && !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("publish without stream: %v", err)
	}
	_ = nc
}

func TestLegacyJetStreamContext(t *testing.T) {
	s := runJS(t)
	nc, _ := connectJS(t, s)
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.AddStream(&nats.StreamConfig{Name: "L", Subjects: []string{"l.*"}, Storage: nats.MemoryStorage, AllowDirect: true}); err != nil {
		t.Fatalf("add: %v", err)
	}
	for i := 0; i < 5; i++ {
		if _, err := js.Publish("l.a", []byte{byte('0' + i)}); err != nil {
			t.Fatal(err)
		}
	}
	futures := []nats.PubAckFuture{}
	for i := 0; i < 100; i++ {
		f, err := js.PublishAsync("l.b", []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		futures = append(futures, f)
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(5 * time.Second):
		t.Fatal("async acks did not arrive")
	}
	for _, f := range futures {
		select {
		case err := <-f.Err():
			t.Fatal(err)
		case <-f.Ok():
		}
	}
	m, err := js.GetLastMsg("L", "l.a", nats.DirectGet())
	if err != nil || string(m.Data) != "4" || m.Sequence != 5 {
		t.Fatalf("direct last: %v %+v", err, m)
	}
	m, err = js.GetMsg("L", 3, nats.DirectGet())
	if err != nil || string(m.Data) != "2" {
		t.Fatalf("direct seq: %v %+v", err, m)
	}
	si, err := js.StreamInfo("L")
	if err != nil || si.State.Msgs != 105 {
		t.Fatalf("info %v %+v", err, si)
	}
	if _, err := js.AddStream(&nats.StreamConfig{Name: "R3", Replicas: 3, Storage: nats.MemoryStorage}); err == nil {
		t.Fatal("R3 accepted")
	}
}
