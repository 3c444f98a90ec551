package jetstream_test

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

type resetResp struct {
	Type  string `json:"type"`
	Error *struct {
		Code    int    `json:"code"`
		ErrCode int    `json:"err_code"`
		Desc    string `json:"description"`
	} `json:"error"`
	ResetSeq  uint64 `json:"reset_seq"`
	Delivered struct {
		Consumer uint64 `json:"consumer_seq"`
		Stream   uint64 `json:"stream_seq"`
	} `json:"delivered"`
	AckFloor struct {
		Consumer uint64 `json:"consumer_seq"`
		Stream   uint64 `json:"stream_seq"`
	} `json:"ack_floor"`
	NumPending    uint64 `json:"num_pending"`
	NumAckPending int    `json:"num_ack_pending"`
}

func reset(t *testing.T, nc *nats.Conn, consumer, body string) resetResp {
	t.Helper()
	m, err := nc.Request("$JS.API.CONSUMER.RESET.S."+consumer, []byte(body), 5*time.Second)
	if err != nil {
		t.Fatalf("reset %s: %v", consumer, err)
	}
	var r resetResp
	if err := json.Unmarshal(m.Data, &r); err != nil {
		t.Fatalf("%v: %s", err, m.Data)
	}
	return r
}

// TestConsumerReset: CONSUMER.RESET goes back to the ack floor or to a
// sequence, with nats-server's answers and errors.
func TestConsumerReset(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		nc, j := refConn(t, url)
		if _, err := j.CreateStream(ctx(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.MemoryStorage}); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 10; i++ {
			j.Publish(ctx(t), "s.a", []byte{'a' + byte(i)})
		}
		addConsumer(t, nc, `{"durable_name":"C","ack_policy":"explicit"}`)
		p := newPuller(t, nc)
		p.pull("C", `{"batch":4,"expires":2000000000}`)
		var acks []string
		for i := 0; i < 4; i++ {
			m, err := p.sub.NextMsg(5 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			acks = append(acks, m.Reply)
		}
		// Ack the first two: the floor is 2, two pending.
		for _, a := range acks[:2] {
			nc.Request(a, nil, 5*time.Second)
		}
		r := reset(t, nc, "C", "")
		if r.Error != nil || r.Type != "io.nats.jetstream.api.v1.consumer_reset_response" || r.ResetSeq != 3 ||
			r.Delivered.Stream != 2 || r.Delivered.Consumer != 0 || r.AckFloor.Stream != 2 || r.NumAckPending != 0 || r.NumPending != 8 {
			t.Fatalf("reset to floor %+v", r)
		}
		p.pull("C", `{"batch":1,"expires":2000000000}`)
		if got := p.next(); got != "msg c" {
			t.Fatalf("after reset: %q", got)
		}
		r = reset(t, nc, "C", `{"seq":8}`)
		if r.Error != nil || r.ResetSeq != 8 || r.Delivered.Stream != 7 || r.NumPending != 3 {
			t.Fatalf("reset to 8 %+v", r)
		}
		p.pull("C", `{"batch":1,"expires":2000000000}`)
		if got := p.next(); got != "msg h" {
			t.Fatalf("after reset to 8: %q", got)
		}
		// Asked for, the stream's identity comes with the answer.
		idm := nats.NewMsg("$JS.API.CONSUMER.RESET.S.C")
		idm.Header.Set("Nats-Stream-Identity", "x")
		idm.Data = []byte(`{"seq":8}`)
		am, err := nc.RequestMsg(idm, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		ident := am.Header.Get("Nats-Stream-Identity")
		if len(ident) < 8 || strings.Contains(string(am.Data), `"error"`) {
			t.Fatalf("identity %q: %s", ident, am.Data)
		}
		idm.Data = []byte(`{"seq":1}`)
		if am, err = nc.RequestMsg(idm, 5*time.Second); err != nil || am.Header.Get("Nats-Stream-Identity") != ident {
			t.Fatalf("identity again: %v %v", err, am.Header)
		}
		idm.Subject, idm.Data = "$JS.API.CONSUMER.RESET.S.C", []byte(`{"seq":`)
		if am, err = nc.RequestMsg(idm, 5*time.Second); err != nil || am.Header != nil && am.Header.Get("Nats-Stream-Identity") != "" {
			t.Fatalf("identity on an error: %v %v", err, am.Header)
		}
		if r = reset(t, nc, "C", `{"seq":`); r.Error == nil || r.Error.ErrCode != 10025 {
			t.Fatalf("bad json %+v", r)
		}

		addConsumer(t, nc, `{"durable_name":"SEQ","ack_policy":"explicit","deliver_policy":"by_start_sequence","opt_start_seq":5}`)
		if r = reset(t, nc, "SEQ", `{"seq":3}`); r.Error == nil || r.Error.ErrCode != 10204 || r.Error.Desc != "invalid reset: below start seq" {
			t.Fatalf("below start %+v", r)
		}
		if r = reset(t, nc, "SEQ", `{"seq":6}`); r.Error != nil || r.ResetSeq != 6 {
			t.Fatalf("above start %+v", r)
		}
		addConsumer(t, nc, `{"durable_name":"LAST","ack_policy":"explicit","deliver_policy":"last"}`)
		if r = reset(t, nc, "LAST", `{"seq":6}`); r.Error == nil || r.Error.Desc != "invalid reset: not allowed" {
			t.Fatalf("deliver last %+v", r)
		}
		// A missing consumer's reset gets no answer.
		if _, err := nc.Request("$JS.API.CONSUMER.RESET.S.NOPE", nil, 300*time.Millisecond); err != nats.ErrTimeout {
			t.Fatalf("missing consumer: %v", err)
		}
	})
}

// TestConsumerAckFlowControlConfig: ack_policy flow_control's defaults and
// errors match nats-server's.
func TestConsumerAckFlowControlConfig(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		nc, j := refConn(t, url)
		if _, err := j.CreateStream(ctx(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.MemoryStorage}); err != nil {
			t.Fatal(err)
		}
		for cfg, want := range map[string]string{
			`{"durable_name":"F","ack_policy":"flow_control"}`:                                                     `"err_code":10218`,
			`{"durable_name":"F","ack_policy":"flow_control","deliver_subject":"d.f","ack_wait":5000000000}`:       `"err_code":10221`,
			`{"durable_name":"F","ack_policy":"flow_control","deliver_subject":"d.f","max_deliver":3}`:             `"err_code":10222`,
			`{"durable_name":"F","ack_policy":"flow_control","deliver_subject":"d.f","max_ack_pending":-1}`:        `"err_code":10220`,
			`{"durable_name":"F","ack_policy":"flow_control","deliver_subject":"d.f","backoff":[1000000000]}`:      `"err_code":10221`,
			`{"durable_name":"F","ack_policy":"flow_control","deliver_subject":"d.f","idle_heartbeat":2000000000}`: `"config":{`,
			`{"durable_name":"F2","ack_policy":"flow_control","deliver_subject":"d.f2","flow_control":false}`:      `"config":{`,
		} {
			var c struct {
				Durable string `json:"durable_name"`
			}
			json.Unmarshal([]byte(cfg), &c)
			m, err := nc.Request("$JS.API.CONSUMER.CREATE.S."+c.Durable, []byte(`{"stream_name":"S","config":`+cfg+`}`), 5*time.Second)
			if err != nil || !strings.Contains(string(m.Data), want) {
				t.Fatalf("%s: %v %s, want %s", cfg, err, m.Data, want)
			}
			if want == `"config":{` {
				var ci struct {
					Config struct {
						FC  bool          `json:"flow_control"`
						HB  time.Duration `json:"idle_heartbeat"`
						MAP int           `json:"max_ack_pending"`
						AW  time.Duration `json:"ack_wait"`
						Lvl string        `json:"-"`
					} `json:"config"`
				}
				json.Unmarshal(m.Data, &ci)
				if !ci.Config.FC || ci.Config.HB != time.Second || ci.Config.MAP != 1000 || ci.Config.AW != 0 {
					t.Fatalf("%s: defaults %+v", cfg, ci.Config)
				}
				if !strings.Contains(string(m.Data), `"_nats.req.level":"4"`) {
					t.Fatalf("%s: level %s", cfg, m.Data)
				}
			}
		}
	})
}

// TestConsumerStepdownSingleServer: a step-down on a server that is not
// clustered gets nats-server's answer.
func TestConsumerStepdownSingleServer(t *testing.T) {
	var answers []string
	srvtest.JetStream(t, func(t *testing.T, url string) {
		nc, j := refConn(t, url)
		if _, err := j.CreateStream(ctx(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.MemoryStorage}); err != nil {
			t.Fatal(err)
		}
		addConsumer(t, nc, `{"durable_name":"C","ack_policy":"explicit"}`)
		got := ""
		for _, c := range []string{"C", "NOPE"} {
			m, err := nc.Request("$JS.API.CONSUMER.LEADER.STEPDOWN.S."+c, nil, 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			got += string(m.Data) + "\n"
		}
		answers = append(answers, got)
	})
	if len(answers) == 2 && answers[0] != answers[1] {
		t.Fatalf("nats-server:\n%s\nsluice:\n%s", answers[0], answers[1])
	}
}

// TestConsumerAckFlowControl: with ack_policy flow_control the reply to a
// flow control request acknowledges up to its Nats-Last-Stream header.
func TestConsumerAckFlowControl(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		nc, j := refConn(t, url)
		if _, err := j.CreateStream(ctx(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.MemoryStorage}); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			j.Publish(ctx(t), "s.a", []byte{'a' + byte(i)})
		}
		sub, err := nc.SubscribeSync("d.fc")
		if err != nil {
			t.Fatal(err)
		}
		addConsumer(t, nc, `{"durable_name":"F","ack_policy":"flow_control","deliver_subject":"d.fc"}`)
		var fc *nats.Msg
		for n := 0; fc == nil; n++ {
			m, err := sub.NextMsg(5 * time.Second)
			if err != nil {
				t.Fatalf("after %d: %v", n, err)
			}
			if m.Header.Get("Status") == "100" && m.Reply != "" {
				fc = m
			}
		}
		if c := info(t, nc, "F"); c.NumAckPending != 3 {
			t.Fatalf("before the reply: %+v", c)
		}
		reply := nats.NewMsg(fc.Reply)
		reply.Header.Set("Nats-Last-Consumer", "3")
		reply.Header.Set("Nats-Last-Stream", "3")
		if err := nc.PublishMsg(reply); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return info(t, nc, "F").NumAckPending == 0 })
		if c := info(t, nc, "F"); c.AckFloor.Stream != 3 {
			t.Fatalf("after the reply: %+v", c)
		}
	})
}

func info(t *testing.T, nc *nats.Conn, name string) resetResp {
	t.Helper()
	m, err := nc.Request("$JS.API.CONSUMER.INFO.S."+name, nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var r resetResp
	json.Unmarshal(m.Data, &r)
	return r
}

// resetRetention runs resets on a consumer of an interest or work-queue
// stream S (s.a ten times, then s.b twice; consumer B wants s.b only) and
// describes what the stream holds after each.
func resetRetention(t *testing.T, url string, retention jetstream.RetentionPolicy) string {
	nc, j := refConn(t, url)
	st, err := j.CreateStream(ctx(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.MemoryStorage, Retention: retention})
	if err != nil {
		t.Fatal(err)
	}
	addConsumer(t, nc, `{"durable_name":"C","ack_policy":"explicit","filter_subject":"s.a"}`)
	if retention == jetstream.InterestPolicy {
		addConsumer(t, nc, `{"durable_name":"B","ack_policy":"explicit","filter_subject":"s.b"}`)
	}
	for i := 0; i < 10; i++ {
		j.Publish(ctx(t), "s.a", []byte{'a' + byte(i)})
	}
	j.Publish(ctx(t), "s.b", []byte("x"))
	j.Publish(ctx(t), "s.b", []byte("y"))
	p := newPuller(t, nc)
	p.pull("C", `{"batch":3,"expires":2000000000}`)
	var acks []string
	for i := 0; i < 3; i++ {
		m, err := p.sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		acks = append(acks, m.Reply)
	}
	// The first acked: the floor is 1, 2 and 3 pending.
	nc.Request(acks[0], nil, 5*time.Second)
	var out []string
	state := func(what string, r resetResp) {
		si, err := st.Info(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		ci := info(t, nc, "C")
		out = append(out, fmt.Sprintf("%s: reset %d err %v delivered %d/%d floor %d/%d pending %d ack pending %d; stream %d msgs %d..%d",
			what, r.ResetSeq, r.Error != nil, ci.Delivered.Consumer, ci.Delivered.Stream, ci.AckFloor.Consumer, ci.AckFloor.Stream,
			ci.NumPending, ci.NumAckPending, si.State.Msgs, si.State.FirstSeq, si.State.LastSeq))
	}
	// Forward past what was delivered: 2 and 3 were pending, 4 and 5
	// never delivered.
	state("to 6", reset(t, nc, "C", `{"seq":6}`))
	p.pull("C", `{"batch":2,"expires":2000000000}`)
	for i := 0; i < 2; i++ {
		m, err := p.sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, "got "+string(m.Data))
		if i == 1 {
			nc.Request(m.Reply, nil, 5*time.Second)
		}
	}
	state("acked 7", resetResp{})
	// Back to the ack floor: 6 again.
	state("to floor", reset(t, nc, "C", ``))
	// Below the stream's first sequence.
	state("to 2", reset(t, nc, "C", `{"seq":2}`))
	p.pull("C", `{"batch":1,"expires":2000000000}`)
	m, err := p.sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, "got "+string(m.Data))
	return strings.Join(out, "\n")
}

// TestConsumerResetRetention: a reset on an interest stream acknowledges
// everything of the consumer's below the new start (removing what no
// other consumer wants); on a work queue it removes nothing. As in
// nats-server.
func TestConsumerResetRetention(t *testing.T) {
	for _, rp := range []jetstream.RetentionPolicy{jetstream.InterestPolicy, jetstream.WorkQueuePolicy} {
		t.Run(rp.String(), func(t *testing.T) {
			var got []string
			srvtest.JetStream(t, func(t *testing.T, url string) {
				got = append(got, resetRetention(t, url, rp))
				t.Log("\n" + got[len(got)-1])
			})
			if len(got) == 2 && got[0] != got[1] {
				t.Fatalf("nats-server:\n%s\nsluice:\n%s", got[0], got[1])
			}
		})
	}
}
