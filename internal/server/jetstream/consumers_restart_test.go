package jetstream_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
	"github.com/sluicehq/sluice/internal/server"
	js "github.com/sluicehq/sluice/internal/server/jetstream"
	"github.com/sluicehq/sluice/internal/testutil"
	"github.com/sluicehq/sluice/internal/testutil/refbin"
)

// restartScenario makes, on a file stream, a durable, an ephemeral, a
// mem_storage durable and an ordered consumer, restarts the server and
// returns the consumers there before and after.
func restartScenario(t *testing.T, start func(t *testing.T) string) (before, after []string) {
	names := func(t *testing.T, j jetstream.JetStream) []string {
		st, err := j.Stream(ctx(t), "F")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		l := st.ListConsumers(ctx(t))
		for ci := range l.Info() {
			kind := "durable"
			if ci.Config.Durable == "" {
				kind = "ephemeral"
			}
			if ci.Config.MemoryStorage {
				kind += "+mem"
			}
			if ci.Name == "E1" || ci.Name == "D" || ci.Name == "M" { // the ordered one has a random name
				out = append(out, ci.Name+":"+kind)
			} else {
				out = append(out, "ordered:"+kind)
			}
		}
		sort.Strings(out)
		return out
	}
	t.Run("before", func(t *testing.T) {
		nc, err := nats.Connect(start(t))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		j, _ := jetstream.New(nc)
		st, err := j.CreateStream(ctx(t), jetstream.StreamConfig{Name: "F", Subjects: []string{"f.>"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, cfg := range []jetstream.ConsumerConfig{
			{Durable: "D", AckPolicy: jetstream.AckExplicitPolicy},
			{Name: "E1", AckPolicy: jetstream.AckExplicitPolicy, InactiveThreshold: 60e9},
			{Durable: "M", AckPolicy: jetstream.AckExplicitPolicy, MemoryStorage: true},
		} {
			if _, err := st.CreateConsumer(ctx(t), cfg); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := st.OrderedConsumer(ctx(t), jetstream.OrderedConsumerConfig{}); err != nil {
			t.Fatal(err)
		}
		if _, err := j.Publish(ctx(t), "f.a", []byte("x")); err != nil {
			t.Fatal(err)
		}
		before = names(t, j)
	})
	t.Run("after", func(t *testing.T) {
		nc, err := nats.Connect(start(t))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		j, _ := jetstream.New(nc)
		after = names(t, j)
	})
	return before, after
}

// TestConsumerKindsAcrossRestart: which consumers come back after a
// restart is what nats-server keeps: durables and ephemerals of file
// streams, not mem_storage ones (ordered consumers are mem_storage).
func TestConsumerKindsAcrossRestart(t *testing.T) {
	var got [][2][]string
	t.Run("nats-server", func(t *testing.T) {
		dir := t.TempDir()
		conf := filepath.Join(dir, "ref.conf")
		os.WriteFile(conf, []byte(fmt.Sprintf("listen: 127.0.0.1:-1\nports_file_dir: %q\njetstream { store_dir: %q }\n", dir, filepath.Join(dir, "js"))), 0o600)
		bin := refbin.NATSServer(t)
		b, a := restartScenario(t, func(t *testing.T) string { return srvtest.StartProcess(t, bin, conf, dir) })
		got = append(got, [2][]string{b, a})
	})
	t.Run("sluice", func(t *testing.T) {
		dir := t.TempDir()
		b, a := restartScenario(t, func(t *testing.T) string {
			s := testutil.RunServer(t, func(o *server.Options) { o.JetStream = &js.Config{Enabled: true, StoreDir: dir} })
			return s.ClientURL()
		})
		got = append(got, [2][]string{b, a})
	})
	for _, g := range got {
		t.Logf("before %v after %v", g[0], g[1])
	}
	if len(got) == 2 && (fmt.Sprint(got[0]) != fmt.Sprint(got[1])) {
		t.Fatalf("nats-server %v, sluice %v", got[0], got[1])
	}
}
