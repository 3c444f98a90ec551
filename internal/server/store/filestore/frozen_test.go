package filestore

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/storetest"
	"github.com/sluicehq/sluice/internal/server/store/vfs"
)

// TestFrozenIndex fills a store well past the two chunks of 4096 entries
// the engine keeps plain, so that most of its index is frozen, then
// removes at random (small blocks: mostly deleted ones are compacted,
// moving frozen entries' records), purges, compacts and truncates, and
// compares it with the model before and after reopening.
func TestFrozenIndex(t *testing.T) {
	fsys := vfs.NewFaultFS(5)
	cfg := store.Config{Name: "F", SyncAlways: true}
	opts := Options{FS: fsys, BlockSize: 16 << 10}
	s := openT(t, "/f", cfg, opts)
	m := storetest.NewModel(1)
	r := rand.New(rand.NewPCG(5, 6))
	compare := func(what string) {
		t.Helper()
		if err := storetest.Compare(s, m); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	reopen := func(what string) {
		t.Helper()
		if err := s.Stop(); err != nil {
			t.Fatal(err)
		}
		s = openT(t, "/f", cfg, opts)
		compare(what + ", reopened")
	}
	add := func(n int) {
		for range n {
			subj := storetest.Subjects[r.IntN(len(storetest.Subjects))]
			if r.IntN(3) > 0 {
				subj = "a" // long runs of one subject
			}
			data := make([]byte, r.IntN(40))
			for j := range data {
				data[j] = byte(r.IntN(256))
			}
			seq, ts, err := s.Store(subj, nil, data, 0)
			if err != nil {
				t.Fatal(err)
			}
			m.Store(&store.Msg{Subject: subj, Data: data, Seq: seq, Time: ts})
		}
	}
	add(20000)
	compare("filled")
	reopen("filled")
	for round := range 3 {
		for range 4000 {
			seq := m.First + r.Uint64N(m.Last-m.First+1)
			ok, err := s.Remove(seq)
			if err != nil || ok != m.Remove(seq) {
				t.Fatalf("remove %d: %v %v", seq, ok, err)
			}
		}
		compare(fmt.Sprintf("round %d removed", round))
		o := store.PurgeOpts{Subject: storetest.Filters[2+round], Keep: 100}
		n, err := s.Purge(o)
		if want := m.Purge(o); err != nil || n != want {
			t.Fatalf("purge %+v: %d %v, want %d", o, n, err, want)
		}
		seq := m.First + 500
		if n, err := s.Compact(seq); err != nil || n != m.Compact(seq) {
			t.Fatalf("compact %d: %d %v", seq, n, err)
		}
		seq = m.Last - 300
		if err := s.Truncate(seq); err != nil {
			t.Fatal(err)
		}
		m.Truncate(seq)
		add(3000)
		compare(fmt.Sprintf("round %d", round))
		reopen(fmt.Sprintf("round %d", round))
	}
	s.Stop()
}
