package engine

import (
	"container/heap"
	"time"

	"github.com/sluicehq/sluice/internal/server/store"
)

// ttlHeap orders messages with a TTL by expiry. Entries are not removed
// when their message goes; a popped entry is checked against the index.
type ttlHeap []ttlItem

type ttlItem struct {
	exp int64
	seq uint64
	ts  int64 // tells the message from a later one at the same sequence
}

func (h ttlHeap) Len() int           { return len(h) }
func (h ttlHeap) Less(i, j int) bool { return h[i].exp < h[j].exp }
func (h ttlHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *ttlHeap) Push(x any)        { *h = append(*h, x.(ttlItem)) }
func (h *ttlHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

func (h *ttlHeap) push(exp int64, seq uint64, ts int64) { heap.Push(h, ttlItem{exp, seq, ts}) }

// expireLocked removes what TTLs and max age say is due.
func (e *Engine[P]) expireLocked() {
	if e.mu.closed || e.mu.failed != nil {
		return
	}
	e.mu.expireErr = false
	now := e.now()
	for len(e.mu.ttls) > 0 && e.mu.ttls[0].exp <= now {
		it := heap.Pop(&e.mu.ttls).(ttlItem)
		if ent, ok := e.at(it.seq); ok && ent.ttlKind() == ttlSet && ent.ts == it.ts {
			if !e.removeOneLocked(it.seq, store.RemoveTTL) {
				heap.Push(&e.mu.ttls, it)
				e.mu.expireErr = true
				return
			}
		}
	}
	if e.mu.cfg.MaxAge <= 0 {
		return
	}
	cutoff := now - int64(e.mu.cfg.MaxAge)
	seq := max(e.mu.ageCursor, e.mu.first)
	for ; seq <= e.mu.last && e.mu.msgs > 0; seq++ {
		ent, ok := e.at(seq)
		if !ok || ent.ttlKind() != ttlNone {
			continue
		}
		if ent.ts > cutoff {
			break
		}
		if !e.removeOneLocked(seq, store.RemoveMaxAge) {
			e.mu.expireErr = true
			break
		}
	}
	e.mu.ageCursor = seq
}

// nextExpiryLocked is when expireLocked next has work (0: never).
func (e *Engine[P]) nextExpiryLocked() int64 {
	var next int64
	if len(e.mu.ttls) > 0 {
		next = e.mu.ttls[0].exp
	}
	if e.mu.cfg.MaxAge > 0 {
		for seq := max(e.mu.ageCursor, e.mu.first); seq <= e.mu.last && e.mu.msgs > 0; seq++ {
			if ent, ok := e.at(seq); ok && ent.ttlKind() == ttlNone {
				at := ent.ts + int64(e.mu.cfg.MaxAge)
				if next == 0 || at < next {
					next = at
				}
				e.mu.ageCursor = seq
				break
			}
		}
	}
	return next
}

// armTimerLocked makes sure the timer fires by the next expiry.
func (e *Engine[P]) armTimerLocked() {
	if e.mu.closed || e.mu.failed != nil {
		return
	}
	if len(e.mu.ttls) == 0 && e.mu.cfg.MaxAge <= 0 {
		return
	}
	next := e.nextExpiryLocked()
	if next == 0 || (e.mu.timerAt != 0 && e.mu.timerAt <= next) {
		return
	}
	e.mu.timerAt = next
	d := time.Duration(next - e.now())
	if d < 0 {
		d = 0
	}
	if e.mu.expireErr {
		d = max(d, time.Second) // back off from a failing disk
	}
	if e.mu.timer == nil {
		e.mu.timer = time.AfterFunc(d, e.onTimer)
	} else {
		e.mu.timer.Reset(d)
	}
}

func (e *Engine[P]) onTimer() {
	e.mu.Lock()
	e.mu.timerAt = 0
	e.expireLocked()
	e.armTimerLocked()
	e.unlock()
}
