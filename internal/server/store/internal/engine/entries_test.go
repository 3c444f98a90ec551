package engine

import (
	"math/rand/v2"
	"testing"
)

// TestEntriesModel drives the chunked window and a plain slice with the
// same random operations, across chunk boundaries, and compares them.
func TestEntriesModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var x entries[int]
	var model []uint64 // ts of each entry
	next := uint64(1)
	check := func(op string) {
		t.Helper()
		if x.len() != len(model) {
			t.Fatalf("after %s: len %d, want %d", op, x.len(), len(model))
		}
		for i, ts := range model {
			if got := x.at(i); got.ts != int64(ts) || got.p != int(ts) {
				t.Fatalf("after %s: entry %d is %d/%d, want %d", op, i, got.ts, got.p, ts)
			}
		}
	}
	for step := 0; step < 3000; step++ {
		switch k := r.IntN(100); {
		case k < 80:
			for n := r.IntN(3 * chunkLen / 2); n > 0; n-- {
				x.push(entry[int]{ts: int64(next), p: int(next)})
				model = append(model, next)
				next++
			}
			check("push")
		case k < 92 && len(model) > 0:
			n := r.IntN(len(model) + 1)
			for i := 0; i < n; i++ {
				*x.at(i) = entry[int]{} // the engine clears what it drops
			}
			x.dropFront(n)
			model = model[n:]
			check("dropFront")
		case k < 99 && len(model) > 0:
			n := r.IntN(len(model) + 1)
			x.truncate(n)
			model = model[:n]
			check("truncate")
		default:
			x.reset()
			model = nil
			check("reset")
		}
		if len(x.chunks) > len(model)/chunkLen+2 {
			t.Fatalf("%d chunks hold %d entries", len(x.chunks), len(model))
		}
	}
}

// TestEntriesTruncateClears: entries cut off are cleared, so that what
// they point to (memstore payloads) can be collected.
func TestEntriesTruncateClears(t *testing.T) {
	var x entries[*int]
	v := 1
	for i := 0; i < chunkLen+10; i++ {
		x.push(entry[*int]{p: &v})
	}
	x.truncate(5)
	c := x.chunks[0]
	for _, e := range c[5:cap(c)][:chunkLen-5] {
		if e.p != nil {
			t.Fatal("a truncated entry still points to its payload")
		}
	}
	if len(x.chunks) != 1 {
		t.Fatalf("%d chunks after truncating to 5", len(x.chunks))
	}
}
