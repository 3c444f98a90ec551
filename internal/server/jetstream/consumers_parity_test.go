package jetstream_test

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
)

// rawClient speaks the client protocol by hand to a server of
// srvtest.JetStream, as its app user, to see a delivery's exact bytes.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialRawURL(t *testing.T, u string) *rawClient {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", pu.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	rc := &rawClient{t: t, conn: conn, r: bufio.NewReader(conn)}
	rc.line() // INFO
	rc.send(fmt.Sprintf(`CONNECT {"verbose":false,"headers":true,"no_responders":true,"protocol":1,"user":%q,"pass":%q}`+"\r\nPING\r\n", srvtest.AppUser, srvtest.AppPass))
	for l := rc.line(); l != "PONG\r\n"; l = rc.line() {
		if strings.HasPrefix(l, "-ERR") {
			t.Fatalf("connect: %s", l)
		}
	}
	return rc
}

func (rc *rawClient) send(s string) {
	rc.t.Helper()
	rc.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := rc.conn.Write([]byte(s)); err != nil {
		rc.t.Fatal(err)
	}
}

func (rc *rawClient) line() string {
	rc.t.Helper()
	rc.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	l, err := rc.r.ReadString('\n')
	if err != nil {
		rc.t.Fatalf("read: %v (got %q)", err, l)
	}
	return l
}

// hmsg reads the next HMSG and returns its subject and header block.
func (rc *rawClient) hmsg() (string, string) {
	rc.t.Helper()
	l := rc.line()
	for l == "PING\r\n" || strings.HasPrefix(l, "INFO ") {
		if l == "PING\r\n" {
			rc.send("PONG\r\n")
		}
		l = rc.line()
	}
	f := strings.Fields(l)
	if len(f) < 5 || f[0] != "HMSG" {
		rc.t.Fatalf("want HMSG, got %q", l)
	}
	hl, _ := strconv.Atoi(f[len(f)-2])
	tl, _ := strconv.Atoi(f[len(f)-1])
	buf := make([]byte, tl+2)
	rc.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := ioReadFull(rc.r, buf); err != nil {
		rc.t.Fatal(err)
	}
	return f[1], string(buf[:hl])
}

func ioReadFull(r *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// TestConsumerPinIdOnBareRequest: a pinned_client consumer answering a
// request without a priority group (a bare batch number) sends the
// Nats-Pin-Id header empty, byte for byte as nats-server.
func TestConsumerPinIdOnBareRequest(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		nc, j := refConn(t, url)
		if _, err := j.CreateStream(ctx(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.MemoryStorage}); err != nil {
			t.Fatal(err)
		}
		j.Publish(ctx(t), "s.a", []byte("one"))
		m := nats.NewMsg("s.b")
		m.Header.Set("X", "y")
		m.Data = []byte("two")
		if _, err := j.PublishMsg(ctx(t), m); err != nil {
			t.Fatal(err)
		}
		addConsumer(t, nc, `{"durable_name":"P","ack_policy":"explicit","priority_policy":"pinned_client","priority_groups":["g"],"priority_timeout":5000000000}`)
		rc := dialRawURL(t, url)
		rc.send("SUB raw.inbox 1\r\nPUB $JS.API.CONSUMER.MSG.NEXT.S.P raw.inbox 1\r\n1\r\nPUB $JS.API.CONSUMER.MSG.NEXT.S.P raw.inbox 0\r\n\r\n")
		want := []string{"s.a NATS/1.0\r\nNats-Pin-Id: \r\n\r\n", "s.b NATS/1.0\r\nX: y\r\nNats-Pin-Id: \r\n\r\n"}
		for _, w := range want {
			subj, hdr := rc.hmsg()
			if got := subj + " " + hdr; got != w {
				t.Fatalf("got %q, want %q", got, w)
			}
		}
	})
}

// TestConsumerRateLimitCountsAckSubject: rate_limit_bps counts the ack
// subject with the message, and bursts by the stream's max_msg_size.
func TestConsumerRateLimitCountsAckSubject(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		nc, j := refConn(t, url)
		if _, err := j.CreateStream(ctx(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.MemoryStorage, MaxMsgSize: 200}); err != nil {
			t.Fatal(err)
		}
		const n = 40
		for i := 0; i < n; i++ {
			if _, err := j.Publish(ctx(t), "s.a", []byte{'x'}); err != nil {
				t.Fatal(err)
			}
		}
		sub, err := nc.SubscribeSync("d.rate")
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		// 1,000 bytes a second: 40 messages of 4 bytes fit the 200 byte
		// burst, but with their ~45 byte ack subjects they take seconds.
		addConsumer(t, nc, `{"durable_name":"R","ack_policy":"none","deliver_subject":"d.rate","rate_limit_bps":8000}`)
		for i := 0; i < n; i++ {
			if _, err := sub.NextMsg(20 * time.Second); err != nil {
				t.Fatal(err)
			}
		}
		d := time.Since(start)
		t.Logf("%d messages in %v", n, d)
		if d < 1200*time.Millisecond {
			t.Fatalf("%d messages with ack subjects at 1,000 B/s after a 200 B burst took %v", n, d)
		}
	})
}

// TestConsumerFlowControlWindow: a push consumer's flow control window
// starts at 2 MiB (a request once half of it is out) and doubles with
// each answered request up to 32 MiB, as in nats-server.
func TestConsumerFlowControlWindow(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		nc, j := refConn(t, url)
		if _, err := j.CreateStream(ctx(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.MemoryStorage}); err != nil {
			t.Fatal(err)
		}
		// Requests come after 5, 9, 17, 34, 68 and 68 messages of
		// 250,000 bytes: past 1, 2, 4, 8, 16 and 16 MiB.
		want := []int{5, 9, 17, 34, 68, 68}
		total := 0
		for _, w := range want {
			total += w
		}
		data := make([]byte, 250_000)
		for i := 0; i < total; i++ {
			if _, err := j.Publish(ctx(t), "s.a", data); err != nil {
				t.Fatal(err)
			}
		}
		sub, err := nc.SubscribeSync("d.fc")
		if err != nil {
			t.Fatal(err)
		}
		sub.SetPendingLimits(-1, -1)
		addConsumer(t, nc, `{"durable_name":"F","ack_policy":"none","deliver_subject":"d.fc","flow_control":true,"idle_heartbeat":1000000000}`)
		var got []int
		msgs := 0
		for len(got) < len(want) {
			m, err := sub.NextMsg(10 * time.Second)
			if err != nil {
				t.Fatalf("after %d messages, requests %v: %v", msgs, got, err)
			}
			switch {
			case m.Header.Get("Status") == "" && len(m.Data) == len(data):
				msgs++
			case m.Header.Get("Description") == "FlowControl Request":
				got = append(got, msgs)
				msgs = 0
				m.Respond(nil)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("messages between flow control requests %v, want %v", got, want)
		}
	})
}
