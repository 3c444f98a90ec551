package jetstream_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/testutil"
)

func mkStream(t *testing.T, j jetstream.JetStream, cfg jetstream.StreamConfig) jetstream.Stream {
	t.Helper()
	if cfg.Storage == 0 && !strings.HasPrefix(cfg.Name, "F") {
		cfg.Storage = jetstream.MemoryStorage
	}
	s, err := j.CreateStream(ctx(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func pub(t *testing.T, j jetstream.JetStream, subj string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := j.Publish(ctx(t), subj, []byte(fmt.Sprintf("m%d", i))); err != nil {
			t.Fatal(err)
		}
	}
}

func TestConsumerPullFetchAck(t *testing.T) {
	s := runJS(t)
	_, j := connectJS(t, s)
	st := mkStream(t, j, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	pub(t, j, "s.a", 10)
	c, err := st.CreateConsumer(ctx(t), jetstream.ConsumerConfig{Durable: "D", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	ci := c.CachedInfo()
	if ci.NumPending != 10 || ci.Config.MaxAckPending != 1000 || ci.Config.AckWait != 30*time.Second || ci.Config.MaxWaiting != 512 {
		t.Fatalf("info %+v", ci)
	}
	b, err := c.Fetch(5, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for m := range b.Messages() {
		md, err := m.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		n++
		if m.Subject() != "s.a" || md.Sequence.Stream != uint64(n) || md.Sequence.Consumer != uint64(n) || md.NumPending != uint64(10-n) || md.NumDelivered != 1 {
			t.Fatalf("msg %d: %s %+v", n, m.Subject(), md)
		}
		if err := m.DoubleAck(ctx(t)); err != nil {
			t.Fatal(err)
		}
	}
	if b.Error() != nil || n != 5 {
		t.Fatalf("got %d %v", n, b.Error())
	}
	info, err := c.Info(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.Delivered.Stream != 5 || info.AckFloor.Stream != 5 || info.NumAckPending != 0 || info.NumPending != 5 {
		t.Fatalf("info %+v", info)
	}
	// Rest with no_wait, then nothing.
	b, err = c.FetchNoWait(20)
	if err != nil {
		t.Fatal(err)
	}
	n = 0
	for m := range b.Messages() {
		n++
		m.Ack()
	}
	if n != 5 {
		t.Fatalf("nowait got %d (%v)", n, b.Error())
	}
	b, _ = c.FetchNoWait(1)
	for range b.Messages() {
		t.Fatal("unexpected message")
	}
}

func TestConsumerNakRedeliver(t *testing.T) {
	s := runJS(t)
	_, j := connectJS(t, s)
	st := mkStream(t, j, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	pub(t, j, "s.a", 2)
	c, err := st.CreateConsumer(ctx(t), jetstream.ConsumerConfig{Durable: "D", AckPolicy: jetstream.AckExplicitPolicy, AckWait: 300 * time.Millisecond, MaxDeliver: 3})
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Next(jetstream.FetchMaxWait(2 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	m.Nak()
	m2, err := c.Next(jetstream.FetchMaxWait(2 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	md, _ := m2.Metadata()
	if md.Sequence.Stream != 1 || md.NumDelivered != 2 {
		t.Fatalf("redelivery %+v", md)
	}
	// Let ack_wait expire: delivered a third time, then never again.
	m3, err := c.Next(jetstream.FetchMaxWait(2 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	md, _ = m3.Metadata()
	if md.Sequence.Stream != 2 && !(md.Sequence.Stream == 1 && md.NumDelivered == 3) {
		t.Fatalf("third %+v", md)
	}
	info, _ := c.Info(ctx(t))
	if info.NumRedelivered == 0 && md.Sequence.Stream == 1 {
		t.Fatalf("info %+v", info)
	}
}

func TestConsumerConsume(t *testing.T) {
	s := runJS(t)
	_, j := connectJS(t, s)
	st := mkStream(t, j, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	c, err := st.CreateOrUpdateConsumer(ctx(t), jetstream.ConsumerConfig{Durable: "D", FilterSubject: "s.b"})
	if err != nil {
		t.Fatal(err)
	}
	var got atomic.Int64
	cc, err := c.Consume(func(m jetstream.Msg) {
		if m.Subject() != "s.b" {
			t.Errorf("subject %s", m.Subject())
		}
		m.Ack()
		got.Add(1)
	}, jetstream.PullMaxMessages(50))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Stop()
	for i := 0; i < 300; i++ {
		j.PublishAsync("s.a", nil)
		j.PublishAsync("s.b", nil)
	}
	<-j.PublishAsyncComplete()
	testutil.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if n := got.Load(); n != 300 {
			return fmt.Errorf("got %d", n)
		}
		return nil
	})
	testutil.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		info, err := c.Info(ctx(t))
		if err != nil {
			return err
		}
		if info.NumAckPending != 0 || info.NumPending != 0 || info.AckFloor.Stream != 600 {
			return fmt.Errorf("info %+v", info)
		}
		return nil
	})
}

func TestConsumerLegacyPush(t *testing.T) {
	s := runJS(t)
	nc, j := connectJS(t, s)
	mkStream(t, j, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	var got atomic.Int64
	sub, err := js.Subscribe("s.a", func(m *nats.Msg) {
		m.Ack()
		got.Add(1)
	}, nats.Durable("P"), nats.IdleHeartbeat(200*time.Millisecond), nats.EnableFlowControl())
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	var qgot atomic.Int64
	for i := 0; i < 2; i++ {
		qs, err := js.QueueSubscribe("s.q", "grp", func(m *nats.Msg) { m.Ack(); qgot.Add(1) }, nats.Durable("Q"))
		if err != nil {
			t.Fatal(err)
		}
		defer qs.Unsubscribe()
	}
	pub(t, j, "s.a", 50)
	pub(t, j, "s.q", 20)
	testutil.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if got.Load() != 50 || qgot.Load() != 20 {
			return fmt.Errorf("got %d %d", got.Load(), qgot.Load())
		}
		return nil
	})
	// Ordered push consumer (as KV watchers use).
	osub, err := js.SubscribeSync("s.>", nats.OrderedConsumer())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 70; i++ {
		if _, err := osub.NextMsg(2 * time.Second); err != nil {
			t.Fatalf("ordered %d: %v", i, err)
		}
	}
}

func TestConsumerOrdered(t *testing.T) {
	s := runJS(t)
	_, j := connectJS(t, s)
	st := mkStream(t, j, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	pub(t, j, "s.a", 20)
	oc, err := st.OrderedConsumer(ctx(t), jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := oc.Fetch(20, jetstream.FetchMaxWait(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range b.Messages() {
		n++
	}
	if n != 20 {
		t.Fatalf("ordered fetch %d %v", n, b.Error())
	}
}

func TestConsumerAPIErrors(t *testing.T) {
	s := runJS(t)
	nc, j := connectJS(t, s)
	mkStream(t, j, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	cases := []struct{ subj, body, want string }{
		{"$JS.API.CONSUMER.CREATE.S", `{"stream_name":"S","config":{"durable_name":"X"}}`, `"err_code":10020`},
		{"$JS.API.CONSUMER.CREATE.S.C", `{"stream_name":"S","config":{"durable_name":"X"}}`, `"err_code":10017`},
		{"$JS.API.CONSUMER.CREATE.S.C.s.b", `{"stream_name":"S","config":{"filter_subject":"s.a"}}`, `"err_code":10131`},
		{"$JS.API.CONSUMER.CREATE.NOPE.C", `{"stream_name":"NOPE","config":{}}`, `"err_code":10059`},
		{"$JS.API.CONSUMER.DURABLE.CREATE.S.C", `{"stream_name":"S","config":{}}`, `"err_code":10018`},
		{"$JS.API.CONSUMER.CREATE.S.C", `{"stream_name":"S","config":{"deliver_subject":"x","flow_control":true}}`, `"err_code":10108`},
		{"$JS.API.CONSUMER.CREATE.S.C", `{"stream_name":"S","config":{"idle_heartbeat":1000000000}}`, `"err_code":10088`},
		{"$JS.API.CONSUMER.CREATE.S.C", `{"stream_name":"S","config":{"deliver_policy":"by_start_sequence"}}`, `"err_code":10094`},
		{"$JS.API.CONSUMER.CREATE.S.C", `{"stream_name":"S","config":{"filter_subjects":["a.>","a.b"]}}`, `"err_code":10138`},
		{"$JS.API.CONSUMER.CREATE.S.C", `{"stream_name":"S","config":{},"action":"update"}`, `"err_code":10149`},
		{"$JS.API.CONSUMER.INFO.S.C", ``, `"err_code":10014`},
		{"$JS.API.CONSUMER.DELETE.S.C", ``, `"err_code":10014`},
	}
	for _, c := range cases {
		if got := request(t, nc, c.subj, c.body); !strings.Contains(got, c.want) {
			t.Errorf("%s %s: %s", c.subj, c.body, got)
		}
	}
	// create vs existing with a different config.
	request(t, nc, "$JS.API.CONSUMER.CREATE.S.C", `{"stream_name":"S","config":{"ack_policy":"explicit"},"action":"create"}`)
	if got := request(t, nc, "$JS.API.CONSUMER.CREATE.S.C", `{"stream_name":"S","config":{"ack_policy":"explicit","description":"x"},"action":"create"}`); !strings.Contains(got, `"err_code":10148`) {
		t.Errorf("create existing: %s", got)
	}
	if got := request(t, nc, "$JS.API.CONSUMER.CREATE.S.C", `{"stream_name":"S","config":{"ack_policy":"none"}}`); !strings.Contains(got, `"err_code":10012`) || !strings.Contains(got, "ack policy can not be updated") {
		t.Errorf("update ack policy: %s", got)
	}
	var names struct {
		Consumers []string `json:"consumers"`
		Total     int      `json:"total"`
	}
	json.Unmarshal([]byte(request(t, nc, "$JS.API.CONSUMER.NAMES.S", "")), &names)
	if names.Total != 1 || names.Consumers[0] != "C" {
		t.Errorf("names %+v", names)
	}
	// Pull status messages.
	inbox := nc.NewRespInbox()
	sub, _ := nc.SubscribeSync(inbox)
	nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.S.C", inbox, []byte(`{"batch":1,"no_wait":true}`))
	m, err := sub.NextMsg(2 * time.Second)
	if err != nil || m.Header.Get("Status") != "404" {
		t.Fatalf("no_wait: %v %+v", err, m)
	}
	nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.S.C", inbox, []byte(`{"batch":3,"expires":100000000}`))
	m, err = sub.NextMsg(2 * time.Second)
	if err != nil || m.Header.Get("Status") != "408" || m.Header.Get("Nats-Pending-Messages") != "3" {
		t.Fatalf("expires: %v %+v", err, m)
	}
	nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.S.C", inbox, []byte(`{"batch":3,"expires":100000000,"idle_heartbeat":90000000}`))
	m, err = sub.NextMsg(2 * time.Second)
	if err != nil || m.Header.Get("Status") != "400" {
		t.Fatalf("hb: %v %+v", err, m)
	}
	if _, err := j.Consumer(ctx(t), "S", "nope"); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Fatal(err)
	}
}
