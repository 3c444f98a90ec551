package jetstream

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/memstore"
	"github.com/sluicehq/sluice/pkg/api"
)

// slowSyncStore is a file store stand-in whose Sync takes as long as an
// fsync and is logged with the stores.
type slowSyncStore struct {
	loggingStore
	delay time.Duration
}

func (s slowSyncStore) Sync() error {
	time.Sleep(s.delay)
	return s.loggingStore.Sync()
}

// replyBroker hands each ack to the requester waiting for it.
type replyBroker struct {
	fakeBroker
	log *eventLog
	mu  sync.Mutex
	ch  map[string]chan struct{} // by reply prefix
}

func (b *replyBroker) Publish(_, subj, _ string, _, _ []byte) {
	if !strings.HasPrefix(subj, "_INBOX.") {
		return
	}
	b.log.add("ack " + subj)
	b.mu.Lock()
	c := b.ch[replyPrefix(subj)]
	b.mu.Unlock()
	c <- struct{}{}
}

// syncedRequesters runs clients that each publish puts messages one at a
// time, waiting for each ack, to a file stream whose Sync takes delay;
// it returns the event log.
func syncedRequesters(tb testing.TB, clients, puts int, delay time.Duration) *eventLog {
	log := &eventLog{}
	old := openStore
	openStore = func(dir string, cfg store.Config, l Logger) (store.Store, error) {
		ms, err := memstore.New(cfg, l)
		return slowSyncStore{loggingStore{ms, log}, delay}, err
	}
	defer func() { openStore = old }()
	b := &replyBroker{log: log, ch: map[string]chan struct{}{}}
	js, err := New(Config{Enabled: true, StoreDir: tb.TempDir(), SyncAlways: true}, b, nopLog{})
	if err != nil {
		tb.Fatal(err)
	}
	if err := js.Start(); err != nil {
		tb.Fatal(err)
	}
	defer js.Stop()
	a := js.account("$G")
	cfg, e := a.checkStreamConfig(&api.StreamConfig{Name: "G", Storage: api.FileStorage})
	if e != nil {
		tb.Fatal(e)
	}
	s, err := a.openStream(cfg, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	if !s.fsyncs() {
		tb.Fatal("the stream does not fsync")
	}
	for c := range clients {
		b.ch[fmt.Sprintf("_INBOX.c%d", c)] = make(chan struct{}, 1)
	}
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			prefix := fmt.Sprintf("_INBOX.c%d", c)
			for i := range puts {
				s.enqueue("G", fmt.Sprintf("%s.%d", prefix, i), nil, []byte("x"), false, false)
				select {
				case <-b.ch[prefix]:
				case <-time.After(10 * time.Second):
					tb.Errorf("%s: no ack for put %d", prefix, i)
					return
				}
			}
		}()
	}
	wg.Wait()
	return log
}

// checkAckedAfterSync fails when an ack went out before a Sync that
// followed its message's store; it returns the stores and the syncs.
func checkAckedAfterSync(tb testing.TB, log *eventLog) (stores, syncs int) {
	log.mu.Lock()
	defer log.mu.Unlock()
	unsynced, acked := 0, 0
	for _, e := range log.events {
		switch {
		case strings.HasPrefix(e, "store "):
			stores++
			unsynced++
		case e == "sync":
			syncs++
			acked += unsynced
			unsynced = 0
		case strings.HasPrefix(e, "ack "):
			if acked == 0 {
				tb.Fatalf("%s before the sync of its message", e)
			}
			acked--
		}
	}
	return stores, syncs
}

// Requesters waiting for their acks (KV puts) share fsyncs, and none is
// acked before its message's Sync, with the committer fsyncing while the
// ingest loop stores the next group.
func TestCommitterGroupsRequesters(t *testing.T) {
	log := syncedRequesters(t, 8, 100, 300*time.Microsecond)
	stores, syncs := checkAckedAfterSync(t, log)
	if stores != 800 {
		t.Fatalf("%d stores, want 800", stores)
	}
	if syncs >= stores {
		t.Fatalf("%d syncs for %d puts: no group commit", syncs, stores)
	}
	t.Logf("8 requesters: %d puts, %d syncs (%.1f a sync)", stores, syncs, float64(stores)/float64(syncs))
}

// One requester alone: every put is acked after its own Sync.
func TestCommitterLoneRequester(t *testing.T) {
	log := syncedRequesters(t, 1, 50, 100*time.Microsecond)
	stores, syncs := checkAckedAfterSync(t, log)
	if stores != 50 || syncs != 50 {
		t.Fatalf("%d stores, %d syncs, want 50 and 50", stores, syncs)
	}
}

// BenchmarkRequestersPerSync reports how many puts of 8 clients, each
// waiting for its ack, share one fsync (of 250 µs, about this VM's). The
// ideal is 8; taking turns, halves of the clients made 2-4.
func BenchmarkRequestersPerSync(b *testing.B) {
	for b.Loop() {
		log := syncedRequesters(b, 8, 200, 250*time.Microsecond)
		stores, syncs := checkAckedAfterSync(b, log)
		b.ReportMetric(float64(stores)/float64(syncs), "puts/sync")
	}
}
