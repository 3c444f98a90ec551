package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/storetest"
)

// nopBackend stores nothing: the benchmarks measure the index alone.
type nopBackend struct{}

func (nopBackend) Append(seq uint64, _, _ int64, _ string, _, data []byte) (tp, error) {
	return tp{seq & 0xffff, seq * 1100 & (8<<20 - 1), uint64(len(data) + 40)}, nil
}
func (nopBackend) Skip(uint64, uint64) error                    { return nil }
func (nopBackend) Read(uint64, tp, *store.Msg) error            { return nil }
func (nopBackend) Remove(rm []Removed[tp], _ bool) (int, error) { return len(rm), nil }
func (nopBackend) Compact(uint64, []Removed[tp]) error          { return nil }
func (nopBackend) Truncate(uint64, []Removed[tp]) error         { return nil }

type nopPacked struct {
	nopBackend
	tpPacker
}

func benchEngines(b *testing.B, cfg store.Config, run func(b *testing.B, e *Engine[tp])) {
	for _, packed := range []bool{false, true} {
		b.Run(fmt.Sprintf("frozen=%v", packed), func(b *testing.B) {
			var be Backend[tp] = nopBackend{}
			if packed {
				be = nopPacked{}
			}
			e, err := New(cfg, be, Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			run(b, e)
		})
	}
}

// BenchmarkStore: appends to one subject (an async publisher's path in the
// index), chunks frozen as they fall behind.
func BenchmarkStore(b *testing.B) {
	data := make([]byte, 128)
	benchEngines(b, store.Config{Name: "B"}, func(b *testing.B, e *Engine[tp]) {
		storetest.Loop(b, func() {
			if _, _, err := e.Store("orders", nil, data, 0); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// BenchmarkStoreKV: one message per key over 100,000 keys, updated at
// random: each store unlinks and drops an old entry, mostly in a frozen
// chunk.
func BenchmarkStoreKV(b *testing.B) {
	data := make([]byte, 16)
	const keys = 100_000
	names := make([]string, keys)
	for i := range names {
		names[i] = fmt.Sprintf("kv.b.k%d", i)
	}
	benchEngines(b, store.Config{Name: "B", MaxMsgsPer: 1}, func(b *testing.B, e *Engine[tp]) {
		for _, n := range names {
			e.Store(n, nil, data, 0)
		}
		r := rand.New(rand.NewPCG(1, 2))
		storetest.Loop(b, func() {
			if _, _, err := e.Store(names[r.IntN(keys)], nil, data, 0); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// BenchmarkLoad: random loads over a million messages.
func BenchmarkLoad(b *testing.B) {
	data := make([]byte, 16)
	const n = 1 << 20
	benchEngines(b, store.Config{Name: "B"}, func(b *testing.B, e *Engine[tp]) {
		for range n {
			e.Store("orders", nil, data, 0)
		}
		r := rand.New(rand.NewPCG(1, 2))
		storetest.Loop(b, func() {
			if _, err := e.Load(1 + r.Uint64N(n)); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// BenchmarkFreeze: one chunk of one subject's messages frozen (per op:
// chunkLen entries).
func BenchmarkFreeze(b *testing.B) {
	_, ss := testSubjects(1)
	ents := make([]entry[tp], chunkLen)
	ts := int64(1_700_000_000_000_000_000)
	for j := range ents {
		seq := 1 + uint64(j)
		ts += 3000
		ents[j] = entry[tp]{s: ss[0], ts: ts, prev: seq - 1, next: seq + 1, sz: 1059, p: tp{12, uint64(j) * 1091, 1091}}
	}
	b.ReportAllocs()
	for b.Loop() {
		freeze(ents, 1, Packer[tp](tpPacker{}))
	}
}
