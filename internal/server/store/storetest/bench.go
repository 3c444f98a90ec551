package storetest

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/sluicehq/sluice/internal/server/store"
)

// Loop runs body b.N times (b.Loop) and also reports the process CPU time
// per op (all threads, GC included): on a loaded machine it is steadier
// than ns/op, which counts time spent waiting for a core.
func Loop(b *testing.B, body func()) {
	runtime.GC() // not the setup's garbage
	start := cpuNow()
	for b.Loop() {
		body()
	}
	if b.N > 0 && start > 0 {
		b.ReportMetric(float64(cpuNow()-start)/float64(b.N), "cpu-ns/op")
	}
}

// BenchOpener opens a new store for a benchmark.
type BenchOpener func(b *testing.B, cfg store.Config) store.Store

// Bench runs the store benchmarks shared by every store.
func Bench(b *testing.B, open BenchOpener) {
	cfg := store.Config{Name: "B", SyncAlways: true}
	payload := make([]byte, 128)
	for _, batch := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprintf("StoreSyncEvery%d", batch), func(b *testing.B) {
			s := open(b, cfg)
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			i := 0
			Loop(b, func() {
				if _, _, err := s.Store("orders.new", nil, payload, 0); err != nil {
					b.Fatal(err)
				}
				if i++; i%batch == 0 {
					if err := s.Sync(); err != nil {
						b.Fatal(err)
					}
				}
			})
			s.Sync()
		})
	}
	b.Run("Load", func(b *testing.B) {
		s := open(b, cfg)
		const n = 100_000
		for range n {
			s.Store("orders.new", nil, payload, 0)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		b.ReportAllocs()
		Loop(b, func() {
			if _, err := s.Load(1 + rng.Uint64N(n)); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("Subjects1M", func(b *testing.B) { benchSubjects(b, open, cfg) })
}

// benchSubjects stores one message on each of a million subjects
// (kv.b<bucket>.k<key>, 1000 x 1000, plus 10,000 more revisions in bucket
// 7), then measures the per-subject queries. Names are made before the
// timed loops.
func benchSubjects(b *testing.B, open BenchOpener, cfg store.Config) {
	s := open(b, cfg)
	payload := make([]byte, 16)
	const buckets, keys = 1000, 1000
	for i := range buckets * keys {
		if _, _, err := s.Store(fmt.Sprintf("kv.b%d.k%d", i%buckets, i/buckets), nil, payload, 0); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 10_000 {
		s.Store(fmt.Sprintf("kv.b7.k%d", i%keys), nil, payload, 0)
	}
	s.Sync()
	last := s.State().LastSeq
	rng := rand.New(rand.NewPCG(3, 4))
	names := make([]string, 4096)
	for i := range names {
		names[i] = fmt.Sprintf("kv.b%d.k%d", rng.IntN(buckets), rng.IntN(keys))
	}
	bucket7 := make([]string, 4096)
	bucketW := make([]string, 4096)
	bucketG := make([]string, 4096)
	keyW := make([]string, 4096)
	for i := range names {
		bucket7[i] = fmt.Sprintf("kv.b7.k%d", rng.IntN(keys))
		bucketW[i] = fmt.Sprintf("kv.b%d.*", rng.IntN(buckets))
		bucketG[i] = fmt.Sprintf("kv.b%d.>", rng.IntN(buckets))
		keyW[i] = fmt.Sprintf("kv.*.k%d", rng.IntN(keys))
	}
	i := 0
	next := func(l []string) string { i++; return l[i%len(l)] }
	b.Run("LoadLastLiteral", func(b *testing.B) {
		Loop(b, func() {
			if _, err := s.LoadLast(next(names)); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("LoadLastWildcard", func(b *testing.B) {
		Loop(b, func() {
			if _, err := s.LoadLast(next(bucketW)); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("LoadNextLiteral", func(b *testing.B) {
		Loop(b, func() {
			if _, err := s.LoadNext(next(names), 1); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("NumPendingLiteralFromMiddle", func(b *testing.B) {
		Loop(b, func() { s.NumPending(last/2, next(bucket7), false) })
	})
	b.Run("NumPendingBucketLastPerSubject", func(b *testing.B) {
		Loop(b, func() {
			if n, _ := s.NumPending(1, next(bucketG), true); n != keys {
				b.Fatalf("pending %d", n)
			}
		})
	})
	b.Run("FilteredStateBucketFromMiddle", func(b *testing.B) {
		Loop(b, func() { s.FilteredState(next(bucketW), last/2) })
	})
	b.Run("SubjectsStateBucket", func(b *testing.B) {
		Loop(b, func() {
			if n := len(s.SubjectsState(next(bucketW))); n != keys {
				b.Fatalf("subjects %d", n)
			}
		})
	})
	b.Run("SubjectsStateOneKeyAllBuckets", func(b *testing.B) {
		Loop(b, func() { s.SubjectsState(next(keyW)) })
	})
}
