package jetstream

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/memstore"
	"github.com/sluicehq/sluice/pkg/api"
)

// gatedStore blocks Store while its gate is shut: a disk that stopped
// taking writes.
type gatedStore struct {
	inner
	gate *sync.RWMutex
}

func (s gatedStore) Store(subj string, hdr, data []byte, ttl int64) (uint64, int64, error) {
	s.gate.RLock()
	defer s.gate.RUnlock()
	return s.inner.Store(subj, hdr, data, ttl)
}

type statusBroker struct {
	fakeBroker
	mu      sync.Mutex
	replies map[string]string // reply subject -> status line or "ack"
}

func (b *statusBroker) Publish(_, subj, _ string, hdr, _ []byte) {
	if !strings.HasPrefix(subj, "r.") {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.replies == nil {
		b.replies = map[string]string{}
	}
	b.replies[subj] = "ack"
	if len(hdr) > 0 {
		b.replies[subj] = strings.TrimSpace(strings.SplitN(string(hdr), "\r\n", 2)[0])
	}
}

func (b *statusBroker) reply(subj string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.replies[subj]
}

// waitAcked waits until each of replies was acked (not refused).
func (b *statusBroker) waitAcked(t *testing.T, deadline time.Time, replies ...string) {
	t.Helper()
	for _, r := range replies {
		for b.reply(r) == "" {
			if time.Now().After(deadline) {
				t.Fatalf("%s never acked", r)
			}
			time.Sleep(time.Millisecond)
		}
		if got := b.reply(r); got != "ack" {
			t.Fatalf("%s answered %q", r, got)
		}
	}
}

// openTestStream starts JetStream over b with cfg, its stores made by
// wrap around memory stores, and opens stream G with the storage given.
// Stop comes at the test's cleanup.
func openTestStream(t *testing.T, cfg Config, b Broker, st api.StorageType, wrap func(store.Store) store.Store) *stream {
	t.Helper()
	old := openStore
	openStore = func(dir string, c store.Config, l Logger) (store.Store, error) {
		ms, err := memstore.New(c, l)
		return wrap(ms), err
	}
	t.Cleanup(func() { openStore = old })
	cfg.Enabled, cfg.StoreDir = true, t.TempDir()
	js, err := New(cfg, b, nopLog{})
	if err != nil {
		t.Fatal(err)
	}
	if err := js.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(js.Stop)
	a := js.account("$G")
	sc, e := a.checkStreamConfig(&api.StreamConfig{Name: "G", Storage: st})
	if e != nil {
		t.Fatal(e)
	}
	s, err := a.openStream(sc, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A stream whose ingest cannot keep up (its store blocked) fills its
// queue. Then a publisher that may wait (a client's read loop) gets a
// channel and its message is neither queued nor refused; one that cannot
// wait is answered 429. Once the store takes writes again, the waiter is
// released and its message stored and acked.
func TestIngestFullQueueWaitOrRefuse(t *testing.T) {
	gate := &sync.RWMutex{}
	b := &statusBroker{}
	s := openTestStream(t, Config{MaxBufferedMsgs: 1}, b, api.MemoryStorage, func(ms store.Store) store.Store {
		return gatedStore{ms, gate}
	})

	gate.Lock() // the store stops taking writes
	released := false
	defer func() {
		if !released {
			gate.Unlock() // let Stop store what it holds
		}
	}()
	// The first message is taken by the ingest loop (which blocks storing
	// it), the second fills the queue of one.
	if w := s.enqueue("G", "r.1", nil, []byte("1"), false, true); w != nil {
		t.Fatal("first publish asked to wait")
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.in.len() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the ingest loop never took the first message")
		}
		time.Sleep(time.Millisecond)
	}
	if w := s.enqueue("G", "r.2", nil, []byte("2"), false, true); w != nil {
		t.Fatal("second publish asked to wait with room for one")
	}
	wait := s.enqueue("G", "r.3", nil, []byte("3"), false, true)
	if wait == nil {
		t.Fatal("publish to a full queue neither waited nor was refused")
	}
	if w := s.enqueue("G", "r.4", nil, []byte("4"), false, false); w != nil {
		t.Fatal("a publisher that cannot wait was asked to")
	}
	if got := b.reply("r.4"); got != "NATS/1.0 429 Too Many Requests" {
		t.Fatalf("refused publish answered %q, want a 429", got)
	}
	if got := b.reply("r.3"); got != "" {
		t.Fatalf("waiting publish answered %q before it was taken", got)
	}

	gate.Unlock() // the disk is back
	released = true
	select {
	case <-wait:
	case <-time.After(10 * time.Second):
		t.Fatal("waiting publisher never released")
	}
	// Released by the take of r.2: the queue has room for r.3 again.
	if w := s.enqueue("G", "r.3", nil, []byte("3"), false, true); w != nil {
		t.Fatal("publish still waiting after a take")
	}
	b.waitAcked(t, deadline, "r.1", "r.2", "r.3")
	if st := s.st.State(); st.Msgs != 3 {
		t.Fatalf("stream holds %d messages, want 3", st.Msgs)
	}
}

// gatedSyncStore counts stores and blocks Sync while its gate is shut: a
// slow fsync.
type gatedSyncStore struct {
	inner
	gate   *sync.RWMutex
	stored *atomic.Int64
}

func (s gatedSyncStore) Store(subj string, hdr, data []byte, ttl int64) (uint64, int64, error) {
	s.stored.Add(1)
	return s.inner.Store(subj, hdr, data, ttl)
}

func (s gatedSyncStore) Sync() error {
	s.gate.RLock()
	defer s.gate.RUnlock()
	return s.inner.Sync()
}

// TestIngestBoundsWhatAwaitsFsync: while an fsync takes long, the ingest
// loop stores no more than maxTakeBytes at a time and maxPendingBytes
// behind the fsync in progress, and then leaves the rest queued (where
// publishers wait for room), so the acks publishers await stay bounded.
// Once the fsync is over, everything is stored and acked.
func TestIngestBoundsWhatAwaitsFsync(t *testing.T) {
	gate := &sync.RWMutex{}
	var stored atomic.Int64
	b := &statusBroker{}
	s := openTestStream(t, Config{SyncAlways: true, MaxBufferedSize: -1}, b, api.FileStorage, func(ms store.Store) store.Store {
		return gatedSyncStore{ms, gate, &stored}
	})
	if !s.fsyncs() {
		t.Fatal("the stream does not fsync")
	}
	gate.Lock() // fsyncs block
	released := false
	defer func() {
		if !released {
			gate.Unlock() // let Stop commit
		}
	}()
	// Queued at once: a lone message found with nothing behind it would
	// be committed on the loop's own goroutine, which the gate stops.
	const n, chunk = 200, 1 << 20
	queueChunks(s, n, chunk)
	// The first group is being synced (at most one take), the next one
	// waits behind it (at most maxPendingBytes) and the loop holds one
	// more take it cannot hand over.
	limit := int64(3 * maxTakeBytes / chunk)
	deadline := time.Now().Add(10 * time.Second)
	for stored.Load() < maxTakeBytes/chunk {
		if time.Now().After(deadline) {
			t.Fatalf("stored %d while the fsync blocks", stored.Load())
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // an unbounded loop would store all 200 by now
	if got := stored.Load(); got > limit {
		t.Fatalf("stored %d messages of 1 MiB behind one fsync, want at most %d", got, limit)
	}
	if b.reply("r.0") != "" {
		t.Fatal("acked before the fsync")
	}
	gate.Unlock()
	released = true
	replies := chunkReplies(n)
	b.waitAcked(t, deadline, replies...)
	if st := s.st.State(); st.Msgs != n {
		t.Fatalf("stream holds %d messages, want %d", st.Msgs, n)
	}
}

// queueChunks queues n messages of chunk bytes on G at once, replying
// to r.0 onwards (see chunkReplies).
func queueChunks(s *stream, n, chunk int) {
	s.in.mu.Lock()
	for i := 0; i < n; i++ {
		m := inMsg{subj: "G", reply: fmt.Sprintf("r.%d", i), msg: make([]byte, chunk)}
		s.in.mu.q = append(s.in.mu.q, m)
		s.in.mu.size += inMsgSize(&m)
	}
	s.in.mu.Unlock()
	s.in.wake <- struct{}{}
}

func chunkReplies(n int) []string {
	replies := make([]string, n)
	for i := range replies {
		replies[i] = fmt.Sprintf("r.%d", i)
	}
	return replies
}

// syncSpanStore records the most messages stored between two Syncs.
type syncSpanStore struct {
	inner
	mu      *sync.Mutex
	since   *int
	maxSpan *int
	syncs   *int
}

func (s syncSpanStore) Store(subj string, hdr, data []byte, ttl int64) (uint64, int64, error) {
	s.mu.Lock()
	*s.since++
	*s.maxSpan = max(*s.maxSpan, *s.since)
	s.mu.Unlock()
	return s.inner.Store(subj, hdr, data, ttl)
}

func (s syncSpanStore) Sync() error {
	s.mu.Lock()
	*s.since = 0
	*s.syncs++
	s.mu.Unlock()
	return s.inner.Sync()
}

// TestIngestGroupBoundedWithoutPause: a publisher that never pauses
// (everything already queued, as when an object's chunks come faster than
// the disk takes them) is committed in groups no larger than the
// committer may hold pending, not in one group of all it sent. The burst
// a group was followed by makes the loop take "the rest" for the same
// group; before the bound, the rest was everything.
func TestIngestGroupBoundedWithoutPause(t *testing.T) {
	var mu sync.Mutex
	var since, maxSpan, syncs int
	b := &statusBroker{}
	s := openTestStream(t, Config{SyncAlways: true, MaxBufferedSize: -1}, b, api.FileStorage, func(ms store.Store) store.Store {
		return syncSpanStore{ms, &mu, &since, &maxSpan, &syncs}
	})
	const n, chunk = 400, 1 << 20
	queueChunks(s, n, chunk)
	replies := chunkReplies(n)
	b.waitAcked(t, time.Now().Add(30*time.Second), replies...)
	mu.Lock()
	defer mu.Unlock()
	// One take past the bound at most: the loop checks between takes.
	if limit := 2 * maxTakeBytes / chunk; maxSpan > limit {
		t.Fatalf("%d messages of 1 MiB stored between two fsyncs (%d fsyncs in all), want at most %d", maxSpan, syncs, limit)
	}
}
