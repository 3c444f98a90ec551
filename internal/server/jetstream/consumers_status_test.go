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
	"github.com/sluicehq/sluice/internal/testutil"
)

// refConn connects to a server of srvtest.JetStream as its app user.
func refConn(t *testing.T, url string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url, nats.UserInfo(srvtest.AppUser, srvtest.AppPass))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	j, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, j
}

// puller sends raw pull requests and reads what comes back on one inbox.
type puller struct {
	t     *testing.T
	nc    *nats.Conn
	inbox string
	sub   *nats.Subscription
}

func newPuller(t *testing.T, nc *nats.Conn) *puller {
	t.Helper()
	p := &puller{t: t, nc: nc, inbox: nats.NewInbox()}
	sub, err := nc.SubscribeSync(p.inbox)
	if err != nil {
		t.Fatal(err)
	}
	p.sub = sub
	nc.Flush()
	return p
}

func (p *puller) pull(consumer, body string) {
	p.t.Helper()
	if err := p.nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.S."+consumer, p.inbox, []byte(body)); err != nil {
		p.t.Fatal(err)
	}
}

// next describes the next message: "msg <data>" or the status line with
// the pending headers when present.
func (p *puller) next() string {
	p.t.Helper()
	m, err := p.sub.NextMsg(5 * time.Second)
	if err != nil {
		p.t.Fatalf("nothing received: %v", err)
	}
	return describe(m)
}

func describe(m *nats.Msg) string {
	st := m.Header.Get("Status")
	if st == "" {
		return "msg " + string(m.Data)
	}
	s := st + " " + m.Header.Get("Description")
	if v := m.Header.Get("Nats-Pending-Messages"); v != "" {
		s += " msgs=" + v + " bytes=" + m.Header.Get("Nats-Pending-Bytes")
	}
	return strings.TrimSpace(s)
}

// silent fails if anything arrives within d.
func (p *puller) silent(d time.Duration) {
	p.t.Helper()
	if m, err := p.sub.NextMsg(d); err == nil {
		p.t.Fatalf("unexpected %q", describe(m))
	}
}

func addConsumer(t *testing.T, nc *nats.Conn, cfg string) {
	t.Helper()
	var c struct {
		Durable string `json:"durable_name"`
	}
	json.Unmarshal([]byte(cfg), &c)
	m, err := nc.Request("$JS.API.CONSUMER.CREATE.S."+c.Durable, []byte(`{"stream_name":"S","config":`+cfg+`}`), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(m.Data), `"error"`) {
		t.Fatalf("create %s: %s", cfg, m.Data)
	}
}

// TestPullStatusesMatchReference drives pull requests into every status
// nats-server answers with and checks sluice answers the same.
func TestPullStatusesMatchReference(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		nc, j := refConn(t, url)
		if _, err := j.CreateStream(ctx(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.MemoryStorage}); err != nil {
			t.Fatal(err)
		}
		addConsumer(t, nc, `{"durable_name":"P","ack_policy":"explicit","max_ack_pending":1,"max_waiting":2}`)
		p := newPuller(t, nc)

		p.pull("P", `{"batch":1,"no_wait":true}`)
		if got := p.next(); got != "404 No Messages" {
			t.Fatalf("no_wait on empty: %q", got)
		}
		p.pull("P", `{"batch":2,"expires":100000000}`)
		if got := p.next(); got != "408 Request Timeout msgs=2 bytes=0" {
			t.Fatalf("expired: %q", got)
		}
		p.pull("P", `{"batch":1,"idle_heartbeat":1000000000,"expires":1000000000}`)
		if got := p.next(); got != "400 Bad Request - heartbeat value too large" {
			t.Fatalf("heartbeat: %q", got)
		}
		p.pull("P", `{"batch":`)
		if got := p.next(); !strings.HasPrefix(got, "400 Bad Request - unexpected end of JSON input") {
			t.Fatalf("bad json: %q", got)
		}

		for i := 0; i < 3; i++ {
			if _, err := j.Publish(ctx(t), "s.a", []byte("0123456789")); err != nil {
				t.Fatal(err)
			}
		}
		// A request for 10 takes one (max_ack_pending 1) and waits for
		// nine more; a no_wait asking while fewer than that are left is
		// refused.
		p.pull("P", `{"batch":10,"expires":3000000000}`)
		if got := p.next(); got != "msg 0123456789" {
			t.Fatalf("first: %q", got)
		}
		// The refusal counts the messages left: wait until the server's
		// count has them (nats-server's lagged once on a loaded machine
		// and it answered 404).
		testutil.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
			cons, err := j.Consumer(ctx(t), "S", "P")
			if err != nil {
				return err
			}
			if ci := cons.CachedInfo(); ci.NumPending != 2 {
				return fmt.Errorf("num_pending %d", ci.NumPending)
			}
			return nil
		})
		p2 := newPuller(t, nc)
		p2.pull("P", `{"batch":1,"no_wait":true}`)
		if got := p2.next(); got != "408 Requests Pending" {
			t.Fatalf("no_wait behind a waiting request: %q", got)
		}
		// max_waiting 2: the third waiting request is refused, silently
		// when it asks for heartbeats.
		p2.pull("P", `{"batch":1,"expires":3000000000}`)
		p3 := newPuller(t, nc)
		p3.pull("P", `{"batch":1,"expires":3000000000}`)
		if got := p3.next(); got != "409 Exceeded MaxWaiting" {
			t.Fatalf("max waiting: %q", got)
		}
		p3.pull("P", `{"batch":1,"expires":3000000000,"idle_heartbeat":1000000000}`)
		p3.silent(200 * time.Millisecond)

		// Size limits, on a second consumer without max_ack_pending.
		addConsumer(t, nc, `{"durable_name":"B","ack_policy":"none"}`)
		p4 := newPuller(t, nc)
		p4.pull("B", `{"batch":5,"max_bytes":20,"expires":1000000000}`)
		if got := p4.next(); got != "409 Message Size Exceeds MaxBytes msgs=5 bytes=20" {
			t.Fatalf("max bytes: %q", got)
		}
		// The size counted is subject, ack reply, headers and data, as in
		// nats-server: what is left tells.
		p4.pull("B", `{"batch":1,"max_bytes":1000,"expires":1000000000}`)
		if got := p4.next(); got != "msg 0123456789" {
			t.Fatalf("batch: %q", got)
		}
		got := p4.next()
		if !strings.HasPrefix(got, "409 Batch Completed msgs=0 bytes=") {
			t.Fatalf("batch completed: %q", got)
		}
		// 1000 - (3 + len("$JS.ACK.S.B.1.1.1.<19 digits>.2") + 10)
		if want := "409 Batch Completed msgs=0 bytes=948"; got != want {
			t.Fatalf("left %q, want %q", got, want)
		}
		// A body that is no number is a request for one message.
		p4.pull("B", `many`)
		if got := p4.next(); got != "msg 0123456789" {
			t.Fatalf("text body: %q", got)
		}

		// A request needing a newer API level than the server's.
		req := nats.NewMsg("$JS.API.CONSUMER.MSG.NEXT.S.B")
		req.Reply = p4.inbox
		req.Header.Set("Nats-Required-Api-Level", "99")
		nc.PublishMsg(req)
		if got := p4.next(); got != "412 Required Api Level" {
			t.Fatalf("api level: %q", got)
		}

		addConsumer(t, nc, `{"durable_name":"PUSH","ack_policy":"none","deliver_subject":"push.here"}`)
		p4.pull("PUSH", `1`)
		if got := p4.next(); got != "409 Consumer is push based" {
			t.Fatalf("push: %q", got)
		}

		// Deleting a consumer tells its waiting requests.
		addConsumer(t, nc, `{"durable_name":"GONE","ack_policy":"explicit","deliver_policy":"new"}`)
		p5 := newPuller(t, nc)
		p5.pull("GONE", `{"batch":1,"expires":5000000000}`)
		waitFor(t, func() bool { return numWaiting(t, nc, "GONE") == 1 })
		if m, err := nc.Request("$JS.API.CONSUMER.DELETE.S.GONE", nil, 5*time.Second); err != nil || strings.Contains(string(m.Data), "error") {
			t.Fatalf("delete: %v", err)
		}
		if got := p5.next(); got != "409 Consumer Deleted" {
			t.Fatalf("deleted: %q", got)
		}
	})
}

func numWaiting(t *testing.T, nc *nats.Conn, name string) int {
	t.Helper()
	m, err := nc.Request("$JS.API.CONSUMER.INFO.S."+name, nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var ci struct {
		NumWaiting int `json:"num_waiting"`
	}
	json.Unmarshal(m.Data, &ci)
	return ci.NumWaiting
}

// waitFor polls cond for up to 5 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
