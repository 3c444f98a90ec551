package consumer

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/memstore"
	"github.com/sluicehq/sluice/pkg/api"
)

// rec is an Env that records what the consumer sends.
type rec struct {
	mu       sync.Mutex
	msgs     []Msg
	events   []string
	interest atomic.Bool
}

func (r *rec) send(to, subj, reply string, hdr, data []byte) {
	r.mu.Lock()
	r.msgs = append(r.msgs, Msg{To: to, Subj: subj, Reply: reply, Hdr: hdr, Data: data})
	r.mu.Unlock()
}

func (r *rec) take() []Msg {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.msgs
	r.msgs = nil
	return m
}

// wait polls until n messages were sent and returns them.
func (r *rec) wait(t *testing.T, n int) []Msg {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		r.mu.Lock()
		got := len(r.msgs)
		r.mu.Unlock()
		if got >= n {
			return r.take()
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d messages, want %d: %+v", got, n, r.take())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func newStore(t *testing.T, n int) store.Store {
	t.Helper()
	st, err := memstore.New(store.Config{Name: "S", Storage: store.MemoryStorage, Subjects: []string{">"}}, store.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		subj := "a"
		if i%2 == 1 {
			subj = "b"
		}
		if _, _, err := st.Store(subj, nil, []byte(fmt.Sprint(i+1)), 0); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func start(t *testing.T, st store.Store, cfg api.ConsumerConfig, mutate ...func(*Env)) (*Consumer, *rec) {
	t.Helper()
	r := &rec{}
	r.interest.Store(true)
	scfg := api.StreamConfig{Name: "S", Subjects: []string{"a", "b"}}
	if cfg.Durable == "" {
		cfg.Durable = "C"
	}
	if e := SetDefaults(&cfg, &scfg, 0); e != nil {
		t.Fatal(e)
	}
	if e := Check(&cfg, &scfg, 0); e != nil {
		t.Fatal(e)
	}
	cs, _ := st.ConsumerStore("C")
	env := Env{Stream: "S", Name: "C", Store: st, State: cs, Send: r.send,
		HasInterest: func(string) bool { return r.interest.Load() },
		Event:       func(subj string, _ any) { r.mu.Lock(); r.events = append(r.events, subj); r.mu.Unlock() }}
	for _, m := range mutate {
		m(&env)
	}
	c := New(env, cfg, time.Now(), nil)
	t.Cleanup(func() { c.Stop(false) })
	return c, r
}

func status(m Msg) string {
	s := string(m.Hdr)
	if !strings.HasPrefix(s, "NATS/1.0 ") {
		return ""
	}
	return strings.SplitN(s[len("NATS/1.0 "):], "\r\n", 2)[0]
}

func TestPullBatchAndStatus(t *testing.T) {
	st := newStore(t, 5)
	c, r := start(t, st, api.ConsumerConfig{AckPolicy: api.AckExplicit, FilterSubject: "a"})
	c.ProcessPull("in", []byte(`{"batch":2}`))
	ms := r.wait(t, 2)
	if ms[0].Subj != "a" || ms[0].To != "in" || ms[0].Reply != "$JS.ACK.S.C.1.1.1."+strings.Split(ms[0].Reply, ".")[7]+".2" {
		t.Fatalf("first %+v", ms[0])
	}
	// One left for a (seq 5): a no_wait for 3 gets it, then 404.
	c.ProcessPull("in", []byte(`{"batch":3,"no_wait":true}`))
	ms = r.wait(t, 2)
	if string(ms[0].Data) != "5" || status(ms[1]) != "404 No Messages" {
		t.Fatalf("no_wait %+v", ms)
	}
	c.ProcessPull("in", []byte(`{"batch":4,"expires":20000000,"max_bytes":1000}`))
	ms = r.wait(t, 1)
	if status(ms[0]) != "408 Request Timeout" || !strings.Contains(string(ms[0].Hdr), "Nats-Pending-Messages: 4\r\nNats-Pending-Bytes: 1000\r\n") {
		t.Fatalf("expiry %q", ms[0].Hdr)
	}
	for body, want := range map[string]string{
		`{"batch":1,"expires":1000000,"idle_heartbeat":1000000}`: "400 Bad Request - heartbeat value too large",
		`{"batch":`:               "400 Bad Request - unexpected end of JSON input",
		`{"batch":1,"group":"x"}`: "",
	} {
		c.ProcessPull("in", []byte(body))
		if want == "" {
			continue
		}
		if ms := r.wait(t, 1); status(ms[0]) != want {
			t.Errorf("%s: %q", body, status(ms[0]))
		}
	}
	info := c.Info()
	if info.NumAckPending != 3 || info.Delivered.Stream != 5 || info.Delivered.Consumer != 3 || info.NumPending != 0 || info.AckFloor.Stream != 0 {
		t.Fatalf("info %+v", info)
	}
}

func ackSubj(m Msg) string { return m.Reply }

func TestAckFloorAndRedelivery(t *testing.T) {
	st := newStore(t, 4)
	c, r := start(t, st, api.ConsumerConfig{AckPolicy: api.AckExplicit, AckWait: 50 * time.Millisecond, MaxDeliver: 2})
	c.ProcessPull("in", []byte(`4`))
	ms := r.wait(t, 4)
	// Ack 2 and 3 first: the floor stays at 0 until 1 is acked.
	c.ProcessAck(ackSubj(ms[1]), "", nil)
	c.ProcessAck(ackSubj(ms[2]), "", []byte("+ACK"))
	if f := c.Info().AckFloor; f.Stream != 0 {
		t.Fatalf("floor %+v", f)
	}
	c.ProcessAck(ackSubj(ms[0]), "", []byte("+TERM bad"))
	if f := c.Info().AckFloor; f.Stream != 3 {
		t.Fatalf("floor after term %+v", f)
	}
	// 4 is not acked: redelivered once after ack_wait, then max_deliver.
	c.ProcessPull("in", []byte(`{"batch":5,"expires":400000000}`))
	ms = r.wait(t, 1)
	if !strings.HasPrefix(ms[0].Reply, "$JS.ACK.S.C.2.4.5.") {
		t.Fatalf("redelivery %q", ms[0].Reply)
	}
	ms = r.wait(t, 1) // the request expires: nothing more
	if status(ms[0]) != "408 Request Timeout" {
		t.Fatalf("%+v", ms)
	}
	r.mu.Lock()
	ev := strings.Join(r.events, " ")
	r.mu.Unlock()
	if !strings.Contains(ev, "MSG_TERMINATED.S.C") || !strings.Contains(ev, "MAX_DELIVERIES.S.C") {
		t.Fatalf("events %s", ev)
	}
	info := c.Info()
	if info.NumAckPending != 0 || info.AckFloor.Stream != 4 {
		t.Fatalf("info %+v", info)
	}
}

func TestNakDelayAndAckAll(t *testing.T) {
	st := newStore(t, 3)
	c, r := start(t, st, api.ConsumerConfig{AckPolicy: api.AckAll})
	c.ProcessPull("in", []byte(`3`))
	ms := r.wait(t, 3)
	c.ProcessAck(ackSubj(ms[1]), "rep", nil) // ack all up to 2, AckSync reply
	if got := r.wait(t, 1); got[0].To != "rep" || len(got[0].Data) != 0 {
		t.Fatalf("acksync reply %+v", got)
	}
	if f := c.Info().AckFloor; f.Stream != 2 {
		t.Fatalf("floor %+v", f)
	}
	c.ProcessAck(ackSubj(ms[2]), "", []byte(`-NAK {"delay": 30000000}`))
	c.ProcessPull("in", []byte(`1`))
	start := time.Now()
	ms = r.wait(t, 1)
	if !strings.HasPrefix(ms[0].Reply, "$JS.ACK.S.C.2.3.4.") || time.Since(start) < 25*time.Millisecond {
		t.Fatalf("nak delay %q after %v", ms[0].Reply, time.Since(start))
	}
}

func TestPushInterestGatingAndHeartbeat(t *testing.T) {
	st := newStore(t, 2)
	c, r := start(t, st, api.ConsumerConfig{AckPolicy: api.AckNone, DeliverSubject: "d", Heartbeat: 100 * time.Millisecond, FlowControl: true})
	ms := r.wait(t, 2)
	if ms[0].To != "d" || ms[0].Subj != "a" || ms[1].Subj != "b" {
		t.Fatalf("push %+v", ms)
	}
	r.interest.Store(false)
	st.Store("a", nil, nil, 0)
	c.Kick()
	hb := r.wait(t, 1)
	if status(hb[0]) != "100 Idle Heartbeat" || !strings.Contains(string(hb[0].Hdr), "Nats-Last-Consumer: 2\r\nNats-Last-Stream: 2\r\n") {
		t.Fatalf("heartbeat %q", hb[0].Hdr)
	}
	r.interest.Store(true)
	ms = r.wait(t, 1)
	if ms[0].Subj != "a" || !strings.HasPrefix(ms[0].Reply, "$JS.ACK.S.C.1.3.3.") {
		t.Fatalf("after interest %+v", ms)
	}
	c.ProcessPull("in", nil)
	if ms := r.wait(t, 1); status(ms[0]) != "409 Consumer is push based" {
		t.Fatalf("%+v", ms)
	}
}

func TestLastPerSubjectAndHeadersOnly(t *testing.T) {
	st := newStore(t, 6)
	c, r := start(t, st, api.ConsumerConfig{AckPolicy: api.AckNone, DeliverPolicy: api.DeliverLastPerSubject, FilterSubjects: []string{"a", "b"}, HeadersOnly: true})
	if p := c.Info().NumPending; p != 2 {
		t.Fatalf("pending %d", p)
	}
	c.ProcessPull("in", []byte(`5`))
	ms := r.wait(t, 2)
	if !strings.Contains(string(ms[0].Hdr), "Nats-Msg-Size: 1") || len(ms[0].Data) != 0 || !strings.HasPrefix(ms[0].Reply, "$JS.ACK.S.C.1.5.1.") || !strings.HasSuffix(ms[1].Reply, ".0") {
		t.Fatalf("%+v", ms)
	}
}

func TestRestoreWithJournal(t *testing.T) {
	st := newStore(t, 3)
	cs, _ := st.ConsumerStore("C")
	cs.Update(&store.ConsumerState{Delivered: store.SequencePair{Consumer: 1, Stream: 1},
		Pending: map[uint64]*store.Pending{1: {Sequence: 1, Timestamp: time.Now().UnixNano()}}})
	r := &rec{}
	cfg := api.ConsumerConfig{Durable: "C", AckPolicy: api.AckExplicit, AckWait: time.Hour}
	saved, _ := cs.State()
	c := New(Env{Stream: "S", Name: "C", Store: st, State: cs, Send: r.send}, cfg, time.Now(), saved, 1, 2)
	defer c.Stop(false)
	// 1 was pending and is acked by the journal; 2 was acked ahead of the
	// stored delivered sequence: only 3 is delivered.
	c.ProcessPull("in", []byte(`{"batch":3,"no_wait":true}`))
	ms := r.wait(t, 2)
	if !strings.HasPrefix(ms[0].Reply, "$JS.ACK.S.C.1.3.2.") || status(ms[1]) != "404 No Messages" {
		t.Fatalf("%+v", ms)
	}
}

func TestCheckConfig(t *testing.T) {
	scfg := api.StreamConfig{Name: "S", Subjects: []string{"s.>"}}
	for _, tc := range []struct {
		cfg  api.ConsumerConfig
		code uint16
	}{
		{api.ConsumerConfig{DeliverSubject: "s.x"}, 10081},
		{api.ConsumerConfig{DeliverSubject: "d.*"}, 10079},
		{api.ConsumerConfig{DeliverSubject: "d", Heartbeat: time.Millisecond}, 10083},
		{api.ConsumerConfig{FilterSubject: "a", FilterSubjects: []string{"b"}}, 10136},
		{api.ConsumerConfig{FilterSubjects: []string{""}}, 10139},
		{api.ConsumerConfig{BackOff: []time.Duration{time.Second, time.Second}, MaxDeliver: 1}, 10116},
		{api.ConsumerConfig{SampleFrequency: "x%"}, 10095},
		{api.ConsumerConfig{PriorityPolicy: api.PriorityOverflow}, 10159},
		{api.ConsumerConfig{PriorityPolicy: api.PriorityOverflow, PriorityGroups: []string{"bad group"}}, 10162},
		{api.ConsumerConfig{Durable: "a.b"}, 10052},
		{api.ConsumerConfig{Replicas: 3}, 10126},
	} {
		cfg := tc.cfg
		SetDefaults(&cfg, &scfg, 0)
		if e := Check(&cfg, &scfg, 0); e == nil || e.ErrCode != tc.code {
			t.Errorf("%+v: %v, want %d", tc.cfg, e, tc.code)
		}
	}
	if Overlap("a.*", "a.b.c") || !Overlap("a.>", "a.b.c") || !Overlap("*.b", "a.*") {
		t.Error("overlap")
	}
}
