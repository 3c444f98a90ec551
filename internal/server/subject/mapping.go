package subject

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// MapDest is one destination of a subject mapping.
type MapDest struct {
	Subject string // destination template (see Transform)
	Weight  uint8  // percent of the messages sent here, 0 to 100
	Cluster string // only in the cluster of this name; "" everywhere
}

// Mapping sends messages published on subjects matching Source to its
// destinations, chosen per message by weight. When the weights of the
// destinations for a cluster add up to less than 100, the rest of the
// messages keep their subject, unless Source is itself one of the
// destinations: then the rest are dropped (loss injection).
type Mapping struct {
	Source string
	Dests  []MapDest
}

// DestError is a mapping error caused by one destination: Dests[Index].
type DestError struct {
	Index int
	Err   error
}

func (e *DestError) Error() string { return e.Err.Error() }
func (e *DestError) Unwrap() error { return e.Err }

// MappingSet is an account's mappings, compiled. It is immutable, so a
// reload builds a new set and swaps it in while publishers keep reading
// the old one without locks.
//
// A published subject takes the first mapping, in the order given, whose
// source matches it, and is mapped once: the result is not mapped again.
type MappingSet struct {
	specs   []Mapping
	entries []mapEntry
	literal map[string]int // literal source -> its entry
	wild    []int          // entries with wildcard sources, in order
}

type mapEntry struct {
	pat    pattern
	dests  []weighted
	cdests map[string][]weighted // cluster-scoped destinations
}

// weighted is a destination with the cumulative weight of the sorted
// list up to it: a draw in [0,100) below cum (and not below the previous
// cum) picks it.
type weighted struct {
	tr  *Transform
	cum uint8
}

// NewMappingSet checks and compiles ms. A later mapping with the same
// source replaces an earlier one in its place. The error names the source
// and, when one destination is at fault, wraps a *DestError.
func NewMappingSet(ms []Mapping) (*MappingSet, error) {
	s := &MappingSet{literal: make(map[string]int)}
	at := make(map[string]int, len(ms))
	for _, m := range ms {
		e, err := compileMapping(m)
		if err != nil {
			return nil, fmt.Errorf("mapping %q: %w", m.Source, err)
		}
		m.Dests = slices.Clone(m.Dests)
		if i, ok := at[m.Source]; ok {
			s.specs[i], s.entries[i] = m, e
			continue
		}
		at[m.Source] = len(s.entries)
		s.specs = append(s.specs, m)
		s.entries = append(s.entries, e)
	}
	for i := range s.entries {
		if s.entries[i].pat.wild {
			s.wild = append(s.wild, i)
		} else {
			s.literal[s.entries[i].pat.src] = i
		}
	}
	return s, nil
}

// CheckMapping reports what NewMappingSet would say about m alone.
func CheckMapping(m Mapping) error {
	_, err := compileMapping(m)
	return err
}

func compileMapping(m Mapping) (mapEntry, error) {
	if !ValidSubject(m.Source) {
		return mapEntry{}, ErrBadSubject
	}
	e := mapEntry{pat: newPattern(m.Source)}
	seen := make(map[string]bool, len(m.Dests))
	total := make(map[string]int)
	for i, d := range m.Dests {
		destErr := func(err error) (mapEntry, error) { return mapEntry{}, &DestError{Index: i, Err: err} }
		if seen[d.Subject] {
			return destErr(fmt.Errorf("duplicate entry for %q", d.Subject))
		}
		seen[d.Subject] = true
		if d.Weight > 100 {
			return destErr(errors.New("individual weights need to be <= 100"))
		}
		if total[d.Cluster] += int(d.Weight); total[d.Cluster] > 100 {
			return destErr(errors.New("total weight needs to be <= 100"))
		}
		tr, err := NewTransform(m.Source, d.Subject)
		if err != nil {
			return destErr(err)
		}
		w := weighted{tr: tr, cum: d.Weight}
		if d.Cluster == "" {
			e.dests = append(e.dests, w)
			continue
		}
		if e.cdests == nil {
			e.cdests = make(map[string][]weighted)
		}
		e.cdests[d.Cluster] = append(e.cdests[d.Cluster], w)
	}
	var err error
	if e.dests, err = finishDests(e.dests, m.Source, seen[m.Source]); err != nil {
		return mapEntry{}, err
	}
	for c, ds := range e.cdests {
		if e.cdests[c], err = finishDests(ds, m.Source, seen[m.Source]); err != nil {
			return mapEntry{}, err
		}
	}
	return e, nil
}

// finishDests gives the weight missing to 100 to the unchanged subject
// (unless the source is listed itself) and turns weights into cumulative
// ones, smallest first.
func finishDests(ds []weighted, src string, srcListed bool) ([]weighted, error) {
	sum := 0
	for _, d := range ds {
		sum += int(d.cum)
	}
	if sum != 100 && !srcListed {
		tr, err := NewTransform(src, identityDest(src))
		if err != nil {
			return nil, err
		}
		ds = append(ds, weighted{tr: tr, cum: uint8(100 - sum)})
	}
	slices.SortStableFunc(ds, func(a, b weighted) int { return int(a.cum) - int(b.cum) })
	var acc uint8
	for i := range ds {
		ds[i].cum += acc
		acc = ds[i].cum
	}
	return ds, nil
}

// identityDest is the destination that leaves a subject matching src as
// it was: "foo.*.*" gives "foo.$1.$2".
func identityDest(src string) string {
	toks := strings.Split(src, ".")
	n := 0
	for i, t := range toks {
		if t == pwc {
			n++
			toks[i] = "$" + strconv.Itoa(n)
		}
	}
	return strings.Join(toks, ".")
}

// Len is the number of mappings.
func (s *MappingSet) Len() int {
	if s == nil {
		return 0
	}
	return len(s.entries)
}

// Mappings returns the mappings the set was built from, in match order.
func (s *MappingSet) Mappings() []Mapping {
	if s == nil {
		return nil
	}
	out := make([]Mapping, len(s.specs))
	for i, m := range s.specs {
		out[i] = Mapping{Source: m.Source, Dests: slices.Clone(m.Dests)}
	}
	return out
}

// Map appends to dst the subject a message published on subj goes to.
// mapped is false, and dst comes back unchanged, when no mapping applies.
// When mapped is true but nothing was appended, the message is to be
// dropped (weights below 100 with the source listed as a destination).
//
// cluster selects cluster-scoped destinations; a mapping without any for
// that cluster uses its unscoped ones. Map does not allocate beyond
// growing dst, except for wildcard sources of more than 32 tokens.
func (s *MappingSet) Map(dst, subj []byte, cluster string) (out []byte, mapped bool) {
	if s == nil {
		return dst, false
	}
	var arr [spanStack]span
	sp := arr[:]
	found := -1
	if i, ok := s.literal[string(subj)]; ok {
		found = i
	}
	for _, w := range s.wild {
		if found >= 0 && w > found {
			break // an earlier literal mapping matched
		}
		e := &s.entries[w]
		if len(e.pat.toks) > len(sp) {
			sp = make([]span, len(e.pat.toks))
		}
		if e.pat.match(subj, sp) {
			found = w
			break
		}
	}
	if found < 0 {
		return dst, false
	}
	e := &s.entries[found]
	ds := e.dests
	if e.cdests != nil {
		if cds, ok := e.cdests[cluster]; ok {
			ds = cds
		}
	}
	var draw uint8
	if len(ds) != 1 || ds[0].cum != 100 {
		draw = uint8(rand.Uint32N(100))
	}
	d := pick(ds, draw)
	if d == nil {
		return dst, true
	}
	return d.tr.build(dst, subj, sp), true
}

// pick returns the destination draw (in [0,100)) falls to, or nil when it
// falls past the last one.
func pick(ds []weighted, draw uint8) *weighted {
	for i := range ds {
		if draw < ds[i].cum {
			return &ds[i]
		}
	}
	return nil
}

// Apply is Map for strings, for tests and tools.
func (s *MappingSet) Apply(subject, cluster string) (mapped string, ok bool) {
	out, ok := s.Map(nil, []byte(subject), cluster)
	return string(out), ok
}
