package jetstream

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/pkg/api"
)

// committer is the second stage of a stream's ingest: it fsyncs what the
// ingest loop stored, then sends the acks, while the loop goes on storing
// what arrives meanwhile. Publishers waiting for their acks (KV puts,
// sync publishes) come back during the fsync and the next group holds all
// of them: with the loop itself waiting for each fsync, the disk sat idle
// during their round trips and the CPUs during the fsyncs, and 8 KV
// clients made groups of 2.5 puts (issue 14).
//
// An ack goes out only after a Sync that began after its message was
// stored: groups are taken whole, after the loop stored them, and
// committed in order (so a duplicate's or an error's ack never overtakes
// an earlier message's).
type committer struct {
	s       *stream
	syncAvg atomic.Int64 // nanoseconds, of recent Syncs
	done    chan struct{}
	reqs    *requesters // owned by whoever commits
	mu      struct {
		sync.Mutex
		cond     *sync.Cond // a group is pending, taken, or done
		g        ingestGroup
		pending  bool // g holds a group to commit
		busy     bool // committing one
		closed   bool
		followed map[int]bool // group sizes a burst followed last time (see ingestLoop)
	}
}

// ingestGroup is what one commit sends: the acks and republishes of the
// messages the ingest loop stored.
type ingestGroup struct {
	out      []outMsg
	n        int  // publishes in the group
	size     int  // their bytes (subjects, replies, headers, payloads)
	durable  bool // a stored message waits for an fsync
	stored   bool // the store changed (consumers are woken)
	lingered bool // the loop waited for a burst's rest
}

// batchPublisher is what a Broker may add: Publish for n messages with
// one wake-up of each receiver at the end instead of one per message.
type batchPublisher interface {
	PublishBatch(account string, n int, at func(i int) (subj, reply string, hdr, msg []byte))
}

// maxPendingAcks and maxPendingBytes bound the group the loop may hold
// for the next commit while the committer fsyncs: beyond them, the loop
// waits (and the ingest queue fills, which makes publishers wait). A
// group joins the pending one only if both stay within them, so that
// what waits for an fsync is bounded too (see maxTakeBytes).
const (
	maxPendingAcks  = 16 << 10
	maxPendingBytes = 32 << 20
)

func newCommitter(s *stream) *committer {
	c := &committer{s: s, done: make(chan struct{}), reqs: newRequesters()}
	c.mu.cond = sync.NewCond(&c.mu.Mutex)
	c.mu.followed = map[int]bool{}
	go c.run()
	return c
}

// fsyncs reports whether the stream's Sync is an fsync.
func (s *stream) fsyncs() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	cfg := &s.mu.cfg
	return cfg.Storage == api.FileStorage && s.js.cfg.SyncAlways && cfg.PersistMode != api.AsyncPersistMode
}

// idle reports whether nothing is being committed or waits to be.
func (c *committer) idle() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.mu.busy && !c.mu.pending
}

// followedBy reports whether a group of n was followed by a burst.
func (c *committer) followedBy(n int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.followed[n]
}

// add hands over a group and returns out emptied for reuse. A group
// with nothing ahead of it is committed at once on the caller's
// goroutine when it needs no fsync (memory streams, sync_interval) or
// when it is a lone publish with no other publisher around (one KV
// client): handing it over only added a goroutine switch to its wait.
func (c *committer) add(g ingestGroup, fsync bool) []outMsg {
	c.mu.Lock()
	if !c.mu.busy && !c.mu.pending && (!(g.durable && fsync) || c.loneLocked(&g)) {
		c.mu.Unlock()
		c.commit(&g)
		return g.out[:0]
	}
	for c.mu.pending && (len(c.mu.g.out)+len(g.out) > maxPendingAcks || c.mu.g.size+g.size > maxPendingBytes) {
		c.mu.cond.Wait()
	}
	if !c.mu.pending {
		keep := c.mu.g.out
		c.mu.g, c.mu.pending = g, true
		g.out = keep[:0]
	} else {
		p := &c.mu.g
		p.out = append(p.out, g.out...)
		p.n += g.n
		p.size += g.size
		p.durable = p.durable || g.durable
		p.stored = p.stored || g.stored
		p.lingered = p.lingered || g.lingered
		clear(g.out)
		g.out = g.out[:0]
	}
	c.mu.cond.Broadcast()
	c.mu.Unlock()
	return g.out
}

// loneLocked reports whether g is one publish from the only requester the
// last commit answered (or the first), with nothing queued behind it.
// Another requester's publish is handed over: two clients taking turns
// on the ingest goroutine would never share an fsync.
func (c *committer) loneLocked(g *ingestGroup) bool {
	if g.n != 1 || len(c.reqs.expect) > 1 || c.s.in.len() > 0 {
		return false
	}
	if len(c.reqs.expect) == 0 {
		return true
	}
	for i := range g.out {
		if g.out[i].stored {
			return c.reqs.expect[replyPrefix(g.out[i].subj)]
		}
	}
	return false
}

// close ends the committer once what it holds is committed.
func (c *committer) close() {
	c.mu.Lock()
	c.mu.closed = true
	c.mu.cond.Broadcast()
	c.mu.Unlock()
	<-c.done
}

func (c *committer) run() {
	defer close(c.done)
	var g ingestGroup
	c.mu.Lock()
	for {
		c.mu.busy = false
		for !c.mu.pending && !c.mu.closed {
			c.mu.cond.Wait()
		}
		if !c.mu.pending {
			c.mu.Unlock()
			return
		}
		if c.mu.g.durable {
			c.gatherLocked()
		}
		g, c.mu.g = c.mu.g, ingestGroup{out: g.out[:0]}
		c.mu.pending, c.mu.busy = false, true
		c.mu.cond.Broadcast()
		c.mu.Unlock()
		c.commit(&g)
		c.mu.Lock()
	}
}

// gatherLocked waits, no longer than an fsync takes, for the requesters
// the last commit answered to join the pending group (see requesters).
func (c *committer) gatherLocked() {
	if c.reqs.missing(c.mu.g.out) == 0 {
		return
	}
	d := min(time.Duration(c.syncAvg.Load()), maxLinger)
	expired := false
	t := time.AfterFunc(d, func() {
		c.mu.Lock()
		expired = true
		c.mu.cond.Broadcast()
		c.mu.Unlock()
	})
	for !expired && !c.mu.closed && len(c.mu.g.out) < maxPendingAcks && c.reqs.missing(c.mu.g.out) > 0 {
		c.mu.cond.Wait()
	}
	t.Stop()
}

// commit syncs a group's messages, if it must, then sends its acks.
func (c *committer) commit(g *ingestGroup) {
	s := c.s
	if g.durable {
		t0 := time.Now()
		err := s.st.Sync()
		c.syncAvg.Store((c.syncAvg.Load()*7 + int64(time.Since(t0))) / 8)
		c.noteBurst(g)
		if err != nil {
			s.js.log.Errorf("JetStream stream '%s > %s' sync failed: %v", s.acc.name, s.name, err)
			failed := errorAck(s.name, api.JSStreamStoreFailedF.With("err", err))
			for i := range g.out {
				if g.out[i].stored {
					g.out[i].hdr, g.out[i].msg = nil, failed
				}
			}
		}
	}
	c.reqs.committed(g.out)
	if bp, ok := s.js.b.(batchPublisher); ok {
		bp.PublishBatch(s.acc.name, len(g.out), func(i int) (string, string, []byte, []byte) {
			m := &g.out[i]
			return m.subj, m.reply, m.hdr, m.msg
		})
	} else {
		for i := range g.out {
			s.js.b.Publish(s.acc.name, g.out[i].subj, g.out[i].reply, g.out[i].hdr, g.out[i].msg)
		}
	}
	clear(g.out)
	if g.stored {
		s.kickConsumers() // consumers hook: see consumers.go
	}
}

// noteBurst remembers whether a burst of publishes arrived while g was
// synced: those stored meanwhile and those still queued.
func (c *committer) noteBurst(g *ingestGroup) {
	q := c.s.in.len()
	c.mu.Lock()
	if c.mu.pending {
		q += c.mu.g.n
	}
	if q >= burstMin && !g.lingered {
		if len(c.mu.followed) >= 16 {
			clear(c.mu.followed)
		}
		c.mu.followed[g.n] = true
	} else if q < burstMin {
		delete(c.mu.followed, g.n)
	}
	c.mu.Unlock()
}
