package engine

import (
	"fmt"
	"time"

	"github.com/sluicehq/sluice/internal/server/store"
)

// scanLimit bounds a linear scan before a query switches to the subject
// index.
const scanLimit = 1024

// read loads the message of a live entry under the read lock. A corrupt
// message is reported with ok false: the caller drops the lock, calls
// dropCorrupt and asks again.
func (e *Engine[P]) readRLocked(seq uint64, ent entry[P]) (*store.Msg, error) {
	m := &store.Msg{Subject: ent.s.name, Seq: seq, Time: ent.ts}
	if err := e.b.Read(seq, ent.p, m); err != nil {
		return nil, err
	}
	return m, nil
}

// dropCorrupt removes and reports a message whose bytes are corrupt.
func (e *Engine[P]) dropCorrupt(seq uint64) {
	e.mu.Lock()
	defer e.unlock()
	if ent, ok := e.at(seq); ok {
		e.log.Errorf("store %s: message %d is corrupt on disk and is dropped", e.mu.cfg.Name, seq)
		e.addLostLocked(&store.LostData{Msgs: []uint64{seq}, Bytes: ent.size()})
		e.dropLocked(seq)
	}
}

// find runs a lookup under the read lock and loads what it finds, retrying
// when the message found is corrupt.
func (e *Engine[P]) find(filter string, look func(f *matcher) uint64) (*store.Msg, error) {
	f, ok := parseFilter(filter)
	if !ok {
		return nil, fmt.Errorf("%w: %q", store.ErrBadFilter, filter)
	}
	for {
		e.mu.RLock()
		if e.mu.closed {
			e.mu.RUnlock()
			return nil, store.ErrStoreClosed
		}
		seq := look(&f)
		if seq == 0 {
			e.mu.RUnlock()
			return nil, store.ErrNotFound
		}
		ent, _ := e.at(seq)
		m, err := e.readRLocked(seq, ent)
		e.mu.RUnlock()
		if err == store.ErrCorrupt {
			e.dropCorrupt(seq)
			continue
		}
		return m, err
	}
}

// LoadNext implements store.Store.
func (e *Engine[P]) LoadNext(filter string, start uint64) (*store.Msg, error) {
	return e.find(filter, func(f *matcher) uint64 { return e.nextLocked(f, start) })
}

// LoadLast implements store.Store.
func (e *Engine[P]) LoadLast(filter string) (*store.Msg, error) {
	return e.find(filter, func(f *matcher) uint64 { return e.prevLocked(f, e.mu.last) })
}

// LoadPrevious implements store.Store.
func (e *Engine[P]) LoadPrevious(filter string, start uint64) (*store.Msg, error) {
	return e.find(filter, func(f *matcher) uint64 { return e.prevLocked(f, start) })
}

// nextLocked is the first live sequence >= start matching f (0: none).
func (e *Engine[P]) nextLocked(f *matcher, start uint64) uint64 {
	start = max(start, e.mu.first)
	if e.mu.msgs == 0 || start > e.mu.last {
		return 0
	}
	if f.literal {
		s := e.mu.subjs.get(f.raw)
		if s == nil || s.last < start {
			return 0
		}
		if s.first >= start {
			return s.first
		}
	}
	var cache map[*subj]bool
	for seq, n := start, 0; seq <= e.mu.last; seq, n = seq+1, n+1 {
		if s := e.mu.ents.subj(seq); s != nil && e.matchCached(f, s, &cache) {
			return seq
		}
		if n == scanLimit && !f.all {
			return e.nextByIndexLocked(f, seq+1)
		}
	}
	return 0
}

// nextByIndexLocked finds the next match from the subjects' lists: the
// lowest, over matching subjects, of the first sequence >= start.
func (e *Engine[P]) nextByIndexLocked(f *matcher, start uint64) uint64 {
	var best uint64
	e.mu.subjs.each(f, func(s *subj) bool {
		if s.last < start || (best != 0 && s.first > best) {
			return true
		}
		seq := s.last
		for {
			p := e.mu.ents.prev(seq)
			if p == 0 || p < start {
				break
			}
			seq = p
		}
		if best == 0 || seq < best {
			best = seq
		}
		return true
	})
	return best
}

func (e *Engine[P]) matchCached(f *matcher, s *subj, cache *map[*subj]bool) bool {
	if f.all {
		return true
	}
	if f.literal {
		return s.name == f.raw
	}
	if *cache == nil {
		*cache = make(map[*subj]bool)
	}
	m, ok := (*cache)[s]
	if !ok {
		m = f.matches(s.name)
		(*cache)[s] = m
	}
	return m
}

// prevLocked is the last live sequence <= start matching f (0: none).
func (e *Engine[P]) prevLocked(f *matcher, start uint64) uint64 {
	start = min(start, e.mu.last)
	if e.mu.msgs == 0 || start < e.mu.first {
		return 0
	}
	if f.literal {
		s := e.mu.subjs.get(f.raw)
		if s == nil || s.first > start {
			return 0
		}
		if s.last <= start {
			return s.last
		}
	}
	if !f.all && !f.literal && start == e.mu.last && f.toks[0] != "*" && f.toks[0] != ">" {
		// The newest match of a wildcard with a literal first token: the
		// highest last over the matching subjects, when they are few.
		var best uint64
		visited := 0
		e.mu.subjs.each(f, func(s *subj) bool {
			best = max(best, s.last)
			visited++
			return visited <= 4*scanLimit
		})
		if visited <= 4*scanLimit {
			return best
		}
	}
	var cache map[*subj]bool
	for seq := start; seq >= e.mu.first; seq-- {
		if s := e.mu.ents.subj(seq); s != nil && e.matchCached(f, s, &cache) {
			return seq
		}
	}
	return 0
}

// State implements store.Store.
func (e *Engine[P]) State() store.State { return e.state(false) }

// StateWithDeleted implements store.Store.
func (e *Engine[P]) StateWithDeleted() store.State { return e.state(true) }

func (e *Engine[P]) state(deleted bool) store.State {
	e.mu.RLock()
	defer e.mu.RUnlock()
	st := store.State{
		Msgs:        e.mu.msgs,
		Bytes:       e.mu.bytes,
		FirstSeq:    e.mu.first,
		LastSeq:     e.mu.last,
		NumSubjects: len(e.mu.subjs.byName),
	}
	if e.mu.msgs > 0 {
		st.FirstTime = time.Unix(0, e.mu.ents.get(e.mu.first).ts).UTC()
		st.LastTime = time.Unix(0, e.mu.lastTS).UTC()
		if ent, ok := e.at(e.mu.last); ok {
			st.LastTime = time.Unix(0, ent.ts).UTC()
		}
		st.NumDeleted = int(e.mu.last - e.mu.first + 1 - e.mu.msgs)
		if deleted && st.NumDeleted > 0 {
			st.Deleted = make([]uint64, 0, st.NumDeleted)
			for seq := e.mu.first; seq <= e.mu.last; seq++ {
				if e.mu.ents.subj(seq) == nil {
					st.Deleted = append(st.Deleted, seq)
				}
			}
		}
	} else if e.mu.lastTS != 0 {
		st.LastTime = time.Unix(0, e.mu.lastTS).UTC()
	}
	if e.mu.lost != nil {
		st.Lost = &store.LostData{Msgs: append([]uint64(nil), e.mu.lost.Msgs...), Bytes: e.mu.lost.Bytes}
	}
	return st
}

// FilteredState implements store.Store.
func (e *Engine[P]) FilteredState(filter string, start uint64) store.SimpleState {
	f, ok := parseFilter(filter)
	if !ok {
		return store.SimpleState{}
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.filteredLocked(&f, start)
}

func (e *Engine[P]) filteredLocked(f *matcher, start uint64) store.SimpleState {
	var ss store.SimpleState
	start = max(start, e.mu.first)
	if e.mu.msgs == 0 || start > e.mu.last {
		return ss
	}
	add := func(seq uint64) {
		ss.Msgs++
		if ss.First == 0 || seq < ss.First {
			ss.First = seq
		}
		ss.Last = max(ss.Last, seq)
	}
	span := e.mu.last - start + 1
	if f.all {
		if start == e.mu.first {
			return store.SimpleState{Msgs: e.mu.msgs, First: e.mu.first, Last: e.prevLocked(f, e.mu.last)}
		}
		// Count the live ones on the shorter side of start.
		below := start - e.mu.first
		if below < span {
			n := uint64(0)
			for seq := e.mu.first; seq < start; seq++ {
				if e.mu.ents.subj(seq) != nil {
					n++
				}
			}
			if n == e.mu.msgs {
				return ss
			}
			return store.SimpleState{Msgs: e.mu.msgs - n, First: e.nextLocked(f, start), Last: e.prevLocked(f, e.mu.last)}
		}
		for seq := start; seq <= e.mu.last; seq++ {
			if e.mu.ents.subj(seq) != nil {
				add(seq)
			}
		}
		return ss
	}
	// Per subject: all of a subject whose first is at or after start, and
	// a walk back from the last for the others. Scan the range instead
	// when it is shorter than that walk would be.
	var total uint64
	e.mu.subjs.each(f, func(s *subj) bool {
		total += s.msgs
		return total <= span || start == e.mu.first
	})
	if start > e.mu.first && span < total {
		var cache map[*subj]bool
		for seq := start; seq <= e.mu.last; seq++ {
			if s := e.mu.ents.subj(seq); s != nil && e.matchCached(f, s, &cache) {
				add(seq)
			}
		}
		return ss
	}
	e.mu.subjs.each(f, func(s *subj) bool {
		if s.last < start {
			return true
		}
		if s.first >= start {
			ss.Msgs += s.msgs
			if ss.First == 0 || s.first < ss.First {
				ss.First = s.first
			}
			ss.Last = max(ss.Last, s.last)
			return true
		}
		for seq := s.last; seq != 0 && seq >= start; seq = e.mu.ents.prev(seq) {
			add(seq)
		}
		return true
	})
	return ss
}

// SubjectsState implements store.Store.
func (e *Engine[P]) SubjectsState(filter string) map[string]store.SimpleState {
	f, ok := parseFilter(filter)
	if !ok {
		return nil
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make(map[string]store.SimpleState)
	e.mu.subjs.each(&f, func(s *subj) bool {
		out[s.name] = store.SimpleState{Msgs: s.msgs, First: s.first, Last: s.last}
		return true
	})
	return out
}

// SubjectsTotals implements store.Store.
func (e *Engine[P]) SubjectsTotals(filter string) map[string]uint64 {
	f, ok := parseFilter(filter)
	if !ok {
		return nil
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make(map[string]uint64)
	e.mu.subjs.each(&f, func(s *subj) bool {
		out[s.name] = s.msgs
		return true
	})
	return out
}

// NumPending implements store.Store.
func (e *Engine[P]) NumPending(start uint64, filter string, lastPerSubject bool) (uint64, uint64) {
	f, ok := parseFilter(filter)
	if !ok {
		return 0, 0
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	last := e.mu.last
	if !lastPerSubject {
		return e.filteredLocked(&f, start).Msgs, last
	}
	var n uint64
	e.mu.subjs.each(&f, func(s *subj) bool {
		if s.last >= start {
			n++
		}
		return true
	})
	return n, last
}
