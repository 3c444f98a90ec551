package consumer

import (
	"errors"
	"slices"
	"time"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/pkg/api"
)

// Reset restarts delivery at stream sequence seq (0: just after the ack
// floor), forgetting what is pending, as CONSUMER.RESET does. A consumer
// with a start sequence or time may not go below it; only those and
// deliver all may name a sequence. It returns the sequence delivery
// restarts from.
func (c *Consumer) Reset(seq uint64) (uint64, error) {
	c.mu.Lock()
	cfg := &c.mu.cfg
	if seq == 0 {
		seq = c.mu.aflr.Stream + 1
	} else {
		switch cfg.DeliverPolicy {
		case api.DeliverAll:
		case api.DeliverByStartSequence:
			if seq < cfg.OptStartSeq {
				c.mu.Unlock()
				return 0, errors.New("below start seq")
			}
		case api.DeliverByStartTime:
			if seq < c.seqForTime(*cfg.OptStartTime, c.env.Store.State()) {
				c.mu.Unlock()
				return 0, errors.New("below start time")
			}
		default:
			c.mu.Unlock()
			return 0, errors.New("not allowed")
		}
	}
	c.mu.pending = map[uint64]*pend{}
	c.mu.rdc = map[uint64]uint64{}
	c.mu.inRdq = map[uint64]bool{}
	c.mu.rdq, c.mu.timers, c.mu.lps, c.mu.ahead = nil, nil, nil, nil
	c.mu.sseq, c.mu.dseq, c.mu.dsLast = seq, 0, seq-1
	c.mu.aflr = store.SequencePair{Stream: seq - 1}
	c.mu.lastSend = time.Time{}
	c.mu.dirty = true
	c.recountLocked()
	st := c.stateLocked()
	filters := c.filterList()
	c.mu.Unlock()
	if c.env.State != nil {
		if err := c.env.State.Update(st); err == nil {
			c.env.State.Sync()
		}
	}
	// Interest retention: as nats-server, the consumer acknowledges every
	// stored message of its filters below the new start (delivered or
	// not), so those no other consumer needs go. A work queue keeps them.
	if c.env.Acked != nil && c.env.Retention == api.InterestPolicy {
		c.ackBelow(filters, seq)
	}
	c.Kick()
	return seq, nil
}

// ackBelow acknowledges to the stream each stored message matching
// filters below seq.
func (c *Consumer) ackBelow(filters []string, seq uint64) {
	first := c.env.Store.State().FirstSeq
	var seqs []uint64
	for _, f := range filters {
		for s := first; s < seq; {
			m, err := c.env.Store.LoadNext(f, s)
			if err != nil || m.Seq >= seq {
				break
			}
			seqs = append(seqs, m.Seq)
			s = m.Seq + 1
		}
	}
	if len(filters) > 1 {
		sortU64(seqs)
		seqs = slices.Compact(seqs)
	}
	for _, s := range seqs {
		c.env.Acked(s)
	}
}
