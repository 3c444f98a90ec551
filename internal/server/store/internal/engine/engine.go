package engine

import (
	"fmt"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/subject"
)

// Removed names one message a Backend must forget.
type Removed[P any] struct {
	Seq uint64
	P   P
}

// Backend keeps the bytes of messages. Every method is called with the
// engine's lock held (Read with at least the read lock), before the engine
// changes its state; an error leaves the engine unchanged.
type Backend[P any] interface {
	// Append stores a new message (seq is above every stored sequence).
	Append(seq uint64, ts, ttl int64, subj string, hdr, data []byte) (P, error)
	// Skip records that sequences seq..seq+n-1 hold no message.
	Skip(seq, n uint64) error
	// Read fills m.Header and m.Data (and may check m.Subject and m.Time).
	// store.ErrCorrupt means the message is lost: the engine drops it and
	// reports it.
	Read(seq uint64, p P, m *store.Msg) error
	// Remove forgets individual messages (erase: overwrite their bytes),
	// rm sorted by sequence. On error, n says how many of the first ones
	// were forgotten all the same.
	Remove(rm []Removed[P], erase bool) (n int, err error)
	// Compact forgets every message below first; rm lists those still live.
	Compact(first uint64, rm []Removed[P]) error
	// Truncate forgets every message above last; rm lists those still live.
	Truncate(last uint64, rm []Removed[P]) error
}

// entry is the index of one sequence. Plain chunks hold entries as they
// are; frozen ones (frozen.go) decode them on access.
type entry[P any] struct {
	s          *subj // nil: no message at this sequence
	ts         int64
	prev, next uint64 // neighbours with the same subject, 0: none
	sz         uint32 // size, and in the top two bits the TTL kind
	p          P
}

// TTL kinds kept in the top bits of entry.sz (the expiry itself is in the
// heap): the entry stays 48 bytes in the filestore (the newest chunks;
// older ones are frozen, at about 8 bytes an entry: frozen.go).
const (
	ttlNone  = 0       // max age applies
	ttlSet   = 1 << 30 // its own expiry, in the heap
	ttlNever = 2 << 30
	ttlMask  = 3 << 30
)

func (ent *entry[P]) size() uint64    { return uint64(ent.sz &^ ttlMask) }
func (ent *entry[P]) ttlKind() uint32 { return ent.sz & ttlMask }

// Options are the engine's knobs that are not part of store.Config.
type Options struct {
	Logger store.Logger
	Now    func() int64 // unix ns; time.Now by default
}

// Engine is the index of one store. It implements most of store.Store; the
// memstore and filestore types embed it and add the rest.
type Engine[P any] struct {
	b   Backend[P]
	log store.Logger
	now func() int64

	mu struct {
		sync.RWMutex
		cfg         store.Config
		ents        entries[P] // the window of sequences, from ents.base
		first, last uint64
		lastTS      int64
		msgs, bytes uint64
		subjs       subjects
		ttls        ttlHeap
		ageCursor   uint64
		timer       *time.Timer
		timerAt     int64
		expireErr   bool
		failed      error
		closed      bool
		lost        *store.LostData
		rmCB        store.RemoveCallback
		lostCB      store.LostCallback
		pending     []note
	}
}

// note is a callback to run once the lock is released.
type note struct {
	seq    uint64
	subj   string
	size   uint64
	reason store.RemoveReason
	lost   *store.LostData
}

// New returns an empty engine whose sequences start at cfg.FirstSeq (1 by
// default).
func New[P any](cfg store.Config, b Backend[P], opts Options) (*Engine[P], error) {
	if err := CheckConfig(&cfg); err != nil {
		return nil, err
	}
	e := &Engine[P]{b: b, log: opts.Logger, now: opts.Now}
	if e.log == nil {
		e.log = store.NopLogger{}
	}
	if e.now == nil {
		e.now = cfg.Clock
	}
	if e.now == nil {
		e.now = func() int64 { return time.Now().UnixNano() }
	}
	e.mu.cfg = cfg
	e.mu.subjs = newSubjects()
	e.mu.ents.subjs = &e.mu.subjs
	if pk, ok := b.(Packer[P]); ok {
		e.mu.ents.pk = pk
	}
	first := max(cfg.FirstSeq, 1)
	e.mu.first, e.mu.last, e.mu.ents.base = first, first-1, first
	return e, nil
}

// CheckConfig refuses limits that make no sense.
func CheckConfig(cfg *store.Config) error {
	switch {
	case cfg.MaxAge < 0:
		return fmt.Errorf("%w: negative max age", store.ErrBadConfig)
	case cfg.Discard != store.DiscardOld && cfg.Discard != store.DiscardNew:
		return fmt.Errorf("%w: unknown discard policy %d", store.ErrBadConfig, cfg.Discard)
	case cfg.SubjectDeleteMarkerTTL < 0:
		return fmt.Errorf("%w: negative subject delete marker ttl", store.ErrBadConfig)
	}
	return nil
}

// Recovered is one message found by a backend's recovery.
type Recovered[P any] struct {
	Seq  uint64
	Subj string
	TS   int64
	TTL  int64
	Size uint64
	P    P
}

// RestoreAdd adds a recovered message above every other one. Recovery
// calls RestoreAdd and RestoreDropAbove, then RestoreDone, before the
// store is shared.
func (e *Engine[P]) RestoreAdd(r Recovered[P]) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.mu.msgs == 0 {
		e.resetWindowLocked(r.Seq)
	}
	e.insertLocked(r.Seq, r.Subj, r.TS, expiry(r.TS, r.TTL), r.Size, r.P)
}

// RestoreDropAbove forgets the restored messages above seq (a truncation).
func (e *Engine[P]) RestoreDropAbove(seq uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for e.mu.msgs > 0 && e.mu.ents.len() > 0 {
		top := e.mu.ents.end() - 1
		if top <= seq {
			break
		}
		if e.mu.ents.subj(top) != nil {
			e.dropLocked(top)
		}
		if e.mu.msgs == 0 {
			break
		}
		e.mu.ents.truncate(e.mu.ents.len() - 1)
	}
}

// RestoreDone ends recovery: messages below floor go, last is the last
// sequence, lost what recovery dropped (nil: nothing).
func (e *Engine[P]) RestoreDone(floor, last uint64, lost *store.LostData) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for seq := e.mu.first; e.mu.msgs > 0 && seq < floor; seq++ {
		if e.live(seq) {
			e.dropLocked(seq)
		}
	}
	e.mu.last = last
	if e.mu.msgs == 0 {
		e.resetWindowLocked(last + 1)
	} else {
		e.extendLocked(last)
		e.advanceFirstLocked()
	}
	e.mu.lost = lost
	e.armTimerLocked()
}

// PeekLocked returns where the live message at seq is kept. For a Backend,
// which runs under the engine's lock.
func (e *Engine[P]) PeekLocked(seq uint64) (P, bool) {
	if e.live(seq) {
		return e.mu.ents.payload(seq), true
	}
	var zero P
	return zero, false
}

// RelocateLocked records that the live message at seq moved to p (block
// compaction). For a Backend, which runs under the engine's lock.
func (e *Engine[P]) RelocateLocked(seq uint64, p P) {
	if e.live(seq) {
		e.mu.ents.setP(seq, p)
	}
}

// EachLive calls fn for every message in sequence order.
func (e *Engine[P]) EachLive(fn func(seq uint64, p P)) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	for seq := e.mu.ents.base; seq < e.mu.ents.end(); seq++ {
		if e.mu.ents.subj(seq) != nil {
			fn(seq, e.mu.ents.payload(seq))
		}
	}
}

func expiry(ts, ttl int64) int64 {
	switch {
	case ttl > 0:
		return ts + ttl*int64(time.Second)
	case ttl < 0:
		return -1
	}
	return 0
}

// Config returns the current config.
func (e *Engine[P]) Config() store.Config {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.mu.cfg
}

// Backend returns the engine's backend.
func (e *Engine[P]) Backend() Backend[P] { return e.b }

// Lock and Unlock let a store wrap several engine-level steps (Stop).
func (e *Engine[P]) Lock()   { e.mu.Lock() }
func (e *Engine[P]) Unlock() { e.mu.Unlock() }

// Close marks the engine closed and stops its timer. Call with Lock held.
func (e *Engine[P]) CloseLocked() {
	e.mu.closed = true
	if e.mu.timer != nil {
		e.mu.timer.Stop()
	}
}

// ClosedLocked reports whether CloseLocked was called.
func (e *Engine[P]) ClosedLocked() bool { return e.mu.closed }

// Fail puts the engine in the failed state: writes are refused with err.
func (e *Engine[P]) Fail(err error) {
	e.mu.Lock()
	if e.mu.failed == nil {
		e.mu.failed = err
	}
	e.mu.Unlock()
}

func (e *Engine[P]) writableLocked() error {
	if e.mu.closed {
		return store.ErrStoreClosed
	}
	if e.mu.failed != nil {
		return fmt.Errorf("%w: %v", store.ErrWrite, e.mu.failed)
	}
	return nil
}

// unlock releases the write lock, then runs the callbacks queued under it.
func (e *Engine[P]) unlock() {
	ns, rm, lo := e.mu.pending, e.mu.rmCB, e.mu.lostCB
	e.mu.pending = nil
	e.mu.Unlock()
	for _, n := range ns {
		switch {
		case n.lost != nil && lo != nil:
			lo(*n.lost)
		case n.lost == nil && rm != nil:
			rm(n.seq, n.subj, n.size, n.reason)
		}
	}
}

// RegisterRemoveCallback sets the callback for removals by limits and expiry.
func (e *Engine[P]) RegisterRemoveCallback(cb store.RemoveCallback) {
	e.mu.Lock()
	e.mu.rmCB = cb
	e.mu.Unlock()
}

// RegisterLostCallback sets the callback for data found corrupt.
func (e *Engine[P]) RegisterLostCallback(cb store.LostCallback) {
	e.mu.Lock()
	e.mu.lostCB = cb
	e.mu.Unlock()
}

// Store implements store.Store.
func (e *Engine[P]) Store(subj string, hdr, data []byte, ttl int64) (uint64, int64, error) {
	e.mu.Lock()
	defer e.unlock()
	seq := e.mu.last + 1
	ts := max(e.now(), e.mu.lastTS)
	if err := e.storeLocked(subj, hdr, data, seq, ts, ttl); err != nil {
		return 0, 0, err
	}
	return seq, ts, nil
}

// StoreRaw implements store.Store.
func (e *Engine[P]) StoreRaw(subj string, hdr, data []byte, seq uint64, ts, ttl int64) error {
	e.mu.Lock()
	defer e.unlock()
	if seq <= e.mu.last || seq == 0 {
		return fmt.Errorf("%w: sequence %d is not above the last %d", store.ErrSequenceMismatch, seq, e.mu.last)
	}
	return e.storeLocked(subj, hdr, data, seq, ts, ttl)
}

func (e *Engine[P]) storeLocked(subj string, hdr, data []byte, seq uint64, ts, ttl int64) error {
	if err := e.writableLocked(); err != nil {
		return err
	}
	if !subject.ValidLiteral(subj) {
		return fmt.Errorf("%w: %q", store.ErrBadSubject, subj)
	}
	cfg := &e.mu.cfg
	if cfg.MaxMsgSize > 0 && len(hdr)+len(data) > int(cfg.MaxMsgSize) {
		return store.ErrMsgTooBig
	}
	size := store.Size(subj, hdr, data)
	if size >= ttlSet {
		return store.ErrMsgTooBig // a record is under 1 GiB
	}
	if cfg.MaxBytes > 0 && size > uint64(cfg.MaxBytes) {
		return store.ErrMaxBytes
	}
	s := e.mu.subjs.get(subj)
	if cfg.Discard == store.DiscardNew {
		if cfg.MaxMsgs > 0 && e.mu.msgs >= uint64(cfg.MaxMsgs) {
			return store.ErrMaxMsgs
		}
		if cfg.MaxBytes > 0 && e.mu.bytes+size > uint64(cfg.MaxBytes) {
			return store.ErrMaxBytes
		}
		if cfg.DiscardNewPer && cfg.MaxMsgsPer > 0 && s != nil && s.msgs >= uint64(cfg.MaxMsgsPer) {
			return store.ErrMaxMsgsPerSubject
		}
	}
	p, err := e.b.Append(seq, ts, ttl, subj, hdr, data)
	if err != nil {
		return fmt.Errorf("%w: %v", store.ErrWrite, err)
	}
	if e.mu.msgs == 0 {
		// An empty store starts over at seq: no deleted gap before it.
		e.resetWindowLocked(seq)
	}
	e.insertLocked(seq, subj, ts, expiry(ts, ttl), size, p)
	e.mu.lastTS = max(e.mu.lastTS, ts)
	e.enforceLocked(e.mu.subjs.get(subj))
	e.armTimerLocked()
	return nil
}

// resetWindowLocked empties the window so that it starts at seq.
func (e *Engine[P]) resetWindowLocked(seq uint64) {
	e.mu.ents.reset(seq)
	e.mu.first = seq
}

// extendLocked makes the window reach seq with empty entries (sequences
// that hold no message).
func (e *Engine[P]) extendLocked(seq uint64) {
	for e.mu.ents.end() <= seq {
		e.mu.ents.push(entry[P]{})
	}
}

// insertLocked adds a message above every other one.
func (e *Engine[P]) insertLocked(seq uint64, name string, ts, exp int64, size uint64, p P) {
	if seq > e.mu.ents.base {
		e.extendLocked(seq - 1)
	}
	s := e.mu.subjs.get(name)
	if s == nil {
		s = e.mu.subjs.add(name)
	}
	kind := uint32(ttlNone)
	switch {
	case exp > 0:
		kind = ttlSet
	case exp < 0:
		kind = ttlNever
	}
	ent := entry[P]{s: s, ts: ts, sz: uint32(size) | kind, p: p, prev: s.last}
	if s.last != 0 {
		e.mu.ents.setNext(s.last, seq)
	} else {
		s.first = seq
	}
	s.last = seq
	s.msgs++
	e.mu.ents.push(ent)
	e.mu.msgs++
	e.mu.bytes += size
	e.mu.last = max(e.mu.last, seq)
	if exp > 0 {
		e.mu.ttls.push(exp, seq, ts)
	}
}

// at returns the live entry at seq (false: none).
func (e *Engine[P]) at(seq uint64) (entry[P], bool) {
	if !e.live(seq) {
		return entry[P]{}, false
	}
	return e.mu.ents.get(seq), true
}

// live reports whether seq holds a message.
func (e *Engine[P]) live(seq uint64) bool {
	return seq >= e.mu.first && seq <= e.mu.last && e.mu.ents.covers(seq) && e.mu.ents.subj(seq) != nil
}

// SkipMsg implements store.Store.
func (e *Engine[P]) SkipMsg(seq uint64) error { return e.SkipMsgs(seq, 1) }

// SkipMsgs implements store.Store.
func (e *Engine[P]) SkipMsgs(seq, n uint64) error {
	e.mu.Lock()
	defer e.unlock()
	if err := e.writableLocked(); err != nil {
		return err
	}
	if seq != e.mu.last+1 {
		return fmt.Errorf("%w: skip %d, last is %d", store.ErrSequenceMismatch, seq, e.mu.last)
	}
	if n == 0 {
		return nil
	}
	if err := e.b.Skip(seq, n); err != nil {
		return fmt.Errorf("%w: %v", store.ErrWrite, err)
	}
	e.mu.last = seq + n - 1
	if e.mu.msgs == 0 {
		e.resetWindowLocked(e.mu.last + 1)
	} else {
		// Keep the window covering first..last: a skipped sequence is a
		// deleted one.
		e.extendLocked(e.mu.last)
	}
	return nil
}

// AddLost records lost data found outside a read (recovery) and reports it.
func (e *Engine[P]) AddLost(lost *store.LostData) {
	e.mu.Lock()
	e.addLostLocked(lost)
	e.unlock()
}

func (e *Engine[P]) addLostLocked(lost *store.LostData) {
	if e.mu.lost == nil {
		e.mu.lost = &store.LostData{}
	}
	e.mu.lost.Msgs = append(e.mu.lost.Msgs, lost.Msgs...)
	e.mu.lost.Bytes += lost.Bytes
	e.mu.pending = append(e.mu.pending, note{lost: lost})
}

// Load implements store.Store.
func (e *Engine[P]) Load(seq uint64) (*store.Msg, error) {
	for {
		e.mu.RLock()
		if e.mu.closed {
			e.mu.RUnlock()
			return nil, store.ErrStoreClosed
		}
		ent, ok := e.at(seq)
		if !ok {
			deleted := seq >= e.mu.first && seq <= e.mu.last
			e.mu.RUnlock()
			if deleted {
				return nil, store.ErrDeleted
			}
			return nil, store.ErrNotFound
		}
		m, err := e.readRLocked(seq, ent)
		e.mu.RUnlock()
		if err == store.ErrCorrupt {
			e.dropCorrupt(seq)
			continue
		}
		return m, err
	}
}
