package subject

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestOmap grows and drains a set across the index thresholds and checks
// it against a plain map, including the order kept while it is small.
func TestOmap(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var m entries[int]
	want := map[int]bool{}
	check := func(step int) {
		t.Helper()
		if m.len() != len(want) {
			t.Fatalf("step %d: len %d, want %d", step, m.len(), len(want))
		}
		for i, k := range m.keys {
			if !want[k] || m.find(k) != i {
				t.Fatalf("step %d: key %d at %d, find = %d", step, k, i, m.find(k))
			}
		}
		if m.idx != nil && len(m.idx) != m.len() {
			t.Fatalf("step %d: index has %d keys, set %d", step, len(m.idx), m.len())
		}
	}
	for round := range 3 {
		for i := range 500 { // grow past indexAbove, with some removals
			k := rng.IntN(1000)
			if m.find(k) < 0 {
				m.add(k, struct{}{})
				want[k] = true
			}
			if i%3 == 0 { // k is present, so the set is not empty
				j := rng.IntN(m.len())
				delete(want, m.keys[j])
				m.removeAt(j)
			}
			check(round*1000 + i)
		}
		for m.len() > 0 { // drain
			j := rng.IntN(m.len())
			delete(want, m.keys[j])
			m.removeAt(j)
			check(round*1000 + 500)
		}
		if m.keys != nil || m.idx != nil {
			t.Fatal("drained set kept its memory")
		}
	}
	// Small sets keep insertion order through removals.
	for i := range 10 {
		m.add(i, struct{}{})
	}
	m.removeAt(m.find(4))
	m.removeAt(m.find(0))
	if !slices.Equal(m.keys, []int{1, 2, 3, 5, 6, 7, 8, 9}) {
		t.Fatalf("order = %v", m.keys)
	}
}
