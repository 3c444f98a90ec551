package jetstream_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
	"github.com/sluicehq/sluice/internal/testutil/refbin"
)

// interestConf: account A has JetStream and exports its consumer C's
// next-message subject; B imports it, and D imports it from B.
const interestConf = `listen: 127.0.0.1:-1
ports_file_dir: %q
jetstream { store_dir: %q }
accounts {
  A { users: [{user: a, password: a}], jetstream: enabled,
      exports: [ {service: "$JS.API.CONSUMER.MSG.NEXT.S.C", response_type: stream} ] }
  B { users: [{user: b, password: b}],
      imports: [ {service: {account: A, subject: "$JS.API.CONSUMER.MSG.NEXT.S.C"}} ],
      exports: [ {service: "$JS.API.CONSUMER.MSG.NEXT.S.C", response_type: stream} ] }
  D { users: [{user: d, password: d}],
      imports: [ {service: {account: B, subject: "$JS.API.CONSUMER.MSG.NEXT.S.C"}} ] }
}
`

// interestExpired pulls through imports, lets the requester's interest go
// and stores a message: what A sees on the import's reply subjects, and
// what the requester got.
func interestExpired(t *testing.T, url string) string {
	conn := func(user string) *nats.Conn {
		nc, err := nats.Connect(url, nats.UserInfo(user, user))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	a, b, d := conn("a"), conn("b"), conn("d")
	ja, _ := jetstream.New(a)
	if _, err := ja.CreateStream(ctx(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.MemoryStorage}); err != nil {
		t.Fatal(err)
	}
	addConsumer(t, a, `{"durable_name":"C","ack_policy":"explicit"}`)
	// What crosses from A to the importers, seen in A.
	sniff, err := a.SubscribeSync("_R_.>")
	if err != nil {
		t.Fatal(err)
	}
	a.Flush()
	var out []string
	seen := func(n int) {
		for i := 0; i < n; i++ {
			m, err := sniff.NextMsg(5 * time.Second)
			if err != nil {
				t.Fatalf("A saw %v; then %v", out, err)
			}
			on := m.Subject
			if strings.HasPrefix(on, "_R_.") {
				on = "the import's reply"
			}
			out = append(out, "A saw "+describe(m)+" on "+on)
		}
	}
	waiting := func(n int) {
		waitFor(t, func() bool { return numWaiting(t, a, "C") == n })
	}
	pull := func(nc *nats.Conn, body string) (*nats.Subscription, string) {
		inbox := nats.NewInbox()
		sub, err := nc.SubscribeSync(inbox)
		if err != nil {
			t.Fatal(err)
		}
		nc.Flush()
		if err := nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.S.C", inbox, []byte(body)); err != nil {
			t.Fatal(err)
		}
		nc.Flush()
		return sub, inbox
	}
	publish := func(data string) {
		if _, err := ja.Publish(ctx(t), "s.a", []byte(data)); err != nil {
			t.Fatal(err)
		}
	}

	// Through one import, while B listens: a message, then a timeout.
	sub, inbox := pull(b, `{"batch":2,"expires":1500000000}`)
	waiting(1)
	publish("one")
	seen(1)
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, fmt.Sprintf("B got %s on %s", describe(m), m.Subject))
	seen(1)
	m, err = sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, fmt.Sprintf("B got %s on inbox %v", describe(m), m.Subject == inbox))

	// B stops listening: the next message finds no interest, and the
	// request ends with 408 Interest Expired.
	sub, _ = pull(b, `{"batch":3,"max_bytes":1000,"expires":30000000000}`)
	waiting(1)
	sub.Unsubscribe()
	b.Flush()
	publish("two")
	seen(1)
	waiting(0)

	// Through two imports (D from B from A): "two" is there at once.
	sub, _ = pull(d, `{"batch":4,"expires":30000000000}`)
	seen(1)
	waiting(1)
	sub.Unsubscribe()
	d.Flush()
	publish("three")
	seen(1)
	waiting(0)

	// In A itself ("three" is there at once): the request just goes.
	sub, _ = pull(a, `{"batch":5,"expires":30000000000}`)
	if _, err := sub.NextMsg(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	waiting(1)
	sub.Unsubscribe()
	a.Flush()
	publish("four")
	waiting(0)
	if m, err := sniff.NextMsg(300 * time.Millisecond); err == nil {
		out = append(out, "A then saw "+describe(m))
	}
	ci := info(t, a, "C")
	out = append(out, fmt.Sprintf("delivered %d ack pending %d", ci.Delivered.Stream, ci.NumAckPending))
	return strings.Join(out, "\n")
}

// TestConsumerInterestExpired: a pull request that came through service
// imports and whose requester stopped listening ends with 408 Interest
// Expired when a message is there for it; one from the consumer's own
// account just goes. As in nats-server.
func TestConsumerInterestExpired(t *testing.T) {
	var got []string
	t.Run("nats-server", func(t *testing.T) {
		dir := t.TempDir()
		conf := filepath.Join(dir, "ref.conf")
		os.WriteFile(conf, []byte(fmt.Sprintf(interestConf, dir, filepath.Join(dir, "js"))), 0o600)
		got = append(got, interestExpired(t, srvtest.StartProcess(t, refbin.NATSServer(t), conf, dir)))
		t.Log("\n" + got[len(got)-1])
	})
	t.Run("sluice", func(t *testing.T) {
		dir := t.TempDir()
		conf := filepath.Join(dir, "sl.conf")
		os.WriteFile(conf, []byte(fmt.Sprintf(interestConf, dir, filepath.Join(dir, "js"))), 0o600)
		var opts server.Options
		if _, err := opts.ProcessConfigFile(conf, true); err != nil {
			t.Fatal(err)
		}
		opts.Host, opts.Port = "127.0.0.1", server.RandomPort
		s := testutil.RunServer(t, func(o *server.Options) { *o = opts })
		got = append(got, interestExpired(t, s.ClientURL()))
		t.Log("\n" + got[len(got)-1])
	})
	if len(got) == 2 && got[0] != got[1] {
		t.Fatalf("nats-server:\n%s\nsluice:\n%s", got[0], got[1])
	}
}
