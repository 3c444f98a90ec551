package memstore

import (
	"testing"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t testing.TB, cfg store.Config) store.Store {
		cfg.Storage = store.MemoryStorage
		s, err := New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Stop() })
		return s
	})
}

// LoadRange without a batch reader (the engine reads one message at a
// time) returns what Load does, skipping removed messages.
func TestLoadRange(t *testing.T) {
	s, err := New(store.Config{Name: "M", Storage: store.MemoryStorage}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	for i := range 100 {
		if _, _, err := s.Store("a", []byte("h"), []byte{byte(i)}, 0); err != nil {
			t.Fatal(err)
		}
	}
	for seq := uint64(1); seq <= 100; seq += 7 {
		s.Remove(seq)
	}
	var b store.Batch
	want := uint64(2)
	for seq := uint64(1); seq <= 100; {
		next, err := s.LoadRange(seq, 100, 40, &b)
		if err != nil || next <= seq {
			t.Fatalf("LoadRange(%d): %d %v", seq, next, err)
		}
		for _, m := range b.Msgs {
			if want%7 == 1 {
				want++
			}
			if m.Seq != want || m.Data[0] != byte(want-1) || string(m.Header) != "h" {
				t.Fatalf("got %+v, want seq %d", m, want)
			}
			want++
		}
		seq = next
	}
	if want != 101 {
		t.Fatalf("stopped before %d", want)
	}
}
