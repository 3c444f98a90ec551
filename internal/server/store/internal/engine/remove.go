package engine

import (
	"fmt"
	"slices"

	"github.com/sluicehq/sluice/internal/server/store"
)

// dropLocked takes the message at seq out of the index (the backend has
// already forgotten it, or it is corrupt).
func (e *Engine[P]) dropLocked(seq uint64) {
	x := &e.mu.ents
	ent := x.get(seq)
	s := ent.s
	if ent.prev != 0 {
		x.setNext(ent.prev, ent.next)
	} else {
		s.first = ent.next
	}
	if ent.next != 0 {
		x.setPrev(ent.next, ent.prev)
	} else {
		s.last = ent.prev
	}
	s.msgs--
	if s.msgs == 0 {
		e.mu.subjs.remove(s)
	}
	e.mu.msgs--
	e.mu.bytes -= ent.size()
	x.clear(seq)
	if seq == e.mu.first {
		e.advanceFirstLocked()
	}
}

// advanceFirstLocked moves first to the lowest live sequence (last+1 when
// empty) and trims the window.
func (e *Engine[P]) advanceFirstLocked() {
	if e.mu.msgs == 0 {
		e.resetWindowLocked(e.mu.last + 1)
		return
	}
	for e.mu.first <= e.mu.last && e.mu.ents.subj(e.mu.first) == nil {
		e.mu.first++
	}
	if k := int(e.mu.first - e.mu.ents.base); k > 0 {
		e.mu.ents.dropFront(k)
	}
}

// removeLocked removes the live messages at seqs through the backend, then
// from the index. reason < 0 means asked for by the user (no callback).
func (e *Engine[P]) removeLocked(seqs []uint64, erase bool, reason store.RemoveReason, notify bool) error {
	if len(seqs) == 0 {
		return nil
	}
	rm := make([]Removed[P], 0, len(seqs))
	for _, seq := range seqs {
		rm = append(rm, Removed[P]{Seq: seq, P: e.mu.ents.payload(seq)})
	}
	n, err := e.b.Remove(rm, erase)
	if err != nil {
		for _, seq := range seqs[:n] {
			e.dropLocked(seq)
		}
		return fmt.Errorf("%w: %v", store.ErrWrite, err)
	}
	for _, seq := range seqs {
		if notify {
			ent := e.mu.ents.get(seq)
			e.mu.pending = append(e.mu.pending, note{seq: seq, subj: ent.s.name, size: ent.size(), reason: reason})
		}
		e.dropLocked(seq)
	}
	return nil
}

// removeOneLocked removes a single message for a limit or expiry. A
// backend failure is logged: the limit is enforced again on the next write.
func (e *Engine[P]) removeOneLocked(seq uint64, reason store.RemoveReason) bool {
	if err := e.removeLocked([]uint64{seq}, false, reason, true); err != nil {
		e.log.Errorf("store %s: removing message %d (%s): %v", e.mu.cfg.Name, seq, reason, err)
		return false
	}
	return true
}

// enforceLocked applies the discard-old limits after a store; s is the
// subject just stored (nil: check every subject).
func (e *Engine[P]) enforceLocked(s *subj) {
	cfg := &e.mu.cfg
	if per := cfg.MaxMsgsPer; per > 0 && !(cfg.Discard == store.DiscardNew && cfg.DiscardNewPer) {
		if s != nil {
			for s.msgs > uint64(per) {
				if !e.removeOneLocked(s.first, store.RemoveLimitPerSubject) {
					break
				}
			}
		} else {
			var over []*subj
			for _, s := range e.mu.subjs.byName {
				if s.msgs > uint64(per) {
					over = append(over, s)
				}
			}
			for _, s := range over {
				for s.msgs > uint64(per) {
					if !e.removeOneLocked(s.first, store.RemoveLimitPerSubject) {
						break
					}
				}
			}
		}
	}
	if cfg.Discard != store.DiscardOld && s != nil {
		return
	}
	for cfg.MaxMsgs > 0 && e.mu.msgs > uint64(cfg.MaxMsgs) {
		if !e.removeOneLocked(e.mu.first, store.RemoveLimit) {
			return
		}
	}
	for cfg.MaxBytes > 0 && e.mu.bytes > uint64(cfg.MaxBytes) {
		if !e.removeOneLocked(e.mu.first, store.RemoveLimit) {
			return
		}
	}
}

// Remove implements store.Store.
func (e *Engine[P]) Remove(seq uint64) (bool, error) { return e.remove(seq, false) }

// Erase implements store.Store.
func (e *Engine[P]) Erase(seq uint64) (bool, error) { return e.remove(seq, true) }

func (e *Engine[P]) remove(seq uint64, erase bool) (bool, error) {
	e.mu.Lock()
	defer e.unlock()
	if err := e.writableLocked(); err != nil {
		return false, err
	}
	if !e.live(seq) {
		return false, nil
	}
	if err := e.removeLocked([]uint64{seq}, erase, 0, false); err != nil {
		return false, err
	}
	return true, nil
}

// Purge implements store.Store.
func (e *Engine[P]) Purge(opts store.PurgeOpts) (uint64, error) {
	e.mu.Lock()
	defer e.unlock()
	if err := e.writableLocked(); err != nil {
		return 0, err
	}
	if opts.Seq > 0 && opts.Keep > 0 {
		return 0, store.ErrPurgeArgs
	}
	f, ok := parseFilter(opts.Subject)
	if !ok {
		return 0, fmt.Errorf("%w: %q", store.ErrBadFilter, opts.Subject)
	}
	if f.all {
		switch {
		case opts.Keep > 0:
			if opts.Keep >= e.mu.msgs {
				return 0, nil
			}
			// Keep the newest Keep: compact up to the Keep-th from the end.
			seq, n := e.mu.last, uint64(0)
			for ; seq >= e.mu.first; seq-- {
				if e.mu.ents.subj(seq) != nil {
					n++
					if n == opts.Keep {
						break
					}
				}
			}
			return e.compactLocked(seq)
		case opts.Seq > 0:
			return e.compactLocked(opts.Seq)
		default:
			return e.compactLocked(e.mu.last + 1)
		}
	}
	// The matching messages oldest first; keep spares the newest of them
	// all (not of each subject), as nats-server does.
	var seqs []uint64
	e.mu.subjs.each(&f, func(s *subj) bool {
		for seq := s.first; seq != 0; seq = e.mu.ents.next(seq) {
			if opts.Seq > 0 && seq >= opts.Seq {
				break
			}
			seqs = append(seqs, seq)
		}
		return true
	})
	slices.Sort(seqs)
	if opts.Keep > 0 {
		if opts.Keep >= uint64(len(seqs)) {
			return 0, nil
		}
		seqs = seqs[:uint64(len(seqs))-opts.Keep]
	}
	if uint64(len(seqs)) == e.mu.msgs {
		return e.compactLocked(e.mu.last + 1)
	}
	if err := e.removeLocked(seqs, false, 0, false); err != nil {
		return 0, err
	}
	return uint64(len(seqs)), nil
}

// Compact implements store.Store.
func (e *Engine[P]) Compact(seq uint64) (uint64, error) {
	e.mu.Lock()
	defer e.unlock()
	if err := e.writableLocked(); err != nil {
		return 0, err
	}
	if seq == 0 {
		return 0, fmt.Errorf("%w: compact to sequence 0", store.ErrSequenceMismatch)
	}
	return e.compactLocked(seq)
}

// compactLocked removes every message below seq.
func (e *Engine[P]) compactLocked(seq uint64) (uint64, error) {
	if seq <= e.mu.first && seq <= e.mu.last+1 {
		return 0, nil
	}
	var rm []Removed[P]
	top := min(seq, e.mu.last+1)
	for s := e.mu.first; s < top; s++ {
		if e.mu.ents.subj(s) != nil {
			rm = append(rm, Removed[P]{Seq: s, P: e.mu.ents.payload(s)})
		}
	}
	if err := e.b.Compact(seq, rm); err != nil {
		return 0, fmt.Errorf("%w: %v", store.ErrWrite, err)
	}
	for _, r := range rm {
		e.dropLocked(r.Seq)
	}
	if seq > e.mu.last+1 {
		e.mu.last = seq - 1
	}
	if e.mu.msgs == 0 {
		e.resetWindowLocked(max(seq, e.mu.last+1))
	}
	return uint64(len(rm)), nil
}

// Truncate implements store.Store.
func (e *Engine[P]) Truncate(seq uint64) error {
	e.mu.Lock()
	defer e.unlock()
	if err := e.writableLocked(); err != nil {
		return err
	}
	if seq >= e.mu.last {
		return nil
	}
	var rm []Removed[P]
	for s := max(seq+1, e.mu.first); s <= e.mu.last; s++ {
		if e.mu.ents.subj(s) != nil {
			rm = append(rm, Removed[P]{Seq: s, P: e.mu.ents.payload(s)})
		}
	}
	if err := e.b.Truncate(seq, rm); err != nil {
		return fmt.Errorf("%w: %v", store.ErrWrite, err)
	}
	for i := len(rm) - 1; i >= 0; i-- {
		e.dropLocked(rm[i].Seq)
	}
	e.mu.last = seq
	if n := seq + 1 - e.mu.ents.base; e.mu.msgs > 0 && n < uint64(e.mu.ents.len()) {
		e.mu.ents.truncate(int(n))
	}
	if e.mu.msgs == 0 {
		e.resetWindowLocked(seq + 1)
	}
	return nil
}

// UpdateConfig implements store.Store.
func (e *Engine[P]) UpdateConfig(cfg store.Config) error {
	if err := CheckConfig(&cfg); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.unlock()
	if e.mu.closed {
		return store.ErrStoreClosed
	}
	e.mu.cfg = cfg
	e.enforceLocked(nil)
	e.expireLocked()
	e.armTimerLocked()
	return nil
}
