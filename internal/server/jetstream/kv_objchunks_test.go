package jetstream

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/memstore"
	"github.com/sluicehq/sluice/pkg/api"
)

func TestObjChunkPrefix(t *testing.T) {
	for stream, want := range map[string]string{"OBJ_B": "$O.B.C.", "OBJ_": "", "KV_B": "", "ORDERS": ""} {
		if got := objChunkPrefix(stream); got != want {
			t.Errorf("objChunkPrefix(%q) = %q, want %q", stream, got, want)
		}
	}
}

type flushingStore struct{ loggingStore }

func (s flushingStore) Flush() error {
	s.log.add("flush")
	return nil
}

// putObject runs an object put (chunks, then the meta message, each with
// a reply) through a stream over a logging store and returns the log.
func putObject(t *testing.T, flush bool) []string {
	log := &eventLog{}
	old := openStore
	openStore = func(dir string, cfg store.Config, l Logger) (store.Store, error) {
		ms, err := memstore.New(cfg, l)
		if flush {
			return flushingStore{loggingStore{ms, log}}, err
		}
		return loggingStore{ms, log}, err
	}
	defer func() { openStore = old }()
	js, err := New(Config{Enabled: true, StoreDir: t.TempDir()}, &ackBroker{log: log}, nopLog{})
	if err != nil {
		t.Fatal(err)
	}
	if err := js.Start(); err != nil {
		t.Fatal(err)
	}
	defer js.Stop()
	a := js.account("$G")
	cfg, e := a.checkStreamConfig(&api.StreamConfig{Name: "OBJ_B", Subjects: []string{"$O.B.C.>", "$O.B.M.>"}, Storage: api.MemoryStorage})
	if e != nil {
		t.Fatal(e)
	}
	s, err := a.openStream(cfg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	const chunks = 300
	for i := 1; i <= chunks; i++ {
		s.enqueue("$O.B.C.nuid", fmt.Sprintf("ack.%d", i), nil, []byte("chunk"))
	}
	s.enqueue("$O.B.M.name", "ack.meta", nil, []byte("{}"))
	deadline := time.Now().Add(10 * time.Second)
	for {
		log.mu.Lock()
		events := append([]string(nil), log.events...)
		log.mu.Unlock()
		if len(events) > 0 && events[len(events)-1] == "ack meta" {
			return events
		}
		if time.Now().After(deadline) {
			t.Fatalf("no meta ack: %d events", len(events))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// An object's chunks are acknowledged once written (Flush), its meta
// message once everything stored before it is fsynced (Sync): when the
// client's put returns, the whole object is durable.
func TestObjChunksAckedAfterWriteMetaAfterSync(t *testing.T) {
	written, durable := map[string]bool{}, map[string]bool{}
	var pending []string
	syncs := 0
	for _, e := range putObject(t, true) {
		switch {
		case strings.HasPrefix(e, "store "):
			pending = append(pending, strings.TrimPrefix(e, "store "))
		case e == "flush" || e == "sync":
			for _, k := range pending {
				written[k] = true
				if e == "sync" {
					durable[k] = true
				}
			}
			if e == "sync" {
				syncs++
				for k := range written {
					durable[k] = true
				}
			}
			pending = pending[:0]
		case e == "ack meta":
			if !durable["301"] || len(durable) != 301 {
				t.Fatalf("meta acked with %d of 301 messages durable", len(durable))
			}
		case strings.HasPrefix(e, "ack "):
			if k := strings.TrimPrefix(e, "ack "); !written[k] {
				t.Fatalf("chunk %s acked before it was written", k)
			}
		}
	}
	if syncs != 1 {
		t.Fatalf("%d syncs for one object put, want 1 (the meta's)", syncs)
	}
}

// A store that cannot write without an fsync syncs chunks as any message.
func TestObjChunksWithoutFlushAreSynced(t *testing.T) {
	durable := map[string]bool{}
	var pending []string
	for _, e := range putObject(t, false) {
		switch {
		case strings.HasPrefix(e, "store "):
			pending = append(pending, strings.TrimPrefix(e, "store "))
		case e == "sync":
			for _, k := range pending {
				durable[k] = true
			}
			pending = pending[:0]
		case strings.HasPrefix(e, "ack "):
			k := strings.TrimPrefix(e, "ack ")
			if k == "meta" {
				k = "301"
			}
			if !durable[k] {
				t.Fatalf("ack of %s before its sync", k)
			}
		}
	}
}
