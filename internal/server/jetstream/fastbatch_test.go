package jetstream_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
	"github.com/sluicehq/sluice/internal/testutil/refbin"
)

// fastPub drives the fast batch protocol by hand: every message carries
// its batch position in the reply subject and the answers come back on
// the inbox.
type fastPub struct {
	t      *testing.T
	nc     *nats.Conn
	prefix string // <inbox>.<flow>.<gap>.
	got    chan string
}

func newFastPub(t *testing.T, nc *nats.Conn, id string, flow int, gap string) *fastPub {
	inbox := "_INBOX.fast." + id
	p := &fastPub{t: t, nc: nc, prefix: fmt.Sprintf("%s.%d.%s.", inbox, flow, gap), got: make(chan string, 1000)}
	sub, err := nc.Subscribe(inbox+".>", func(m *nats.Msg) { p.got <- string(m.Data) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Unsubscribe() })
	nc.Flush()
	return p
}

func (p *fastPub) send(subj string, seq, op int, hdr ...string) {
	m := nats.NewMsg(subj)
	m.Reply = fmt.Sprintf("%s%d.%d.$FI", p.prefix, seq, op)
	m.Data = []byte("x")
	for i := 0; i+1 < len(hdr); i += 2 {
		m.Header.Set(hdr[i], hdr[i+1])
	}
	if err := p.nc.PublishMsg(m); err != nil {
		p.t.Fatal(err)
	}
}

// next waits for the next answer.
func (p *fastPub) next() string {
	p.t.Helper()
	select {
	case s := <-p.got:
		return s
	case <-time.After(5 * time.Second):
		p.t.Fatal("no answer")
		return ""
	}
}

// none checks that nothing more came back.
func (p *fastPub) none() {
	p.t.Helper()
	p.nc.Flush()
	select {
	case s := <-p.got:
		p.t.Fatalf("unexpected answer %s", s)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestFastBatchMatchesReference runs the fast batch exchanges on both
// servers and expects the same answers: the first flow ack, flow acks
// every <flow> messages, gaps, per-message errors and the commit PubAck.
func TestFastBatchMatchesReference(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		nc, err := nats.Connect(url, nats.UserInfo(srvtest.AppUser, srvtest.AppPass))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		j, _ := jetstream.New(nc)
		c := ctx(t)
		if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "F", Subjects: []string{"f.>"}, Storage: jetstream.MemoryStorage, AllowBatchPublish: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "NOFAST", Subjects: []string{"n.>"}, Storage: jetstream.MemoryStorage}); err != nil {
			t.Fatal(err)
		}

		// A clean batch: flow acks every 2 messages, then commit.
		p := newFastPub(t, nc, "one", 2, "fail")
		p.send("f.a", 1, 0)
		if got := p.next(); got != `{"type":"ack","seq":0,"msgs":2}` {
			t.Fatalf("first flow ack %s", got)
		}
		for seq := 2; seq <= 5; seq++ {
			p.send("f.a", seq, 1)
		}
		for _, want := range []string{`{"type":"ack","seq":2,"msgs":2}`, `{"type":"ack","seq":4,"msgs":2}`} {
			if got := p.next(); got != want {
				t.Fatalf("flow ack %s, want %s", got, want)
			}
		}
		p.send("f.a", 6, 2)
		if got := p.next(); got != `{"stream":"F","seq":6,"batch":"one","count":6}` {
			t.Fatalf("commit %s", got)
		}
		p.none()

		// End of batch without a message; a ping first.
		p = newFastPub(t, nc, "two", 10, "fail")
		p.send("f.b", 1, 0)
		p.next()
		p.send("f.b", 2, 1)
		p.send("f.b", 2, 4)
		if got := p.next(); got != `{"type":"ack","seq":0,"msgs":10}` {
			t.Fatalf("ping answer %s", got)
		}
		p.send("f.b", 3, 3)
		if got := p.next(); got != `{"stream":"F","seq":8,"batch":"two","count":2}` {
			t.Fatalf("eob commit %s", got)
		}

		// A gap in fail mode ends the batch with what was stored.
		p = newFastPub(t, nc, "three", 10, "fail")
		p.send("f.c", 1, 0)
		p.next()
		p.send("f.c", 3, 1)
		if got := p.next(); got != `{"type":"gap","last_seq":2,"seq":3}` {
			t.Fatalf("gap %s", got)
		}
		if got := p.next(); got != `{"stream":"F","seq":9,"batch":"three","count":1}` {
			t.Fatalf("gap commit %s", got)
		}
		// ... and the batch is gone.
		p.send("f.c", 4, 1)
		if got := p.next(); !strings.Contains(got, `"err_code":10208`) {
			t.Fatalf("unknown batch %s", got)
		}

		// Gap ok: reported, batch goes on; a failed message is reported.
		p = newFastPub(t, nc, "four", 10, "ok")
		p.send("f.d", 1, 0)
		p.next()
		p.send("f.d", 3, 1)
		if got := p.next(); got != `{"type":"gap","last_seq":2,"seq":3}` {
			t.Fatalf("gap ok %s", got)
		}
		p.send("f.d", 4, 1, "Nats-Expected-Stream", "OTHER")
		if got := p.next(); !strings.HasPrefix(got, `{"type":"err","seq":4,"error":{"code":400,"err_code":10060`) {
			t.Fatalf("flow err %s", got)
		}
		p.send("f.d", 5, 2)
		if got := p.next(); got != `{"stream":"F","seq":12,"batch":"four","count":5}` {
			t.Fatalf("gap ok commit %s", got)
		}

		// The first message failing answers like a plain publish.
		p = newFastPub(t, nc, "five", 10, "fail")
		p.send("f.e", 1, 0, "Nats-Expected-Stream", "OTHER")
		p.next() // the first flow ack comes before the check
		if got := p.next(); !strings.Contains(got, `"err_code":10060`) || strings.Contains(got, `"type"`) {
			t.Fatalf("first message error %s", got)
		}

		// Refusals.
		for _, tc := range []struct {
			subj, reply, code string
		}{
			{"n.x", "_INBOX.r.x.10.fail.1.0.$FI", "10205"},       // not allowed
			{"f.x", "_INBOX.r.x.10.fail.2.0.$FI", "10206"},       // start must be 1
			{"f.x", "_INBOX.r.x.10.bad.1.0.$FI", "10206"},        // gap mode
			{"f.x", "_INBOX.r.unknown.10.fail.2.1.$FI", "10208"}, // unknown batch
			{"f.x", "_INBOX.r." + strings.Repeat("i", 65) + ".10.fail.1.0.$FI", "10207"},
		} {
			sub, _ := nc.SubscribeSync(tc.reply)
			m := nats.NewMsg(tc.subj)
			m.Reply = tc.reply
			nc.PublishMsg(m)
			got, err := sub.NextMsg(5 * time.Second)
			sub.Unsubscribe()
			if err != nil {
				t.Fatalf("%s: %v", tc.reply, err)
			}
			if !strings.Contains(string(got.Data), `"err_code":`+tc.code) {
				t.Fatalf("%s: %s, want %s", tc.reply, got.Data, tc.code)
			}
		}
		info, err := j.Stream(c, "F")
		if err != nil {
			t.Fatal(err)
		}
		if st := info.CachedInfo().State; st.Msgs != 12 {
			t.Fatalf("stored %d, want 12", st.Msgs)
		}
	})
}

// TestNatsBenchCreate runs natscli v0.5.1's benchmarks that create their
// stream (asking for allow_batched, API level 3) against both servers.
// natscli's `bench js pub fast` asks for API level 4, which sluice does
// not claim (see APILevel); the fast batch protocol itself is checked by
// TestFastBatchMatchesReference.
func TestNatsBenchCreate(t *testing.T) {
	bin := refbin.NATSCLI(t)
	srvtest.JetStream(t, func(t *testing.T, url string) {
		for _, args := range [][]string{
			{"bench", "js", "pub", "batch", "bench.f", "--create", "--msgs", "2000", "--batch", "100", "--no-progress"},
			{"bench", "js", "pub", "async", "bench.f", "--create", "--msgs", "2000", "--batch", "100", "--no-progress"},
		} {
			cmd := exec.Command(bin, append([]string{"-s", url, "--user", srvtest.AppUser, "--password", srvtest.AppPass}, args...)...)
			cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "msgs/sec") {
				t.Fatalf("nats %v: %v\n%s", args[3], err, out)
			}
		}
		nc, err := nats.Connect(url, nats.UserInfo(srvtest.AppUser, srvtest.AppPass))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		j, _ := jetstream.New(nc)
		s, err := j.Stream(ctx(t), "benchstream")
		if err != nil {
			t.Fatal(err)
		}
		info := s.CachedInfo()
		if st := info.State; st.Msgs != 4000 || !info.Config.AllowBatchPublish {
			t.Fatalf("benchstream holds %d messages (allow_batched %v), want 4000", st.Msgs, info.Config.AllowBatchPublish)
		}
	})
}
