package subject

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
)

// view is a Result in a comparable, order-free form.
type view struct {
	Plain  []int
	Queues map[string][]int
}

func viewOf(t testing.TB, r *Result[int]) view {
	t.Helper()
	if r == nil {
		t.Fatal("nil result")
	}
	if len(r.Queues) != len(r.QueueNames) {
		t.Fatalf("result has %d queue groups but %d names", len(r.Queues), len(r.QueueNames))
	}
	var v view
	if len(r.Plain) > 0 {
		v.Plain = slices.Sorted(slices.Values(r.Plain))
	}
	for i, q := range r.Queues {
		if len(q) == 0 {
			t.Fatalf("empty queue group %q in result", r.QueueNames[i])
		}
		if v.Queues == nil {
			v.Queues = map[string][]int{}
		}
		if _, dup := v.Queues[r.QueueNames[i]]; dup {
			t.Fatalf("queue group %q appears twice", r.QueueNames[i])
		}
		v.Queues[r.QueueNames[i]] = slices.Sorted(slices.Values(q))
	}
	return v
}

// model is the obvious slow implementation the sublist is checked against.
type model struct{ entries []entry[int] }

func (m *model) insert(subject, queue string, v int) {
	e := entry[int]{subject, queue, v}
	if !slices.Contains(m.entries, e) {
		m.entries = append(m.entries, e)
	}
}

func (m *model) remove(subject, queue string, v int) bool {
	i := slices.Index(m.entries, entry[int]{subject, queue, v})
	if i < 0 {
		return false
	}
	m.entries = slices.Delete(m.entries, i, i+1)
	return true
}

func (m *model) match(literal string) view {
	r := &Result[int]{}
	for _, e := range m.entries {
		if !Matches(literal, e.subject) {
			continue
		}
		if e.queue == "" {
			r.Plain = append(r.Plain, e.v)
			continue
		}
		if i := slices.Index(r.QueueNames, e.queue); i >= 0 {
			r.Queues[i] = append(r.Queues[i], e.v)
		} else {
			r.QueueNames = append(r.QueueNames, e.queue)
			r.Queues = append(r.Queues, []int{e.v})
		}
	}
	return viewOf(testingNoop{}, r)
}

// testingNoop lets the model reuse viewOf without a *testing.T.
type testingNoop struct{ testing.TB }

func (testingNoop) Helper() {}

type sub struct {
	subject, queue string
	v              int
}

func mustInsert(t testing.TB, s *Sublist[int], subs ...sub) {
	t.Helper()
	for _, x := range subs {
		if err := s.Insert(x.subject, x.queue, x.v); err != nil {
			t.Fatalf("Insert(%q, %q, %d): %v", x.subject, x.queue, x.v, err)
		}
	}
}

func TestSublistMatch(t *testing.T) {
	subs := []sub{
		{"foo", "", 1},
		{"foo.bar", "", 2},
		{"foo.*", "", 3},
		{"foo.>", "", 4},
		{"*.bar", "", 5},
		{">", "", 6},
		{"foo.bar.baz", "", 7},
		{"foo.*.baz", "", 8},
		{"*.*.baz", "", 9},
		{"foo*.bar", "", 10},
		{"foo.bar", "q1", 11},
		{"foo.*", "q1", 12},
		{"foo.>", "q2", 13},
		{"bar.*.>", "", 14},
	}
	tests := []struct {
		literal string
		want    view
	}{
		{"foo", view{Plain: []int{1, 6}}},
		{"foo.bar", view{Plain: []int{2, 3, 4, 5, 6}, Queues: map[string][]int{"q1": {11, 12}, "q2": {13}}}},
		{"foo.baz", view{Plain: []int{3, 4, 6}, Queues: map[string][]int{"q1": {12}, "q2": {13}}}},
		{"foo.bar.baz", view{Plain: []int{4, 6, 7, 8, 9}, Queues: map[string][]int{"q2": {13}}}},
		{"foo.x.y.z", view{Plain: []int{4, 6}, Queues: map[string][]int{"q2": {13}}}},
		{"x.bar", view{Plain: []int{5, 6}}},
		{"foo*.bar", view{Plain: []int{5, 6, 10}}},
		{"bar.x", view{Plain: []int{6}}},         // '>' needs one token after bar.x
		{"bar.x.y", view{Plain: []int{6, 14}}},   // mixed '*' and '>'
		{"bar.x.y.z", view{Plain: []int{6, 14}}}, // '>' takes several tokens
		{"zzz", view{Plain: []int{6}}},           // only the full wildcard
		{"foo.*", view{Plain: []int{3, 4, 6}, Queues: map[string][]int{"q1": {12}, "q2": {13}}}},
		{"foo.>", view{Plain: []int{3, 4, 6}, Queues: map[string][]int{"q1": {12}, "q2": {13}}}},
		{"foo..bar", view{}}, // malformed: nothing, even for '>'
		{"", view{}},
		{".", view{}},
		{".foo", view{}},
		{"foo.", view{}},
	}
	for _, cache := range []bool{true, false} {
		s := NewSublistNoCache[int]()
		if cache {
			s = NewSublist[int]()
		}
		mustInsert(t, s, subs...)
		for _, tt := range tests {
			t.Run(fmt.Sprintf("cache=%v/%s", cache, tt.literal), func(t *testing.T) {
				for range 2 { // second round comes from the cache
					if got := viewOf(t, s.Match(tt.literal)); !reflect.DeepEqual(got, tt.want) {
						t.Fatalf("Match(%q) = %+v, want %+v", tt.literal, got, tt.want)
					}
					if got := viewOf(t, s.MatchBytes([]byte(tt.literal))); !reflect.DeepEqual(got, tt.want) {
						t.Fatalf("MatchBytes(%q) = %+v, want %+v", tt.literal, got, tt.want)
					}
					if got, want := s.HasInterest(tt.literal), tt.want.Plain != nil || tt.want.Queues != nil; got != want {
						t.Fatalf("HasInterest(%q) = %v, want %v", tt.literal, got, want)
					}
				}
			})
		}
	}
}

func TestSublistQueueGroups(t *testing.T) {
	s := NewSublist[int]()
	mustInsert(t, s,
		sub{"work", "a", 1}, sub{"work", "a", 2}, sub{"work", "b", 3},
		sub{"work", "a.b", 4}, sub{"work", "", 5}, sub{"work.*", "a", 6},
	)
	r := s.Match("work")
	want := view{Plain: []int{5}, Queues: map[string][]int{"a": {1, 2}, "b": {3}, "a.b": {4}}}
	if got := viewOf(t, r); !reflect.DeepEqual(got, want) {
		t.Fatalf("Match = %+v, want %+v", got, want)
	}
	// Groups come out in insertion order, members too.
	if !slices.Equal(r.QueueNames, []string{"a", "b", "a.b"}) || !slices.Equal(r.Queues[0], []int{1, 2}) {
		t.Fatalf("queue order = %v %v", r.QueueNames, r.Queues)
	}
	// The same value in two groups is two entries.
	mustInsert(t, s, sub{"work", "b", 1})
	want.Queues["b"] = []int{1, 3}
	if got := viewOf(t, s.Match("work")); !reflect.DeepEqual(got, want) {
		t.Fatalf("Match = %+v, want %+v", got, want)
	}
	if err := s.Remove("work", "b", 3); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove("work", "b", 1); err != nil {
		t.Fatal(err)
	}
	delete(want.Queues, "b")
	if got := viewOf(t, s.Match("work")); !reflect.DeepEqual(got, want) {
		t.Fatalf("after removing group b: %+v, want %+v", got, want)
	}
	if err := s.Insert("work", "bad queue", 9); !errors.Is(err, ErrInvalidQueue) {
		t.Fatalf("Insert with bad queue: %v", err)
	}
}

func TestSublistInsertRemoveErrors(t *testing.T) {
	s := NewSublist[int]()
	for _, bad := range []string{"", "foo..bar", "foo.>.bar", "foo bar", ".", "foo."} {
		if err := s.Insert(bad, "", 1); !errors.Is(err, ErrInvalidSubject) {
			t.Errorf("Insert(%q) = %v, want ErrInvalidSubject", bad, err)
		}
		if err := s.Remove(bad, "", 1); !errors.Is(err, ErrInvalidSubject) {
			t.Errorf("Remove(%q) = %v, want ErrInvalidSubject", bad, err)
		}
	}
	mustInsert(t, s, sub{"foo.bar", "", 1}, sub{"foo.bar", "q", 2}, sub{"foo.*", "", 3})
	notFound := []sub{
		{"foo.bar", "", 2},  // wrong value
		{"foo.bar", "q", 1}, // wrong group
		{"foo.bar", "r", 2}, // no such group
		{"foo", "", 1},      // prefix of a subject
		{"foo.bar.baz", "", 1},
		{"foo.>", "", 3}, // a wildcard is not its sibling
		{"foo.baz", "", 3},
		{"nothing", "", 1},
	}
	for _, x := range notFound {
		if err := s.Remove(x.subject, x.queue, x.v); !errors.Is(err, ErrNotFound) {
			t.Errorf("Remove(%q, %q, %d) = %v, want ErrNotFound", x.subject, x.queue, x.v, err)
		}
	}
	if s.Count() != 3 {
		t.Fatalf("Count = %d after failed removes, want 3", s.Count())
	}
	if err := s.Remove("foo.bar", "", 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove("foo.bar", "", 1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Remove = %v, want ErrNotFound", err)
	}
}

func TestSublistDuplicateInsert(t *testing.T) {
	s := NewSublist[int]()
	mustInsert(t, s, sub{"foo", "", 1})
	gen := s.Generation()
	mustInsert(t, s, sub{"foo", "", 1})
	if s.Count() != 1 || s.Generation() != gen {
		t.Fatalf("duplicate insert changed the index: count %d gen %d->%d", s.Count(), gen, s.Generation())
	}
	if got := s.Match("foo").Plain; !slices.Equal(got, []int{1}) {
		t.Fatalf("Match = %v", got)
	}
}

func TestSublistGeneration(t *testing.T) {
	s := NewSublist[int]()
	seen := map[uint64]bool{s.Generation(): true}
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		g := s.Generation()
		if seen[g] {
			t.Fatalf("%s: generation %d did not change", what, g)
		}
		seen[g] = true
	}
	step("insert", s.Insert("foo", "", 1))
	step("insert wildcard", s.Insert("foo.>", "", 2))
	step("insert queue", s.Insert("foo", "q", 3))
	step("remove", s.Remove("foo", "", 1))
	step("remove queue", s.Remove("foo", "q", 3))
	g := s.Generation()
	s.Match("foo.bar")
	_ = s.Remove("foo", "", 1) // not found: nothing changed
	_ = s.Insert("foo..", "", 1)
	if s.Generation() != g {
		t.Fatal("generation changed without a change to the index")
	}
}

func TestSublistCacheInvalidation(t *testing.T) {
	s := NewSublist[int]()
	mustInsert(t, s, sub{"foo.bar", "", 1})
	expect := func(literal string, want view) {
		t.Helper()
		if got := viewOf(t, s.Match(literal)); !reflect.DeepEqual(got, want) {
			t.Fatalf("Match(%q) = %+v, want %+v", literal, got, want)
		}
	}
	expect("foo.bar", view{Plain: []int{1}})
	expect("foo.baz", view{}) // no interest is cached too
	old := s.Match("foo.bar")

	mustInsert(t, s, sub{"foo.*", "", 2})
	expect("foo.bar", view{Plain: []int{1, 2}})
	expect("foo.baz", view{Plain: []int{2}})
	if !slices.Equal(old.Plain, []int{1}) {
		t.Fatalf("a returned result was mutated: %v", old.Plain)
	}
	mustInsert(t, s, sub{">", "g", 3}, sub{"foo.bar", "g", 4})
	expect("foo.bar", view{Plain: []int{1, 2}, Queues: map[string][]int{"g": {3, 4}}})
	expect("foo.baz", view{Plain: []int{2}, Queues: map[string][]int{"g": {3}}})

	if err := s.Remove("foo.*", "", 2); err != nil {
		t.Fatal(err)
	}
	expect("foo.bar", view{Plain: []int{1}, Queues: map[string][]int{"g": {3, 4}}})
	expect("foo.baz", view{Queues: map[string][]int{"g": {3}}})
	if err := s.Remove(">", "g", 3); err != nil {
		t.Fatal(err)
	}
	expect("foo.baz", view{})
	if err := s.Remove("foo.bar", "", 1); err != nil {
		t.Fatal(err)
	}
	expect("foo.bar", view{Queues: map[string][]int{"g": {4}}})

	// A large cached result is dropped rather than copied; still correct.
	for i := range cacheUpdateMax + 5 {
		mustInsert(t, s, sub{"big", "", i})
		if n := len(s.Match("big").Plain); n != i+1 {
			t.Fatalf("Match(big) has %d entries, want %d", n, i+1)
		}
	}
}

func TestSublistCacheBounded(t *testing.T) {
	s := NewSublistCache[int](64)
	mustInsert(t, s, sub{"foo.*", "", 1})
	for i := range 1000 {
		lit := fmt.Sprintf("foo.%d", i)
		if got := s.Match(lit).Plain; !slices.Equal(got, []int{1}) {
			t.Fatalf("Match(%q) = %v", lit, got)
		}
	}
	if st := s.Stats(); st.CacheEntries > 64 || st.CacheEntries == 0 {
		t.Fatalf("cache holds %d entries, want 1..64", st.CacheEntries)
	}
	if st := NewSublistNoCache[int](); st.Match("x") == nil || st.Stats().CacheEntries != 0 {
		t.Fatal("no-cache sublist cached")
	}
}

func TestSublistPruning(t *testing.T) {
	s := NewSublist[int]()
	subs := []sub{
		{"a", "", 1}, {"a.b", "", 2}, {"a.b.c", "", 3}, {"a.*.c", "q", 4},
		{"a.>", "", 5}, {"*.b.>", "", 6}, {">", "", 7}, {"x.y.z.w", "", 8},
		{"a.b.c", "q", 9}, {"a.b.c", "r", 10},
	}
	mustInsert(t, s, subs...)
	if s.mu.root.numNodes() == 0 || s.Count() != len(subs) {
		t.Fatalf("Count = %d nodes = %d", s.Count(), s.mu.root.numNodes())
	}
	rand.Shuffle(len(subs), func(i, j int) { subs[i], subs[j] = subs[j], subs[i] })
	for _, x := range subs {
		s.Match("a.b.c")
		if err := s.Remove(x.subject, x.queue, x.v); err != nil {
			t.Fatalf("Remove(%v): %v", x, err)
		}
	}
	if s.Count() != 0 || s.mu.root.numNodes() != 0 || !s.mu.root.empty() {
		t.Fatalf("after removing all: Count = %d nodes = %d", s.Count(), s.mu.root.numNodes())
	}
	if !s.Match("a.b.c").Empty() {
		t.Fatal("empty sublist matched")
	}

	// Request/reply style churn leaves nothing behind.
	for i := range 5000 {
		inbox := fmt.Sprintf("_INBOX.%d.%d", i%7, i)
		mustInsert(t, s, sub{inbox, "", i})
		s.Match(inbox)
		if err := s.Remove(inbox, "", i); err != nil {
			t.Fatal(err)
		}
	}
	if s.Count() != 0 || s.mu.root.numNodes() != 0 || s.mu.root.nodes != nil {
		t.Fatalf("after churn: Count = %d nodes = %d", s.Count(), s.mu.root.numNodes())
	}
}

func TestSublistManySubscribers(t *testing.T) {
	const n = 10000
	s := NewSublist[int]()
	for i := range n {
		mustInsert(t, s, sub{"fan", "", i}, sub{"fan", "q", i})
	}
	r := s.Match("fan")
	if len(r.Plain) != n || len(r.Queues) != 1 || len(r.Queues[0]) != n {
		t.Fatalf("Match(fan): %d plain, %d groups", len(r.Plain), len(r.Queues))
	}
	// Removing in random order exercises the indexed, swap-remove path.
	perm := rand.Perm(n)
	for k, i := range perm {
		if err := s.Remove("fan", "", i); err != nil {
			t.Fatal(err)
		}
		if err := s.Remove("fan", "q", i); err != nil {
			t.Fatal(err)
		}
		if left := n - k - 1; k%997 == 0 || left < 20 {
			want := slices.Sorted(slices.Values(perm[k+1:]))
			if got := viewOf(t, s.Match("fan")); !slices.Equal(got.Plain, want) ||
				(left > 0 && !slices.Equal(got.Queues["q"], want)) {
				t.Fatalf("after %d removals: wrong result", k+1)
			}
		}
	}
	if s.Count() != 0 || s.mu.root.numNodes() != 0 {
		t.Fatalf("Count = %d nodes = %d", s.Count(), s.mu.root.numNodes())
	}
}

func TestSublistInsertionOrder(t *testing.T) {
	s := NewSublist[int]()
	for i := range 10 {
		mustInsert(t, s, sub{"foo", "", i})
	}
	if err := s.Remove("foo", "", 3); err != nil {
		t.Fatal(err)
	}
	mustInsert(t, s, sub{"foo", "", 3})
	if got, want := s.Match("foo").Plain, []int{0, 1, 2, 4, 5, 6, 7, 8, 9, 3}; !slices.Equal(got, want) {
		t.Fatalf("order = %v, want %v", got, want)
	}
}

func TestSublistAll(t *testing.T) {
	s := NewSublist[int]()
	subs := []sub{{"b", "", 1}, {"a.b", "q", 2}, {"a.*", "", 3}, {"a.>", "", 4}, {"a", "", 5}, {">", "", 6}}
	mustInsert(t, s, subs...)
	var got []sub
	s.All(func(subject, queue string, v int) {
		got = append(got, sub{subject, queue, v})
		_ = s.Count() // fn may call back into the sublist
	})
	want := []sub{{"a", "", 5}, {"a.b", "q", 2}, {"a.*", "", 3}, {"a.>", "", 4}, {"b", "", 1}, {">", "", 6}}
	if !slices.Equal(got, want) {
		t.Fatalf("All = %v, want %v", got, want)
	}
}

func TestSublistStats(t *testing.T) {
	s := NewSublist[int]()
	mustInsert(t, s, sub{"foo", "", 1}, sub{"foo", "q", 2}, sub{"bar", "", 3})
	_ = s.Remove("bar", "", 3)
	s.Match("foo")
	s.Match("foo")
	s.MatchBytes([]byte("foo"))
	st := s.Stats()
	want := Stats{Count: 2, CacheEntries: 1, Inserts: 3, Removes: 1, Matches: 3, CacheHits: 2, MaxFanout: 2, AvgFanout: 2}
	if st != want {
		t.Fatalf("Stats = %+v, want %+v", st, want)
	}
}

func TestSublistHasInterestNoAlloc(t *testing.T) {
	s := NewSublistNoCache[int]()
	mustInsert(t, s, sub{"a.*.c", "", 1}, sub{"a.b.>", "", 2}, sub{"x", "q", 3})
	for lit, want := range map[string]bool{"a.z.c": true, "a.b.c.d": true, "a.b": false, "a": false, "x": true, "a.b.c": true} {
		if got := s.HasInterest(lit); got != want {
			t.Errorf("HasInterest(%q) = %v, want %v", lit, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { s.HasInterest("a.b.c.d") }); n != 0 {
		t.Fatalf("HasInterest allocates %v times", n)
	}
}

func TestMatchBytesCacheHitNoAlloc(t *testing.T) {
	s := NewSublist[int]()
	mustInsert(t, s, sub{"foo.*", "", 1}, sub{"foo.bar", "q", 2})
	b := []byte("foo.bar")
	s.MatchBytes(b)
	if n := testing.AllocsPerRun(100, func() { s.MatchBytes(b) }); n != 0 {
		t.Fatalf("MatchBytes cache hit allocates %v times", n)
	}
}

// TestSublistModel checks random operations against the slow model, with
// and without the cache.
func TestSublistModel(t *testing.T) {
	toks := []string{"a", "b", "c", "*", ">"}
	lits := []string{"a", "b", "c", "*"}
	rng := rand.New(rand.NewPCG(1, 2))
	randSubject := func(alphabet []string) string {
		n := 1 + rng.IntN(4)
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
	queues := []string{"", "", "q1", "q2"}
	for _, s := range []*Sublist[int]{NewSublist[int](), NewSublistNoCache[int](), NewSublistCache[int](8)} {
		var m model
		for step := range 5000 {
			switch op := rng.IntN(10); {
			case op < 4:
				x := sub{randSubject(toks), queues[rng.IntN(len(queues))], rng.IntN(20)}
				mustInsert(t, s, x)
				m.insert(x.subject, x.queue, x.v)
			case op < 6 && len(m.entries) > 0:
				e := m.entries[rng.IntN(len(m.entries))]
				if err := s.Remove(e.subject, e.queue, e.v); err != nil {
					t.Fatalf("step %d: Remove(%v): %v", step, e, err)
				}
				m.remove(e.subject, e.queue, e.v)
			default:
				lit := randSubject(lits)
				want := m.match(lit)
				if got := viewOf(t, s.Match(lit)); !reflect.DeepEqual(got, want) {
					t.Fatalf("step %d: Match(%q) = %+v, want %+v", step, lit, got, want)
				}
				if got := s.HasInterest(lit); got != (want.Plain != nil || want.Queues != nil) {
					t.Fatalf("step %d: HasInterest(%q) = %v", step, lit, got)
				}
			}
			if s.Count() != len(m.entries) {
				t.Fatalf("step %d: Count = %d, want %d", step, s.Count(), len(m.entries))
			}
		}
	}
}

func TestSublistConcurrent(t *testing.T) {
	s := NewSublist[int]()
	mustInsert(t, s, sub{"shared.>", "", -1})
	const workers, rounds = 4, 2000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(2)
		go func() { // churn: private subjects plus shared wildcards
			defer wg.Done()
			for i := range rounds {
				v := w*rounds + i
				subs := []sub{
					{fmt.Sprintf("shared.%d", i%10), "", v},
					{"shared.*", "q", v},
					{fmt.Sprintf("own.%d.%d", w, i), "", v},
				}
				for _, x := range subs {
					if err := s.Insert(x.subject, x.queue, x.v); err != nil {
						t.Error(err)
						return
					}
				}
				if !slices.Contains(s.Match(subs[2].subject).Plain, v) {
					t.Errorf("own subject %q not matched", subs[2].subject)
					return
				}
				for _, x := range subs {
					if err := s.Remove(x.subject, x.queue, x.v); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
		go func() { // readers
			defer wg.Done()
			b := []byte("shared.3")
			for i := range rounds * 3 {
				gen := s.Generation()
				r := s.MatchBytes(b)
				if !slices.Contains(r.Plain, -1) {
					t.Errorf("gen %d: lost the permanent subscriber", gen)
					return
				}
				s.HasInterest(fmt.Sprintf("shared.%d", i%10))
				s.Stats()
			}
		}()
	}
	wg.Wait()
	if err := s.Remove("shared.>", "", -1); err != nil {
		t.Fatal(err)
	}
	if s.Count() != 0 || s.mu.root.numNodes() != 0 {
		t.Fatalf("Count = %d nodes = %d", s.Count(), s.mu.root.numNodes())
	}
	if r := s.Match("shared.3"); !r.Empty() {
		t.Fatalf("stale cache: %+v", r)
	}
}
