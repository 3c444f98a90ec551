package subject

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
)

func cached(s *Sublist[int], subject string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.mu.cache[subject]
	return ok
}

// fillCache fills s's cache with results for filler subjects.
func fillCache(t *testing.T, s *Sublist[int]) {
	t.Helper()
	for i := 0; s.Stats().CacheEntries < s.cacheMax; i++ {
		s.Match("fill." + strconv.Itoa(i))
		if i > 10*s.cacheMax {
			t.Fatal("cache does not fill")
		}
	}
}

func TestSublistAdmitWhileRoom(t *testing.T) {
	s := NewSublistCache[int](8)
	mustInsert(t, s, sub{"a.*", "", 1})
	s.Match("a.b")
	if !cached(s, "a.b") {
		t.Fatal("first miss not cached while the cache has room")
	}
}

func TestSublistAdmitSecondMissWhenFull(t *testing.T) {
	s := NewSublistCache[int](8)
	mustInsert(t, s, sub{"_INBOX.x.*", "", 1})
	fillCache(t, s)
	before := s.Stats().CacheEntries
	for i := range 100 { // one-shot reply subjects: none enters
		subj := "_INBOX.x." + strconv.Itoa(i)
		if got := s.MatchBytes([]byte(subj)).Plain; len(got) != 1 || got[0] != 1 {
			t.Fatalf("MatchBytes(%q) = %v", subj, got)
		}
		if cached(s, subj) {
			t.Fatalf("one-shot %q cached in a full cache", subj)
		}
	}
	if got := s.Stats().CacheEntries; got != before {
		t.Fatalf("cache entries %d, want %d", got, before)
	}
	s.Match("_INBOX.x.again")
	if cached(s, "_INBOX.x.again") {
		t.Fatal("cached on first miss")
	}
	s.Match("_INBOX.x.again")
	if !cached(s, "_INBOX.x.again") {
		t.Fatal("not cached on second miss")
	}
	if got := s.Stats().CacheEntries; got != before {
		t.Fatalf("cache entries %d after admission, want %d (one evicted)", got, before)
	}
}

// TestSublistAdmitInvalidation: a subject admitted after waiting in the seen
// table reflects every change made meanwhile.
func TestSublistAdmitInvalidation(t *testing.T) {
	s := NewSublistCache[int](4)
	fillCache(t, s)
	s.Match("foo.bar") // seen, not cached
	mustInsert(t, s, sub{"foo.*", "", 1})
	if got := s.Match("foo.bar").Plain; len(got) != 1 { // admitted now
		t.Fatalf("Match = %v", got)
	}
	if err := s.Remove("foo.*", "", 1); err != nil {
		t.Fatal(err)
	}
	if r := s.Match("foo.bar"); !r.Empty() {
		t.Fatalf("stale after remove: %+v", r)
	}
}

// TestMatchBytesMissNoAlloc: a miss that is not cached does not copy the
// subject.
func TestMatchBytesMissNoAlloc(t *testing.T) {
	s := NewSublistCache[int](4)
	fillCache(t, s)
	buf := []byte("nobody.listens.here.0000000000000000000000000000")
	i := 0
	n := testing.AllocsPerRun(200, func() {
		i++
		copy(buf[len(buf)-8:], fmt.Sprintf("%08d", i))
		s.MatchBytes(buf)
	})
	if n > 1 { // the Sprintf
		t.Fatalf("uncached MatchBytes miss allocates %v times", n)
	}
}

// TestSublistAdmitRandom compares small caches (so admission and eviction
// run constantly) against an uncached index under random inserts, removes
// and matches through a reused byte buffer, which also checks that cache
// keys never alias the caller's memory.
func TestSublistAdmitRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	toks := []string{"a", "b", "c", "d", "*", ">"}
	lits := []string{"a", "b", "c", "d", "e"}
	randSubject := func(alphabet []string) string {
		n := 1 + rng.IntN(3)
		var b []byte
		for i := range n {
			if i > 0 {
				b = append(b, '.')
			}
			tok := alphabet[rng.IntN(len(alphabet))]
			if tok == ">" && i != n-1 {
				tok = "*"
			}
			b = append(b, tok...)
		}
		return string(b)
	}
	for _, size := range []int{1, 4, 16} {
		s, ref := NewSublistCache[int](size), NewSublistNoCache[int]()
		var m model
		buf := make([]byte, 0, 64)
		for step := range 20000 {
			switch op := rng.IntN(20); {
			case op < 2:
				x := sub{randSubject(toks), []string{"", "q"}[rng.IntN(2)], rng.IntN(10)}
				mustInsert(t, s, x)
				mustInsert(t, ref, x)
				m.insert(x.subject, x.queue, x.v)
			case op < 4 && len(m.entries) > 0:
				e := m.entries[rng.IntN(len(m.entries))]
				if s.Remove(e.subject, e.queue, e.v) != nil || ref.Remove(e.subject, e.queue, e.v) != nil {
					t.Fatalf("step %d: Remove(%v) failed", step, e)
				}
				m.remove(e.subject, e.queue, e.v)
			default:
				lit := randSubject(lits)
				buf = append(buf[:0], lit...)
				got := viewOf(t, s.MatchBytes(buf))
				for i := range buf {
					buf[i] = 'z' // a cache key aliasing buf would now be wrong
				}
				if want := viewOf(t, ref.Match(lit)); !reflect.DeepEqual(got, want) {
					t.Fatalf("size %d step %d: MatchBytes(%q) = %+v, uncached %+v", size, step, lit, got, want)
				}
				if got, want := viewOf(t, s.Match(lit)), m.match(lit); !reflect.DeepEqual(got, want) {
					t.Fatalf("size %d step %d: Match(%q) = %+v, model %+v", size, step, lit, got, want)
				}
			}
		}
		s.mu.RLock()
		for k, r := range s.mu.cache {
			if want := viewOf(t, ref.Match(k)); !reflect.DeepEqual(viewOf(t, r), want) {
				t.Fatalf("size %d: cached %q = %+v, uncached %+v", size, k, viewOf(t, r), want)
			}
		}
		if int64(len(s.mu.cache)) != s.cacheLen.Load() {
			t.Fatalf("size %d: cacheLen %d, cache %d", size, s.cacheLen.Load(), len(s.mu.cache))
		}
		s.mu.RUnlock()
	}
}
