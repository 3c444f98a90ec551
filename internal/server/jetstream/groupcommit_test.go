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

// eventLog records stores, syncs and acks in the order they happen.
type eventLog struct {
	mu     sync.Mutex
	events []string
}

func (l *eventLog) add(e string) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

type inner = store.Store

type loggingStore struct {
	inner
	log *eventLog
}

func (s loggingStore) Store(subj string, hdr, data []byte, ttl int64) (uint64, int64, error) {
	seq, ts, err := s.inner.Store(subj, hdr, data, ttl)
	s.log.add(fmt.Sprintf("store %d", seq))
	return seq, ts, err
}

func (s loggingStore) Sync() error {
	s.log.add("sync")
	return s.inner.Sync()
}

type ackBroker struct {
	fakeBroker
	log *eventLog
}

func (b *ackBroker) Publish(_, subj, _ string, _, msg []byte) {
	if strings.HasPrefix(subj, "ack.") {
		b.log.add("ack " + strings.TrimPrefix(subj, "ack."))
	}
}

// Every ack goes out after a Sync that followed its message's Store, and
// one Sync covers many messages (group commit).
func TestGroupCommit(t *testing.T) {
	log := &eventLog{}
	old := openStore
	openStore = func(dir string, cfg store.Config, l Logger) (store.Store, error) {
		ms, err := memstore.New(cfg, l)
		return loggingStore{ms, log}, err
	}
	defer func() { openStore = old }()
	b := &ackBroker{log: log}
	js, err := New(Config{Enabled: true, StoreDir: t.TempDir()}, b, nopLog{})
	if err != nil {
		t.Fatal(err)
	}
	if err := js.Start(); err != nil {
		t.Fatal(err)
	}
	defer js.Stop()
	a := js.account("$G")
	s, err := a.openStream(mustCheck(t, a, `G`), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	for i := 1; i <= n; i++ {
		s.enqueue("G", fmt.Sprintf("ack.%d", i), nil, []byte("x"), false, false)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		log.mu.Lock()
		acks := 0
		for _, e := range log.events {
			if strings.HasPrefix(e, "ack ") {
				acks++
			}
		}
		log.mu.Unlock()
		if acks == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acks", acks, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stored := map[string]bool{} // stored but not yet synced
	durable := map[string]bool{}
	syncs := 0
	for _, e := range log.events {
		switch {
		case strings.HasPrefix(e, "store "):
			stored[strings.TrimPrefix(e, "store ")] = true
		case e == "sync":
			syncs++
			for k := range stored {
				durable[k] = true
			}
			clear(stored)
		case strings.HasPrefix(e, "ack "):
			if seq := strings.TrimPrefix(e, "ack "); !durable[seq] {
				t.Fatalf("ack of %s before its sync", seq)
			}
		}
	}
	if syncs >= n {
		t.Fatalf("%d syncs for %d messages: no group commit", syncs, n)
	}
	t.Logf("%d messages, %d syncs", n, syncs)
}

func mustCheck(t *testing.T, a *jsAccount, name string) api.StreamConfig {
	t.Helper()
	cfg, e := a.checkStreamConfig(&api.StreamConfig{Name: name, Storage: api.MemoryStorage})
	if e != nil {
		t.Fatal(e)
	}
	return cfg
}
