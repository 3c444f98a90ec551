package subject

import (
	"errors"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// ErrInvalidSubject is returned when inserting or removing a malformed subject.
var ErrInvalidSubject = errors.New("subject: invalid subject")

// ErrInvalidQueue is returned when inserting a malformed queue group name.
var ErrInvalidQueue = errors.New("subject: invalid queue group")

// ErrNotFound is returned when removing an entry that is not in the index.
var ErrNotFound = errors.New("subject: no such entry")

// DefaultCacheSize is the number of match results a Sublist made by
// NewSublist keeps.
const DefaultCacheSize = 1024

// cacheUpdateMax bounds the size of a cached result that Insert replaces
// with an updated copy; larger ones are dropped instead, so adding many
// subscribers to a hot subject stays linear overall.
const cacheUpdateMax = 64

// admitSlots is the size of the table of recently missed subjects that
// decides, once the cache is full, which misses may enter it (a power of
// two).
const admitSlots = 1024

// Result is the set of entries interested in one literal subject. A Result
// returned by Match is shared and must be treated as read-only, including
// its slices (do not append to them).
//
// An entry inserted under several subjects that all match appears once per
// subject. Queue groups are merged by name across subjects.
type Result[T comparable] struct {
	Plain      []T      // plain subscriptions: every one gets the message
	Queues     [][]T    // one slice per queue group: one member gets the message
	QueueNames []string // QueueNames[i] is the group name of Queues[i]
}

// Empty reports whether no entry is interested.
func (r *Result[T]) Empty() bool { return len(r.Plain) == 0 && len(r.Queues) == 0 }

// Len is the number of entries in r, counting every queue member.
func (r *Result[T]) Len() int {
	n := len(r.Plain)
	for _, q := range r.Queues {
		n += len(q)
	}
	return n
}

// with returns a copy of r that also holds v; r is left untouched.
func (r *Result[T]) with(queue string, v T) *Result[T] {
	nr := *r
	if queue == "" {
		nr.Plain = append(slices.Clip(r.Plain), v)
		return &nr
	}
	if i := slices.Index(r.QueueNames, queue); i >= 0 {
		nr.Queues = slices.Clone(r.Queues)
		nr.Queues[i] = append(slices.Clip(r.Queues[i]), v)
		return &nr
	}
	nr.QueueNames = append(slices.Clip(r.QueueNames), queue)
	nr.Queues = append(slices.Clip(r.Queues), []T{v})
	return &nr
}

// Stats describes a Sublist for monitoring.
type Stats struct {
	Count        int     // entries in the index
	CacheEntries int     // cached match results
	Inserts      uint64  // successful inserts since creation
	Removes      uint64  // successful removes since creation
	Matches      uint64  // Match and MatchBytes calls
	CacheHits    uint64  // of Matches, answered from the cache
	MaxFanout    int     // largest cached result
	AvgFanout    float64 // mean size of cached results
}

// Sublist is the subscription index: a token trie with a match cache.
// It is safe for concurrent use.
//
// Entries form a set per subject and queue: inserting the same value twice
// under the same subject and queue is a no-op.
type Sublist[T comparable] struct {
	gen      atomic.Uint64
	hits     atomic.Uint64
	misses   atomic.Uint64
	cacheMax int        // 0 disables the cache; fixed at construction
	empty    *Result[T] // shared result for no interest

	// Admission once the cache is full: a miss enters the cache only if
	// its subject was missed recently too, so one-shot subjects (the
	// fresh reply inbox of every request) neither pay for the write lock
	// and an eviction nor push out results that are used again.
	cacheLen atomic.Int64    // len(mu.cache), readable without the lock
	seed     maphash.Seed    // for seen
	seen     []atomic.Uint64 // hash|1 of a recent missed subject per slot; 0 is empty

	mu struct {
		sync.RWMutex
		root    level[T]
		count   int
		inserts uint64
		removes uint64
		cache   map[string]*Result[T] // literal subject -> result; nil if disabled
	}
}

// NewSublist returns an empty index with a match cache of DefaultCacheSize.
func NewSublist[T comparable]() *Sublist[T] { return NewSublistCache[T](DefaultCacheSize) }

// NewSublistNoCache returns an empty index without a match cache, for
// callers that cache results themselves.
func NewSublistNoCache[T comparable]() *Sublist[T] { return NewSublistCache[T](0) }

// NewSublistCache returns an empty index that caches up to size match
// results; size 0 disables the cache.
func NewSublistCache[T comparable](size int) *Sublist[T] {
	s := &Sublist[T]{cacheMax: max(size, 0), empty: &Result[T]{}}
	if s.cacheMax > 0 {
		s.mu.cache = make(map[string]*Result[T])
		s.seed = maphash.MakeSeed()
		s.seen = make([]atomic.Uint64, admitSlots)
	}
	return s
}

// Insert adds v under subject (may hold wildcards) and optional queue group.
func (s *Sublist[T]) Insert(subject, queue string, v T) error {
	ok, wild := scan(subject)
	if !ok {
		return ErrInvalidSubject
	}
	if queue != "" && !ValidQueue(queue) {
		return ErrInvalidQueue
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.mu.root.ensure(subject).add(queue, v) {
		return nil
	}
	s.mu.count++
	s.mu.inserts++
	s.gen.Add(1)
	s.addToCacheLocked(subject, wild, queue, v)
	s.cacheLen.Store(int64(len(s.mu.cache)))
	return nil
}

// Remove deletes v from subject/queue. It returns ErrNotFound if v is not
// there under exactly that subject and queue.
func (s *Sublist[T]) Remove(subject, queue string, v T) error {
	ok, wild := scan(subject)
	if !ok {
		return ErrInvalidSubject
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.mu.root.remove(subject, queue, v) {
		return ErrNotFound
	}
	s.mu.count--
	s.mu.removes++
	s.gen.Add(1)
	s.removeFromCacheLocked(subject, wild)
	s.cacheLen.Store(int64(len(s.mu.cache)))
	return nil
}

// Match returns the entries interested in a literal subject. Wildcard tokens
// in subject are matched as plain tokens; a subject with empty tokens
// matches nothing. The result is shared: do not modify it.
func (s *Sublist[T]) Match(subject string) *Result[T] {
	if s.cacheMax > 0 {
		s.mu.RLock()
		r, ok := s.mu.cache[subject]
		s.mu.RUnlock()
		if ok {
			s.hits.Add(1)
			return r
		}
	}
	r, _ := s.matchSlow(subject, false, nil)
	return r
}

// MatchBytes is Match for a subject held in a byte slice; it does not
// allocate when the result is cached.
func (s *Sublist[T]) MatchBytes(subject []byte) *Result[T] {
	r, _ := s.MatchBytesHot(subject, nil)
	return r
}

// MatchBytesHot is MatchBytes that also reports whether the subject is
// worth a caller's own cache: it was in this list's cache or was admitted
// to it (always so when the list has no cache). A reply subject seen once
// (an ack to a fresh inbox) is not; with a scratch result, such a
// subject is matched into it (its slices reused) instead of a new
// result, for a caller that is done with the result before its next call.
func (s *Sublist[T]) MatchBytesHot(subject []byte, scratch *Result[T]) (*Result[T], bool) {
	if s.cacheMax > 0 {
		s.mu.RLock()
		r, ok := s.mu.cache[string(subject)] // no allocation: map index idiom
		s.mu.RUnlock()
		if ok {
			s.hits.Add(1)
			return r, true
		}
	}
	if len(subject) == 0 {
		return s.matchSlow("", false, nil)
	}
	// A view, not a copy: matchSlow keeps no reference to a borrowed
	// subject, so a miss that is not cached does not allocate for it.
	return s.matchSlow(unsafe.String(&subject[0], len(subject)), true, scratch)
}

// TailFree reports whether every subject that differs from subject only in
// its last token matches what subject matches (no subscription names a
// literal token in that place), as of the list's current generation: a
// caller may then keep one result for the whole family, such as the acks
// to one client's inbox (_INBOX.<id>.<token>, subscribed as _INBOX.<id>.*).
func (s *Sublist[T]) TailFree(subject []byte) bool {
	if len(subject) == 0 {
		return false
	}
	subj := unsafe.String(&subject[0], len(subject))
	if !wellFormed(subj) {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.root.tailFree(subj)
}

// matchSlow walks the trie and caches the result if admitted, reporting
// whether it did (or there is no cache). A borrowed subject aliases the
// caller's memory and is copied before it becomes a cache key.
func (s *Sublist[T]) matchSlow(subject string, borrowed bool, scratch *Result[T]) (*Result[T], bool) {
	s.misses.Add(1)
	if !wellFormed(subject) {
		return s.empty, false
	}
	if s.cacheMax > 0 && !s.admit(subject) {
		if scratch == nil {
			s.mu.RLock()
			r := s.matchLocked(subject)
			s.mu.RUnlock()
			return r, false
		}
		clear(scratch.Plain)
		clear(scratch.Queues)
		scratch.Plain, scratch.Queues, scratch.QueueNames = scratch.Plain[:0], scratch.Queues[:0], scratch.QueueNames[:0]
		s.mu.RLock()
		s.mu.root.match(subject, scratch)
		s.mu.RUnlock()
		return scratch, false
	}
	s.mu.RLock()
	r := s.matchLocked(subject)
	gen := s.gen.Load()
	s.mu.RUnlock()
	if s.cacheMax == 0 {
		return r, true
	}
	s.mu.Lock()
	// The generation only moves under the write lock: if it is unchanged,
	// r is still exact and may be cached.
	if s.gen.Load() == gen {
		if borrowed {
			subject = strings.Clone(subject)
		}
		if _, ok := s.mu.cache[subject]; !ok && len(s.mu.cache) >= s.cacheMax {
			for k := range s.mu.cache { // map order is random: a cheap random eviction
				delete(s.mu.cache, k)
				break
			}
		}
		s.mu.cache[subject] = r
		s.cacheLen.Store(int64(len(s.mu.cache)))
	}
	s.mu.Unlock()
	return r, true
}

// admit reports whether a missed subject may enter the cache: always while
// the cache has room, and once it is full only on the subject's second
// miss within the reach of the seen table. It takes no lock; a race on a
// slot only costs a cache entry, never a wrong result.
func (s *Sublist[T]) admit(subject string) bool {
	if s.cacheLen.Load() < int64(s.cacheMax) {
		return true
	}
	h := maphash.String(s.seed, subject) | 1
	slot := &s.seen[h>>32&(admitSlots-1)]
	if slot.Load() == h {
		slot.Store(0)
		return true
	}
	slot.Store(h)
	return false
}

// matchLocked builds a fresh result for a well-formed subject.
func (s *Sublist[T]) matchLocked(subject string) *Result[T] {
	var res Result[T] // on the stack: no allocation when nothing matches
	s.mu.root.match(subject, &res)
	if res.Empty() {
		return s.empty
	}
	// Clip so that a caller's append can never write into shared memory.
	for i := range res.Queues {
		res.Queues[i] = slices.Clip(res.Queues[i])
	}
	return &Result[T]{Plain: slices.Clip(res.Plain), Queues: res.Queues, QueueNames: res.QueueNames}
}

// addToCacheLocked patches cached results that the new entry matches.
// Results are never mutated: affected entries get a new copy.
func (s *Sublist[T]) addToCacheLocked(subject string, wild bool, queue string, v T) {
	if len(s.mu.cache) == 0 {
		return
	}
	update := func(key string, r *Result[T]) {
		if r.Len() >= cacheUpdateMax {
			delete(s.mu.cache, key)
			return
		}
		s.mu.cache[key] = r.with(queue, v)
	}
	if !wild {
		if r, ok := s.mu.cache[subject]; ok {
			update(subject, r)
		}
		return
	}
	for key, r := range s.mu.cache {
		if matchWF(key, subject) { // cache keys are well formed
			update(key, r)
		}
	}
}

// removeFromCacheLocked drops cached results the removed entry matched.
func (s *Sublist[T]) removeFromCacheLocked(subject string, wild bool) {
	if len(s.mu.cache) == 0 {
		return
	}
	if !wild {
		delete(s.mu.cache, subject)
		return
	}
	for key := range s.mu.cache {
		if matchWF(key, subject) { // cache keys are well formed
			delete(s.mu.cache, key)
		}
	}
}

// HasInterest reports whether any entry matches the literal subject. It
// does not allocate and does not fill the cache.
func (s *Sublist[T]) HasInterest(subject string) bool {
	if !wellFormed(subject) {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if r, ok := s.mu.cache[subject]; ok {
		return !r.Empty()
	}
	return s.mu.root.hasInterest(subject)
}

// Generation changes whenever the index changes; callers that cache
// results compare it to know when to drop them. Read it before calling
// Match: a result is then at least as new as the generation read.
func (s *Sublist[T]) Generation() uint64 { return s.gen.Load() }

// Count is the number of entries in the index.
func (s *Sublist[T]) Count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.count
}

// All calls fn for every entry, in subject order. It works on a snapshot
// taken under the lock and calls fn without it, so fn may use s.
func (s *Sublist[T]) All(fn func(subject, queue string, v T)) {
	s.mu.RLock()
	all := make([]entry[T], 0, s.mu.count)
	s.mu.root.walk("", &all)
	s.mu.RUnlock()
	for _, e := range all {
		fn(e.subject, e.queue, e.v)
	}
}

// Stats returns counters and cache figures for monitoring.
func (s *Sublist[T]) Stats() Stats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := Stats{
		Count:        s.mu.count,
		CacheEntries: len(s.mu.cache),
		Inserts:      s.mu.inserts,
		Removes:      s.mu.removes,
		CacheHits:    s.hits.Load(),
	}
	st.Matches = st.CacheHits + s.misses.Load()
	total := 0
	for _, r := range s.mu.cache {
		n := r.Len()
		total += n
		st.MaxFanout = max(st.MaxFanout, n)
	}
	if len(s.mu.cache) > 0 {
		st.AvgFanout = float64(total) / float64(len(s.mu.cache))
	}
	return st
}
