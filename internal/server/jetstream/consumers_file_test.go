package jetstream_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/server"
	js "github.com/sluicehq/sluice/internal/server/jetstream"
	"github.com/sluicehq/sluice/internal/testutil"
)

// A durable on a file stream: an AckSync is answered only once the ack is
// in the state file (what survives kill -9), and after a restart the
// acknowledged messages stay acknowledged while the others come again.
func TestConsumerFileDurableRestart(t *testing.T) {
	dir := t.TempDir()
	opts := func(o *server.Options) { o.JetStream = &js.Config{Enabled: true, StoreDir: dir} }
	s := testutil.RunServer(t, opts)
	_, j := connectJS(t, s)
	st := mkStream(t, j, jetstream.StreamConfig{Name: "F", Subjects: []string{"f.>"}})
	pub(t, j, "f.a", 10)
	c, err := st.CreateConsumer(ctx(t), jetstream.ConsumerConfig{Durable: "D", AckPolicy: jetstream.AckExplicitPolicy, AckWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Fetch(10, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for m := range b.Messages() {
		n++
		if n <= 5 {
			if err := m.DoubleAck(ctx(t)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n != 10 {
		t.Fatalf("fetched %d", n)
	}
	// The state file already holds the acks (no shutdown needed).
	var found string
	filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error {
		if filepath.Base(p) == "D.cs" {
			found = p
		}
		return nil
	})
	data, err := os.ReadFile(found)
	if err != nil || len(data) < 4 {
		t.Fatalf("state file %q: %v", found, err)
	}
	var disk struct {
		AckFloor struct {
			Stream uint64 `json:"stream_seq"`
		} `json:"ack_floor"`
	}
	if err := json.Unmarshal(data[:len(data)-4], &disk); err != nil || disk.AckFloor.Stream != 5 {
		t.Fatalf("state on disk %s: %v", data[:len(data)-4], err)
	}
	s.Shutdown()

	s = testutil.RunServer(t, opts)
	_, j = connectJS(t, s)
	c, err = j.Consumer(ctx(t), "F", "D")
	if err != nil {
		t.Fatal(err)
	}
	info := c.CachedInfo()
	if info.AckFloor.Stream != 5 || info.Delivered.Stream != 10 || info.NumAckPending != 5 {
		t.Fatalf("after restart %+v", info)
	}
	b, err = c.Fetch(10, jetstream.FetchMaxWait(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for m := range b.Messages() {
		md, _ := m.Metadata()
		if md.NumDelivered != 2 {
			t.Errorf("seq %d delivered %d times", md.Sequence.Stream, md.NumDelivered)
		}
		seqs = append(seqs, md.Sequence.Stream)
		m.Ack()
	}
	if len(seqs) != 5 || seqs[0] != 6 || seqs[4] != 10 {
		t.Fatalf("redelivered %v", seqs)
	}
}
