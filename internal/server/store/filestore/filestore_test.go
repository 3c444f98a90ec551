package filestore

import (
	"math/rand/v2"
	"testing"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/storetest"
	"github.com/sluicehq/sluice/internal/server/store/vfs"
)

func openT(t testing.TB, dir string, cfg store.Config, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, cfg, opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return s
}

func TestConformanceOS(t *testing.T) {
	storetest.Run(t, func(t testing.TB, cfg store.Config) store.Store {
		s := openT(t, t.TempDir(), cfg, Options{BlockSize: 4096})
		t.Cleanup(func() { s.Stop() })
		return s
	})
}

func TestConformanceFaultFS(t *testing.T) {
	storetest.Run(t, func(t testing.TB, cfg store.Config) store.Store {
		s := openT(t, "/s", cfg, Options{FS: vfs.NewFaultFS(1), BlockSize: 1024})
		t.Cleanup(func() { s.Stop() })
		return s
	})
}

// TestReopenRandomOps runs the random ops, stopping and reopening the store
// now and then; after every reopen it must equal the model.
func TestReopenRandomOps(t *testing.T) {
	for seed := range uint64(reopenSeeds) {
		fsys := vfs.NewFaultFS(seed)
		cfg := store.Config{Name: "R", SyncAlways: true}
		opts := Options{FS: fsys, BlockSize: 512}
		s := openT(t, "/r", cfg, opts)
		m := storetest.NewModel(1)
		rng := rand.New(rand.NewPCG(seed, 3))
		for round := range 8 {
			storetest.RandomOps(t, s, m, rng, 60)
			if err := s.Stop(); err != nil {
				t.Fatal(err)
			}
			s = openT(t, "/r", cfg, opts)
			if err := storetest.Compare(s, m); err != nil {
				t.Fatalf("seed %d round %d after reopen: %v", seed, round, err)
			}
		}
		s.Stop()
	}
}

var reopenSeeds = 4
