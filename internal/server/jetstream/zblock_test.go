package jetstream_test

import (
	"bytes"
	"fmt"
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

// compressedBlocks counts the block files under dir that the filestore
// rewrote as compressed blocks (magic "SLC1").
func compressedBlocks(dir string) int {
	n := 0
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".blk") {
			if b, _ := os.ReadFile(p); bytes.HasPrefix(b, []byte("SLC1")) {
				n++
			}
		}
		return nil
	})
	return n
}

// An s2 file stream larger than a block has its sealed blocks compressed
// whole; its messages read back through nats.go before and after a
// restart, a consumer reads them in order, deletes work, and a snapshot
// restores as the same stream.
func TestS2CompressedBlocksThroughNATS(t *testing.T) {
	dir := t.TempDir()
	opts := func(o *server.Options) { o.JetStream = &js.Config{Enabled: true, StoreDir: dir} }
	s := testutil.RunServer(t, opts)
	nc, j := connectJS(t, s)
	c := ctx(t)
	if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "Z", Subjects: []string{"z.>"}, Compression: jetstream.S2Compression}); err != nil {
		t.Fatal(err)
	}
	const n = 12000
	payload := func(i int) []byte { return []byte(strings.Repeat(fmt.Sprintf("message %06d ", i), 60)) }
	for i := range n {
		// 12,000 outstanding against nats.go's 4,000: a loaded machine
		// (the race detector, two cores) outlasted its 200 ms stall wait.
		if _, err := j.PublishAsync(fmt.Sprintf("z.%d", i%5), payload(i), jetstream.WithStallWait(20*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-j.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		t.Fatal("publish did not complete")
	}
	testutil.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		if compressedBlocks(dir) == 0 {
			return fmt.Errorf("no block compressed yet")
		}
		return nil
	})
	c = ctx(t)
	st, _ := j.Stream(c, "Z")
	for _, seq := range []uint64{3, 77} {
		if err := st.DeleteMsg(c, seq); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SecureDeleteMsg(c, 100); err != nil {
		t.Fatal(err)
	}
	check := func(st jetstream.Stream) {
		t.Helper()
		if si, _ := st.Info(c); si.State.Msgs != n-3 {
			t.Fatalf("state %+v", si.State)
		}
		for _, seq := range []uint64{1, 2, 4, 5000, n} {
			m, err := st.GetMsg(c, seq)
			if err != nil || !bytes.Equal(m.Data, payload(int(seq-1))) {
				t.Fatalf("message %d: %v", seq, err)
			}
		}
		cons, err := st.OrderedConsumer(c, jetstream.OrderedConsumerConfig{})
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for got < n-3 {
			b, err := cons.Fetch(1000, jetstream.FetchMaxWait(5*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			for m := range b.Messages() {
				md, _ := m.Metadata()
				if seq := md.Sequence.Stream; seq == 3 || seq == 77 || seq == 100 || !bytes.Equal(m.Data(), payload(int(seq-1))) {
					t.Fatalf("consumer got message %d wrong", seq)
				}
				got++
			}
			if b.Error() != nil {
				t.Fatal(b.Error())
			}
		}
	}
	check(st)
	s.Shutdown()

	s = testutil.RunServer(t, opts)
	nc, j = connectJS(t, s)
	c = ctx(t)
	st, err := j.Stream(c, "Z")
	if err != nil {
		t.Fatal(err)
	}
	check(st)
	meta, data, _ := takeSnapshot(t, nc, "Z", `{"deliver_subject":"INBOX","chunk_size":65536,"window_size":1048576}`)
	if err := j.DeleteStream(c, "Z"); err != nil {
		t.Fatal(err)
	}
	if out := restoreArchive(t, nc, "Z", meta, data); strings.Contains(out, `"error"`) {
		t.Fatalf("restore: %s", out)
	}
	c = ctx(t)
	st, _ = j.Stream(c, "Z")
	check(st)
}
