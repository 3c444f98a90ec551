package engine

import (
	"github.com/sluicehq/sluice/internal/server/store"
)

// BatchBackend is a Backend that reads several messages at once, so that a
// whole-stream reader (a snapshot) pays for neither a lock, an allocation
// nor a read per message.
type BatchBackend[P any] interface {
	// ReadBatch fills ms[i] (whose Subject, Seq and Time are set) for ps[i]
	// as Read does, copying their bytes into buf (grown when too small) and
	// returning it. n is how many it read: an error is that of ms[n].
	ReadBatch(ps []P, ms []store.Msg, buf []byte) (_ []byte, n int, err error)
}

// rangeScanMax bounds the sequences one LoadRange call looks at (deleted
// ones included), so that a large gap does not hold the lock long.
const rangeScanMax = 16 << 10

// LoadRange fills b (its previous messages are overwritten) with the live
// messages from start through last read under one hold of the read lock:
// as many as come to about budget bytes (at least one). It returns where
// to go on from, past last when done; a call may find no message and
// still move on. Corrupt messages are dropped and reported as LoadNext
// does.
func (e *Engine[P]) LoadRange(start, last uint64, budget int, b *store.Batch) (uint64, error) {
	bb, _ := e.b.(BatchBackend[P])
	b.Msgs = b.Msgs[:0]
	ps := make([]P, 0, max(cap(b.Msgs), 64)) // a reused batch's size: no growing
	for {
		e.mu.RLock()
		if e.mu.closed {
			e.mu.RUnlock()
			return start, store.ErrStoreClosed
		}
		start = max(start, e.mu.first)
		end := min(last, e.mu.last)
		k := len(b.Msgs)
		ps = ps[:0]
		size := 0
		seq := start
		for n := 0; seq <= end && size < budget && n < rangeScanMax; seq, n = seq+1, n+1 {
			ent, ok := e.at(seq)
			if !ok {
				continue
			}
			b.Msgs = append(b.Msgs, store.Msg{Subject: ent.s.name, Seq: seq, Time: ent.ts})
			ps = append(ps, ent.p)
			size += int(ent.size())
		}
		if seq > end {
			seq = last + 1 // nothing live is left up to last
		}
		var n int
		var err error
		if bb != nil {
			b.Buf, n, err = bb.ReadBatch(ps, b.Msgs[k:], b.Buf)
		} else {
			for ; n < len(ps); n++ {
				if err = e.b.Read(b.Msgs[k+n].Seq, ps[n], &b.Msgs[k+n]); err != nil {
					break
				}
			}
		}
		e.mu.RUnlock()
		if err == nil {
			return seq, nil
		}
		bad := b.Msgs[k+n].Seq
		b.Msgs = b.Msgs[:k+n]
		if err != store.ErrCorrupt {
			return bad, err
		}
		e.dropCorrupt(bad)
		if n > 0 {
			return bad + 1, nil
		}
		start = bad + 1
		if start > last {
			return start, nil
		}
	}
}
