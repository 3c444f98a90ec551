package engine

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/sluicehq/sluice/internal/server/store"
)

// memBackend keeps messages in a map; its payload tp is (seq, length,
// place), the place changed by relocations and checked by reads.
type memBackend struct {
	msgs map[uint64][]byte
	at   map[uint64]uint64
}

func newMemBackend() *memBackend {
	return &memBackend{msgs: map[uint64][]byte{}, at: map[uint64]uint64{}}
}

func (b *memBackend) Append(seq uint64, _, _ int64, _ string, hdr, data []byte) (tp, error) {
	b.msgs[seq] = slices.Clone(data)
	b.at[seq] = seq * 3
	return tp{seq, uint64(len(data)), seq * 3}, nil
}

func (b *memBackend) Skip(uint64, uint64) error { return nil }

func (b *memBackend) Read(seq uint64, p tp, m *store.Msg) error {
	d, ok := b.msgs[p.a]
	if !ok || p.a != seq || uint64(len(d)) != p.b || b.at[seq] != p.c {
		return fmt.Errorf("read %d: payload %+v does not match", seq, p)
	}
	m.Data = d
	return nil
}

func (b *memBackend) Remove(rm []Removed[tp], _ bool) (int, error) {
	for _, r := range rm {
		delete(b.msgs, r.P.a)
	}
	return len(rm), nil
}

func (b *memBackend) Compact(_ uint64, rm []Removed[tp]) error {
	_, err := b.Remove(rm, false)
	return err
}

func (b *memBackend) Truncate(_ uint64, rm []Removed[tp]) error {
	_, err := b.Remove(rm, false)
	return err
}

// packedBackend is memBackend with a Packer: its engine freezes chunks.
type packedBackend struct {
	*memBackend
	tpPacker
}

// TestFrozenMatchesPlain drives an engine that freezes its older chunks
// and one that does not with the same random operations, over tens of
// thousands of messages, and compares every answer.
func TestFrozenMatchesPlain(t *testing.T) {
	for seed := range uint64(2) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { frozenVsPlain(t, seed) })
	}
}

func frozenVsPlain(t *testing.T, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 99))
	cfg := store.Config{Name: "F"}
	if seed == 1 {
		cfg.MaxMsgsPer = 40 // links rewritten all over the window
	}
	clock := func() func() int64 {
		now := int64(1_700_000_000_000_000_000)
		rr := rand.New(rand.NewPCG(seed, 5))
		return func() int64 {
			if rr.IntN(1000) == 0 {
				now += 1 << 40 // a pause of 18 minutes
			}
			now += int64(rr.IntN(5000))
			return now
		}
	}
	pb := packedBackend{memBackend: newMemBackend()}
	fz, err := New(cfg, Backend[tp](pb), Options{Now: clock()})
	if err != nil {
		t.Fatal(err)
	}
	pl, err := New(cfg, Backend[tp](newMemBackend()), Options{Now: clock()})
	if err != nil {
		t.Fatal(err)
	}
	if fz.mu.ents.pk == nil || pl.mu.ents.pk != nil {
		t.Fatal("the packed engine must freeze, the other not")
	}
	subjects := []string{"a", "b.1", "b.2", "c.x.y"}
	for i := range 200 {
		subjects = append(subjects, fmt.Sprintf("k.%d", i))
	}
	filters := []string{">", "a", "b.*", "b.>", "k.*", "k.1", "*.x.*", "c.>", "nope"}
	same := func(what string, a, b any) {
		t.Helper()
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%s: frozen %+v, plain %+v", what, a, b)
		}
	}
	both := func(what string, f func(e *Engine[tp]) any) {
		t.Helper()
		same(what, f(fz), f(pl))
	}
	msgOf := func(m *store.Msg, err error) any {
		if err != nil {
			return err.Error()
		}
		return *m
	}
	frozenSteps := 0
	for step := range 500 {
		for _, c := range fz.mu.ents.chunks {
			if c.fz != nil {
				frozenSteps++
				break
			}
		}
		st := pl.State()
		span := st.LastSeq - st.FirstSeq + 3
		rseq := func() uint64 { return st.FirstSeq + uint64(r.Uint64N(span)) }
		switch k := r.IntN(100); {
		case k < 40:
			// A run of one subject (links of +1), or of many.
			one := subjects[r.IntN(len(subjects))]
			for range r.IntN(1500) {
				s := one
				if r.IntN(2) == 0 {
					s = subjects[r.IntN(len(subjects))]
				}
				ttl := int64(0)
				if r.IntN(20) == 0 {
					ttl = -1
				} else if r.IntN(20) == 0 {
					ttl = 1 << 20
				}
				data := make([]byte, r.IntN(3)*r.IntN(300))
				both("store", func(e *Engine[tp]) any {
					seq, _, err := e.Store(s, nil, data, ttl)
					return fmt.Sprint(seq, err)
				})
			}
		case k < 60:
			for range r.IntN(200) {
				seq := rseq()
				both("remove", func(e *Engine[tp]) any { return fmt.Sprint(e.Remove(seq)) })
			}
		case k < 63:
			o := store.PurgeOpts{Subject: filters[r.IntN(len(filters))]}
			switch r.IntN(3) {
			case 0:
				o.Keep = uint64(r.IntN(50))
			case 1:
				o.Seq = rseq()
			}
			if o.Subject == ">" && o.Keep == 0 {
				o.Keep = 10000
			}
			if o.Seq == 0 && o.Keep == 0 && r.IntN(2) == 0 {
				o.Keep = 100
			}
			both("purge", func(e *Engine[tp]) any { return fmt.Sprint(e.Purge(o)) })
		case k < 66:
			seq := st.FirstSeq + uint64(r.Uint64N(min(span, 2000)))
			both("compact", func(e *Engine[tp]) any { return fmt.Sprint(e.Compact(seq)) })
		case k < 69:
			seq := st.LastSeq - min(st.LastSeq, uint64(r.IntN(2000)))
			both("truncate", func(e *Engine[tp]) any { return fmt.Sprint(e.Truncate(seq)) })
		case k < 71:
			n := uint64(1 + r.IntN(5000))
			both("skip", func(e *Engine[tp]) any { return fmt.Sprint(e.SkipMsgs(st.LastSeq+1, n)) })
		case k < 75:
			// Block compaction moves messages.
			for range r.IntN(100) {
				seq := rseq()
				c := r.Uint64()
				for _, e := range []*Engine[tp]{fz, pl} {
					e.Lock()
					if p, ok := e.PeekLocked(seq); ok {
						e.Backend().(interface{ move(uint64, uint64) }).move(seq, c)
						p.c = c
						e.RelocateLocked(seq, p)
					}
					e.Unlock()
				}
			}
		}
		// Queries.
		both("state", func(e *Engine[tp]) any { return e.State() })
		for range 3 {
			f, start := filters[r.IntN(len(filters))], rseq()
			both("load", func(e *Engine[tp]) any { return msgOf(e.Load(start)) })
			both("next "+f, func(e *Engine[tp]) any { return msgOf(e.LoadNext(f, start)) })
			both("prev "+f, func(e *Engine[tp]) any { return msgOf(e.LoadPrevious(f, start)) })
			both("last "+f, func(e *Engine[tp]) any { return msgOf(e.LoadLast(f)) })
			both("filtered "+f, func(e *Engine[tp]) any { return e.FilteredState(f, start) })
			both("pending "+f, func(e *Engine[tp]) any { return fmt.Sprint(e.NumPending(start, f, step%2 == 0)) })
			both("subjects "+f, func(e *Engine[tp]) any { return e.SubjectsState(f) })
		}
		if step%10 == 0 {
			start, budget := rseq(), 1+r.IntN(20000)
			last := start + uint64(r.IntN(30000))
			both("range", func(e *Engine[tp]) any {
				var b store.Batch
				next, err := e.LoadRange(start, last, budget, &b)
				return fmt.Sprint(next, err, b.Msgs)
			})
		}
		if step%100 == 0 {
			both("state+deleted", func(e *Engine[tp]) any { return e.StateWithDeleted() })
			both("live", func(e *Engine[tp]) any {
				var out []uint64
				e.EachLive(func(seq uint64, p tp) { out = append(out, seq, p.a, p.b, p.c) })
				return out
			})
		}
	}
	frozen := 0
	for _, c := range fz.mu.ents.chunks {
		if c.fz != nil {
			frozen++
		}
	}
	t.Logf("%d messages, %d chunks frozen of %d; %d steps had frozen chunks", fz.State().Msgs, frozen, len(fz.mu.ents.chunks), frozenSteps)
	if frozenSteps < 300 {
		t.Fatal("too few steps with frozen chunks")
	}
}

func (b *memBackend) move(seq, c uint64) { b.at[seq] = c }
