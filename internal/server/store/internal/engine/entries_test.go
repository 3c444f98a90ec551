package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// tp is a payload for tests; tpPacker packs it.
type tp struct{ a, b, c uint64 }

type tpPacker struct{}

func (tpPacker) Pack(p tp) Lanes   { return Lanes{p.a, p.b, p.c} }
func (tpPacker) Unpack(l Lanes) tp { return tp{l[0], l[1], l[2]} }

// testSubjects returns a subject table holding n subjects.
func testSubjects(n int) (*subjects, []*subj) {
	x := newSubjects()
	var out []*subj
	for i := range n {
		out = append(out, x.add(fmt.Sprintf("s.%d", i)))
	}
	return &x, out
}

// randEntry is a live entry with fields from all over their ranges: TTL
// bits in sz, ts far apart and negative, links inside and outside the
// chunk, lanes small and large.
func randEntry(r *rand.Rand, ss []*subj, seq uint64) entry[tp] {
	pick := func(vals ...uint64) uint64 { return vals[r.IntN(len(vals))] }
	ent := entry[tp]{
		s:  ss[r.IntN(len(ss))],
		ts: int64(pick(1, uint64(r.Int64()), uint64(-r.Int64()), math.MaxInt64, 1<<63, 1_700_000_000_000_000_000+uint64(r.IntN(1000)))),
		sz: uint32(r.IntN(1<<20)) | uint32(r.IntN(3))<<30,
		p:  tp{pick(0, 7, uint64(r.IntN(100))), uint64(r.IntN(1 << 23)), pick(1070, ^uint64(0), uint64(r.Uint32()))},
	}
	if r.IntN(4) > 0 {
		ent.prev = seq - pick(1, 1000, 1+uint64(r.IntN(10000)), seq-1)
	}
	if r.IntN(4) > 0 {
		ent.next = seq + pick(1, 1000, 1+uint64(r.IntN(10000)), 1+uint64(r.Uint32()))
	}
	return ent
}

// TestFreezeRoundTrip: every field of every entry of a frozen chunk reads
// back as it was, directly and through thaw, and values set later that do
// not fit their column widen it without disturbing the others.
func TestFreezeRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	subjs, ss := testSubjects(300)
	for round := range 20 {
		seq0 := uint64(1 + r.IntN(1<<40))
		ents := make([]entry[tp], chunkLen)
		for j := range ents {
			// Holes, runs of one subject and size, and random entries.
			switch k := r.IntN(10); {
			case k == 0 && round%2 == 0:
			case k < 5 && j > 0 && round%3 == 0 && ents[j-1].s != nil:
				ents[j] = ents[j-1]
				ents[j].ts += int64(r.IntN(1000))
				ents[j].prev = seq0 + uint64(j) - 1
				ents[j].next = 0
			default:
				ents[j] = randEntry(r, ss, seq0+uint64(j))
			}
		}
		if round == 19 {
			clear(ents) // a chunk of nothing but holes
		}
		f := freeze(ents, seq0, Packer[tp](tpPacker{}))
		check := func(what string) {
			t.Helper()
			for j, want := range ents {
				if got := frozenEntry(f, j, subjs, Packer[tp](tpPacker{})); got != want {
					t.Fatalf("round %d %s: entry %d is %+v, want %+v", round, what, j, got, want)
				}
			}
		}
		check("frozen")
		for j, got := range thaw(f, subjs, Packer[tp](tpPacker{})) {
			if got != ents[j] {
				t.Fatalf("round %d: thawed entry %d is %+v, want %+v", round, j, got, ents[j])
			}
		}
		for range 200 {
			j := r.IntN(chunkLen)
			if ents[j].s == nil {
				continue
			}
			seq := seq0 + uint64(j)
			switch r.IntN(4) {
			case 0:
				ents[j].prev = randEntry(r, ss, seq).prev
				f.setPrev(j, ents[j].prev)
			case 1:
				ents[j].next = randEntry(r, ss, seq).next
				f.setNext(j, ents[j].next)
			case 2:
				ents[j].p = randEntry(r, ss, seq).p
				f.setLanes(j, tpPacker{}.Pack(ents[j].p))
			case 3:
				ents[j] = entry[tp]{}
				f.clear(j)
			}
		}
		check("after sets")
	}
}

// TestFrozenSize: a chunk of one subject's messages of one size, a few
// microseconds apart, in one block, costs under 9 bytes an entry.
func TestFrozenSize(t *testing.T) {
	subjs, ss := testSubjects(1)
	seq0 := uint64(1_000_001)
	ents := make([]entry[tp], chunkLen)
	ts := int64(1_700_000_000_000_000_000)
	for j := range ents {
		seq := seq0 + uint64(j)
		ts += 3000 + int64(j%7)*100
		ents[j] = entry[tp]{s: ss[0], ts: ts, prev: seq - 1, next: seq + 1, sz: 1059, p: tp{12, uint64(j) * 1091, 1091}}
	}
	f := freeze(ents, seq0, Packer[tp](tpPacker{}))
	if per := float64(f.bytes()) / chunkLen; per > 9 {
		t.Errorf("%.1f bytes an entry", per)
	}
	if got := frozenEntry(f, 100, subjs, Packer[tp](tpPacker{})); got != ents[100] {
		t.Fatalf("entry 100 is %+v, want %+v", got, ents[100])
	}
}

// TestEntriesModel drives the chunked window and a plain slice with the
// same random operations, across chunk boundaries, and compares them,
// with chunks plain and frozen.
func TestEntriesModel(t *testing.T) {
	for _, pk := range []Packer[tp]{nil, tpPacker{}} {
		t.Run(fmt.Sprintf("packed=%v", pk != nil), func(t *testing.T) { entriesModel(t, pk) })
	}
}

func entriesModel(t *testing.T, pk Packer[tp]) {
	r := rand.New(rand.NewPCG(1, 2))
	subjs, ss := testSubjects(20)
	x := entries[tp]{subjs: subjs, pk: pk, base: 1}
	var model []entry[tp] // model[i] is sequence x.base+i
	frozeSome := false
	step := 0
	check := func(op string) {
		t.Helper()
		if x.len() != len(model) || x.end() != x.base+uint64(len(model)) {
			t.Fatalf("after %s: len %d, want %d", op, x.len(), len(model))
		}
		// Every entry now and then, else the ends and a sample.
		var is []int
		if step%64 == 0 || len(model) < 512 {
			for i := range model {
				is = append(is, i)
			}
		} else {
			for i := range 64 {
				is = append(is, i, len(model)-1-i, r.IntN(len(model)))
			}
		}
		for _, i := range is {
			want := model[i]
			seq := x.base + uint64(i)
			got := x.get(seq)
			if got != want || x.subj(seq) != want.s || x.prev(seq) != want.prev || x.next(seq) != want.next || (want.s != nil && x.payload(seq) != want.p) {
				t.Fatalf("after %s: entry %d (seq %d) is %+v, want %+v", op, i, seq, got, want)
			}
		}
		if n := len(x.chunks); n > 0 && x.chunks[n-1].fz != nil {
			t.Fatalf("after %s: the newest chunk is frozen", op)
		}
		for i, c := range x.chunks {
			if c.fz != nil {
				frozeSome = true
				if pk == nil || i == len(x.chunks)-1 {
					t.Fatalf("after %s: chunk %d of %d is frozen", op, i, len(x.chunks))
				}
			}
		}
	}
	live := func() (uint64, bool) {
		if len(model) == 0 {
			return 0, false
		}
		i := r.IntN(len(model))
		return x.base + uint64(i), model[i].s != nil
	}
	for ; step < 1500; step++ {
		k := r.IntN(100)
		if len(model) > 12*chunkLen && k < 50 {
			k = 85 // drop from the front instead
		}
		switch {
		case k < 50:
			for n := r.IntN(3 * chunkLen / 2); n > 0; n-- {
				var ent entry[tp]
				if r.IntN(10) > 0 {
					ent = randEntry(r, ss, x.end())
				}
				x.push(ent)
				model = append(model, ent)
			}
			check("push")
		case k < 80:
			for range 50 {
				seq, ok := live()
				if !ok {
					continue
				}
				i := int(seq - x.base)
				v := randEntry(r, ss, seq)
				switch r.IntN(4) {
				case 0:
					x.setPrev(seq, v.prev)
					model[i].prev = v.prev
				case 1:
					x.setNext(seq, v.next)
					model[i].next = v.next
				case 2:
					x.setP(seq, v.p)
					model[i].p = v.p
				case 3:
					x.clear(seq)
					model[i] = entry[tp]{}
				}
			}
			check("set")
		case k < 92 && len(model) > 0:
			n := r.IntN(len(model) + 1)
			for i := range n {
				x.clear(x.base + uint64(i)) // the engine clears what it drops
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
			x.reset(x.end() + uint64(r.IntN(5)))
			model = nil
			check("reset")
		}
		if len(x.chunks) > len(model)/chunkLen+2 {
			t.Fatalf("%d chunks hold %d entries", len(x.chunks), len(model))
		}
	}
	if pk != nil && !frozeSome {
		t.Fatal("no chunk was ever frozen")
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
	c := x.chunks[0].ents
	for _, e := range c[5:cap(c)][:chunkLen-5] {
		if e.p != nil {
			t.Fatal("a truncated entry still points to its payload")
		}
	}
	if len(x.chunks) != 1 {
		t.Fatalf("%d chunks after truncating to 5", len(x.chunks))
	}
}

// TestFrozenWiden: a value outside a column's frame widens the column to
// a frame that holds the old one too, so widths only grow, and every
// value stays readable, down to the last bytes of the column.
func TestFrozenWiden(t *testing.T) {
	_, ss := testSubjects(1)
	ents := make([]entry[tp], chunkLen)
	for j := range ents {
		ents[j] = entry[tp]{s: ss[0], p: tp{a: 7}}
	}
	f := freeze(ents, 1, Packer[tp](tpPacker{}))
	col := &f.cols[colP]
	want := make([]uint64, chunkLen)
	for j := range want {
		want[j] = 7
	}
	w := col.w
	for i, v := range []uint64{7, 8, 6, 300, 1 << 20, 0, 1 << 40, ^uint64(0), 5} {
		j := chunkLen - 1 - i
		f.setCol(colP, j, v)
		want[j] = v
		if col.w < w {
			t.Fatalf("width went down from %d to %d", w, col.w)
		}
		w = col.w
		for k, x := range want {
			if got := col.get(k); got != x {
				t.Fatalf("after setting %d at %d: value %d is %d, want %d", v, j, k, got, x)
			}
		}
	}
	if w != 8 {
		t.Fatalf("width %d after setting the whole range", w)
	}
}
