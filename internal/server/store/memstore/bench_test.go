package memstore

import (
	"testing"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/storetest"
)

func BenchmarkMemStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B, cfg store.Config) store.Store {
		s, err := New(cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Stop() })
		return s
	})
}
