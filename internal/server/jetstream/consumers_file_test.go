package jetstream_test

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
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
	// Before any shutdown, what is on disk (state file or ack journal)
	// already holds the five AckSync acks: a kill -9 now loses none.
	acked := map[uint64]bool{}
	filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error {
		b, _ := os.ReadFile(p)
		switch {
		case filepath.Base(p) == "D.cs" && len(b) > 4:
			var disk struct {
				AckFloor struct {
					Stream uint64 `json:"stream_seq"`
				} `json:"ack_floor"`
			}
			json.Unmarshal(b[:len(b)-4], &disk)
			for i := uint64(1); i <= disk.AckFloor.Stream; i++ {
				acked[i] = true
			}
		case strings.HasPrefix(filepath.Base(p), "D.acks."):
			for i := 0; i+8 <= len(b); i += 8 {
				acked[binary.LittleEndian.Uint64(b[i:])] = true
			}
		}
		return nil
	})
	for i := uint64(1); i <= 5; i++ {
		if !acked[i] {
			t.Fatalf("ack of %d not on disk: %v", i, acked)
		}
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
