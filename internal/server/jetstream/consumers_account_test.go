package jetstream_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
	"github.com/sluicehq/sluice/internal/testutil/refbin"
)

// crossAccountConf: account A has JetStream and exports its consumer C's
// next-message and ack subjects; B imports them; X imports nothing.
const crossAccountConf = `listen: 127.0.0.1:-1
ports_file_dir: %q
jetstream { store_dir: %q }
accounts {
  A { users: [{user: a, password: a}], jetstream: enabled,
      exports: [ {service: "$JS.API.CONSUMER.MSG.NEXT.S.C", response_type: stream}, {service: "$JS.ACK.S.C.>"} ] }
  B { users: [{user: b, password: b}],
      imports: [ {service: {account: A, subject: "$JS.API.CONSUMER.MSG.NEXT.S.C"}}, {service: {account: A, subject: "$JS.ACK.S.C.>"}} ] }
  X { users: [{user: x, password: x}] }
}
`

// crossAccountAcks pulls through an import, acknowledges from B (through
// the import), from X (no import) and for unknown sequences, and returns
// the consumer's ack floor and pending count seen from A.
func crossAccountAcks(t *testing.T, url string) string {
	conn := func(user string) *nats.Conn {
		nc, err := nats.Connect(url, nats.UserInfo(user, user))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	a, b, x := conn("a"), conn("b"), conn("x")
	ja, _ := jetstream.New(a)
	st, err := ja.CreateStream(ctx(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.MemoryStorage})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		ja.Publish(ctx(t), "s.a", []byte{'a' + byte(i)})
	}
	if _, err := st.CreateConsumer(ctx(t), jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	inbox := nats.NewInbox()
	sub, _ := b.SubscribeSync(inbox)
	b.Flush()
	b.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.S.C", inbox, []byte(`{"batch":4,"expires":2000000000}`))
	var msgs []*nats.Msg
	for len(msgs) < 4 {
		m, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("B got %d: %v", len(msgs), err)
		}
		msgs = append(msgs, m)
	}
	// AckSync from B through the import is answered.
	if _, err := b.Request(msgs[0].Reply, []byte("+ACK"), 5*time.Second); err != nil {
		t.Fatalf("ack sync from B: %v", err)
	}
	b.Publish(msgs[1].Reply, []byte("+ACK"))
	b.Flush()
	// X has no import: its ack goes nowhere.
	x.Publish(msgs[2].Reply, []byte("+ACK"))
	x.Flush()
	// Acks for sequences never delivered change nothing.
	a.Publish("$JS.ACK.S.C.1.99.99.0.0", []byte("+ACK"))
	a.Publish("$JS.ACK.S.C.1.3.77.0.0", []byte("+TERM"))
	a.Publish("$JS.ACK.S.C.x.y", []byte("+ACK"))
	a.Flush()
	var out string
	defer func() { t.Log("last info:", out) }()
	waitFor(t, func() bool {
		m, err := a.Request("$JS.API.CONSUMER.INFO.S.C", nil, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var ci resetResp
		json.Unmarshal(m.Data, &ci)
		out = fmt.Sprintf("B saw %s; floor %d pending %d", msgs[0].Subject, ci.AckFloor.Stream, ci.NumAckPending)
		return ci.AckFloor.Stream == 3 && ci.NumAckPending == 1
	})
	return out
}

// TestConsumerAcksFromOtherAccounts: acks reach a consumer from another
// account only through an import, as in nats-server.
func TestConsumerAcksFromOtherAccounts(t *testing.T) {
	var got []string
	t.Run("nats-server", func(t *testing.T) {
		dir := t.TempDir()
		conf := filepath.Join(dir, "ref.conf")
		os.WriteFile(conf, []byte(fmt.Sprintf(crossAccountConf, dir, filepath.Join(dir, "js"))), 0o600)
		got = append(got, crossAccountAcks(t, srvtest.StartProcess(t, refbin.NATSServer(t), conf, dir)))
	})
	t.Run("sluice", func(t *testing.T) {
		dir := t.TempDir()
		conf := filepath.Join(dir, "sl.conf")
		os.WriteFile(conf, []byte(fmt.Sprintf(crossAccountConf, dir, filepath.Join(dir, "js"))), 0o600)
		var opts server.Options
		if _, err := opts.ProcessConfigFile(conf, true); err != nil {
			t.Fatal(err)
		}
		opts.Host, opts.Port = "127.0.0.1", server.RandomPort
		s := testutil.RunServer(t, func(o *server.Options) { *o = opts })
		got = append(got, crossAccountAcks(t, s.ClientURL()))
	})
	t.Log(got)
	if len(got) == 2 && got[0] != got[1] {
		t.Fatalf("nats-server %q, sluice %q", got[0], got[1])
	}
}
