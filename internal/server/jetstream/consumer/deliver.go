package consumer

import (
	"container/heap"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/pkg/api"
)

// Tunables.
const (
	maxPerRound    = 256                    // deliveries per lock hold
	persistEvery   = 100 * time.Millisecond // state write interval when not asked to sync
	interestPoll   = 50 * time.Millisecond  // push consumer without interest
	fcLimit        = 32 << 20               // largest flow control window
	fcStart        = fcLimit / 16           // first window; each answered request doubles it
	defaultHBMax   = time.Hour
	noDeadline     = int64(1<<63 - 1)
	sourceRedeliv  = 1
	sourceLastPer  = 2
	sourceNew      = 3
	hdrPendingMsgs = "Nats-Pending-Messages"
	hdrPendingByte = "Nats-Pending-Bytes"
	hdrPinID       = "Nats-Pin-Id"
)

// Msg is one message to send: to is where, subj what the MSG line shows.
type Msg struct {
	To, Subj, Reply string
	Hdr, Data       []byte
}

// out is one message to send once the lock is released.
type out = Msg

func (c *Consumer) run() {
	defer close(c.done)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	var lastPersist time.Time
	for {
		select {
		case <-c.quit:
			return
		case <-c.kick:
		case <-t.C:
		}
		for {
			wake, more := c.round(&lastPersist)
			if !more {
				if !t.Stop() {
					select {
					case <-t.C:
					default:
					}
				}
				t.Reset(wake)
				break
			}
			select {
			case <-c.quit:
				return
			default:
			}
		}
	}
}

// round delivers what it can (up to maxPerRound), fires due timers and
// returns how long to sleep, or more when it stopped at maxPerRound.
func (c *Consumer) round(lastPersist *time.Time) (time.Duration, bool) {
	now := time.Now()
	nowNs := now.UnixNano()
	var msgs []out
	var acked []uint64
	var events []event
	var inactive bool
	c.mu.Lock()
	if c.mu.closed {
		c.mu.Unlock()
		return time.Hour, false
	}
	cfg := &c.mu.cfg
	// Ack-wait deadlines.
	var due []uint64
	for len(c.mu.timers) > 0 && c.mu.timers[0].at <= nowNs {
		d := heap.Pop(&c.mu.timers).(deadline)
		if p := c.mu.pending[d.seq]; p != nil && p.deadline == d.at && !c.mu.inRdq[d.seq] {
			due = append(due, d.seq)
		}
	}
	if len(due) > 0 {
		sortU64(due)
		for _, s := range due {
			if ev, ok := c.redeliverLocked(s); !ok {
				events = append(events, ev)
			}
		}
	}
	// Expired pull requests, gone clients and heartbeats.
	kept := c.mu.waiting[:0]
	for _, r := range c.mu.waiting {
		if !r.expires.IsZero() && !now.Before(r.expires) {
			msgs = append(msgs, out{To: r.reply, Subj: r.reply, Hdr: statusHdr("408 Request Timeout", r)})
			continue
		}
		// Interest is checked when delivery goes back to waiting (below),
		// not here: nats-server's delivery finds a gone requester first.
		if r.hb > 0 && now.Sub(r.lastSent) >= r.hb {
			if !c.interestLocked(r) {
				continue
			}
			msgs = append(msgs, out{To: r.reply, Subj: r.reply, Hdr: c.heartbeatLocked("")})
			r.lastSent = now
		}
		kept = append(kept, r)
	}
	clearTail(c.mu.waiting, len(kept))
	c.mu.waiting = kept
	if c.mu.pinID != "" && !now.Before(c.mu.pinExp) {
		events = append(events, event{kind: evUnpinned, group: c.mu.pinGroup, reason: "timeout"})
		c.unassignPinLocked()
	}

	push := cfg.DeliverSubject != ""
	active := len(c.mu.waiting) > 0
	interest := false
	if push {
		interest = c.env.HasInterest == nil || c.env.HasInterest(cfg.DeliverSubject)
		active = interest
	}
	if active {
		c.mu.lastAct = now
	} else if cfg.InactiveThreshold > 0 && now.Sub(c.mu.lastAct) >= cfg.InactiveThreshold && c.env.Inactive != nil {
		inactive = true
	}
	paused := now.Before(c.mu.pauseAt)
	more := false
	c.mu.holdUntil = time.Time{}
	if !paused && !inactive {
		c.catchUpLocked()
		n := 0
		for n < maxPerRound {
			if push {
				// nats-server stops once more than the flow control
				// window is out unanswered.
				if !interest || (c.mu.fcMax > 0 && c.mu.fcBytes > c.mu.fcMax) {
					break
				}
			} else if len(c.mu.waiting) == 0 {
				break
			}
			m, src := c.peekLocked()
			if m == nil {
				if !push {
					msgs = c.endOfStreamLocked(msgs)
				}
				break
			}
			if src != sourceRedeliv && cfg.AckPolicy != api.AckNone && cfg.MaxAckPending > 0 && len(c.mu.pending) >= cfg.MaxAckPending {
				break
			}
			dc := uint64(1)
			if src == sourceRedeliv {
				dc = c.mu.rdc[m.Seq] + 2
			}
			reply := c.ackReplyLocked(m, dc, c.mu.dseq+1)
			hdr, data := c.payloadLocked(m)
			// What a request's max_bytes counts, as nats-server: the
			// stored subject, the ack subject, header and payload.
			size := len(m.Subject) + len(reply) + len(hdr) + len(data)
			reqSize := size
			var r *pullReq
			if !push {
				if r = c.pickRequestLocked(reqSize, &msgs, &events); r == nil {
					break
				}
				if cfg.PriorityPolicy == api.PriorityPinnedClient {
					// Sent even empty (a request without a group).
					hdr = appendHeader(hdr, hdrPinID, c.mu.pinID)
					size = len(m.Subject) + len(reply) + len(hdr) + len(data)
				}
			}
			if !c.replayReadyLocked(m, now) || !c.rateReadyLocked(size, now) {
				break
			}
			c.takeLocked(m, src)
			o, ack := c.deliveryLocked(m, dc, nowNs, reply, hdr, data)
			if ack {
				acked = append(acked, m.Seq)
			}
			c.replaySentLocked(m)
			if r != nil {
				o.To = r.reply
				r.batch--
				r.delivered++
				r.lastSent = now
				if r.hasBytes {
					r.maxBytes -= reqSize
					if r.maxBytes <= 0 {
						r.batch = 0
					}
				}
				if r.batch <= 0 {
					c.dropRequestLocked(r)
					if r.hasBytes && r.maxBytes > 0 {
						msgs = append(msgs, o)
						o = out{To: r.reply, Subj: r.reply, Hdr: statusHdr("409 Batch Completed", r)}
					}
				} else {
					c.requeueLocked(r)
				}
				msgs = append(msgs, o)
			} else {
				o.To = cfg.DeliverSubject
				msgs = append(msgs, o)
				if c.mu.fcMax > 0 {
					// The window counts what the subscriber receives.
					if fc, ok := c.flowControlDueLocked(len(o.To) + len(o.Reply) + len(o.Hdr) + len(o.Data)); ok {
						msgs = append(msgs, fc)
					}
				}
			}
			n++
			c.mu.lastSend = now
		}
		more = n == maxPerRound
	}
	if !push && !more && len(c.mu.waiting) > 0 {
		c.dropUninterestedLocked()
	}
	// Push idle heartbeat.
	if push && cfg.Heartbeat > 0 && now.Sub(c.mu.lastSend) >= cfg.Heartbeat && (len(msgs) == 0) {
		msgs = append(msgs, out{To: cfg.DeliverSubject, Subj: cfg.DeliverSubject, Hdr: c.heartbeatLocked(c.mu.fcOut)})
		c.mu.lastSend = now
		// Acks come with flow control replies: ask for one when idle.
		if cfg.AckPolicy == api.AckFlowControl && len(c.mu.pending) > 0 && c.mu.fcOut == "" && interest {
			msgs = append(msgs, c.flowControlLocked())
		}
	}
	var st *store.ConsumerState
	var syncWant []string
	seg := -1
	if c.mu.dirty && c.env.State != nil && (len(c.mu.syncWant) > 0 || now.Sub(*lastPersist) >= persistEvery) {
		st = c.stateLocked()
		c.mu.dirty = false
		*lastPersist = now
		if c.env.Journal != nil {
			seg = c.env.Journal.Rotate()
		}
	}
	if len(c.mu.syncWant) > 0 && (st != nil || c.env.State == nil) {
		syncWant, c.mu.syncWant = c.mu.syncWant, nil
	}
	wake := c.nextWakeLocked(now, push, interest, *lastPersist)
	c.mu.Unlock()

	if c.env.SendBatch != nil && len(msgs) > 1 {
		c.env.SendBatch(msgs)
	} else {
		for i := range msgs {
			m := &msgs[i]
			c.env.Send(m.To, m.Subj, m.Reply, m.Hdr, m.Data)
		}
	}
	if st != nil {
		if err := c.env.State.Update(st); err != nil && c.env.Log != nil {
			c.env.Log.Errorf("JetStream consumer '%s > %s' state: %v", c.env.Stream, c.env.Name, err)
		}
		// Sync writes the state file: every persist interval, and at
		// once for an AckSync waiting on it.
		if err := c.env.State.Sync(); err != nil {
			if c.env.Log != nil {
				c.env.Log.Errorf("JetStream consumer '%s > %s' state sync: %v", c.env.Stream, c.env.Name, err)
			}
		} else if seg >= 0 {
			c.env.Journal.Release(seg)
		}
	}
	for _, r := range syncWant {
		c.env.Send(r, r, "", nil, nil)
	}
	for _, s := range acked {
		if c.env.Acked != nil {
			c.env.Acked(s)
		}
	}
	c.emit(events)
	if inactive {
		c.env.Inactive()
		return time.Hour, false
	}
	return wake, more
}

func clearTail(s []*pullReq, from int) {
	for i := from; i < len(s); i++ {
		s[i] = nil
	}
}

func (c *Consumer) nextWakeLocked(now time.Time, push, interest bool, lastPersist time.Time) time.Duration {
	next := now.Add(time.Hour)
	at := func(t time.Time) {
		if t.Before(next) {
			next = t
		}
	}
	if len(c.mu.timers) > 0 {
		at(time.Unix(0, c.mu.timers[0].at))
	}
	for _, r := range c.mu.waiting {
		if !r.expires.IsZero() {
			at(r.expires)
		}
		if r.hb > 0 {
			at(r.lastSent.Add(r.hb))
		}
	}
	cfg := &c.mu.cfg
	if push {
		if cfg.Heartbeat > 0 {
			at(c.mu.lastSend.Add(cfg.Heartbeat))
		}
		if !interest {
			at(now.Add(interestPoll))
		}
	}
	if now.Before(c.mu.pauseAt) {
		at(c.mu.pauseAt)
	}
	if c.mu.pinID != "" {
		at(c.mu.pinExp)
	}
	if !c.mu.holdUntil.IsZero() {
		at(c.mu.holdUntil)
	}
	if c.mu.dirty && c.env.State != nil {
		at(lastPersist.Add(persistEvery))
	}
	if cfg.InactiveThreshold > 0 {
		at(c.mu.lastAct.Add(cfg.InactiveThreshold))
	}
	d := next.Sub(now)
	if d < time.Millisecond {
		d = time.Millisecond
	}
	return d
}

// peekLocked finds the next message to deliver without taking it.
func (c *Consumer) peekLocked() (*store.Msg, int) {
	for len(c.mu.rdq) > 0 {
		s := c.mu.rdq[0]
		if _, ok := c.mu.pending[s]; ok {
			m, err := c.env.Store.Load(s)
			if err == nil {
				return m, sourceRedeliv
			}
			// Gone from the stream: nothing left to deliver.
			c.forgetLocked(s)
		}
		c.mu.rdq = c.mu.rdq[1:]
		delete(c.mu.inRdq, s)
	}
	for len(c.mu.lps) > 0 {
		m, err := c.env.Store.Load(c.mu.lps[0])
		if err == nil {
			return m, sourceLastPer
		}
		c.mu.lps = c.mu.lps[1:]
	}
	var best *store.Msg
	for {
		best = nil
		for _, f := range c.filterList() {
			m, err := c.env.Store.LoadNext(f, c.mu.sseq)
			if err != nil {
				continue
			}
			if best == nil || m.Seq < best.Seq {
				best = m
			}
		}
		if best == nil || !c.mu.ahead[best.Seq] {
			break
		}
		// Acknowledged (journaled) before a crash lost its delivery.
		delete(c.mu.ahead, best.Seq)
		c.mu.sseq = best.Seq + 1
		c.mu.dsLast = max(c.mu.dsLast, best.Seq)
		if c.mu.npending > 0 {
			c.mu.npending--
		}
	}
	if best == nil {
		c.mu.npending = 0
		if last := c.env.Store.State().LastSeq; last > c.mu.npValid {
			c.mu.npValid = last
		}
	}
	return best, sourceNew
}

// takeLocked consumes the message peekLocked found.
func (c *Consumer) takeLocked(m *store.Msg, src int) {
	switch src {
	case sourceRedeliv:
		c.mu.rdq = c.mu.rdq[1:]
		delete(c.mu.inRdq, m.Seq)
		return
	case sourceLastPer:
		c.mu.lps = c.mu.lps[1:]
	}
	if m.Seq >= c.mu.sseq {
		c.mu.sseq = m.Seq + 1
	}
	if len(c.mu.lps) > 0 && c.mu.sseq < c.mu.lps[0] {
		c.mu.sseq = c.mu.lps[0]
	} else if len(c.mu.lps) == 0 && src == sourceLastPer {
		// Past the last-per-subject start: new messages follow.
		c.mu.sseq = max(c.mu.sseq, m.Seq+1)
	}
	if c.mu.npending > 0 {
		c.mu.npending--
	}
}

// ackReplyLocked is the ack subject of delivery dseq of m (after
// takeLocked's count, so the pending figure is what is left after it).
func (c *Consumer) ackReplyLocked(m *store.Msg, dc, dseq uint64) string {
	np := c.mu.npending
	if dc == 1 && np > 0 {
		np--
	}
	reply := make([]byte, 0, len(c.ackPfx)+64)
	reply = append(reply, c.ackPfx...)
	reply = strconv.AppendUint(reply, dc, 10)
	reply = append(reply, '.')
	reply = strconv.AppendUint(reply, m.Seq, 10)
	reply = append(reply, '.')
	reply = strconv.AppendUint(reply, dseq, 10)
	reply = append(reply, '.')
	reply = strconv.AppendInt(reply, m.Time, 10)
	reply = append(reply, '.')
	reply = strconv.AppendUint(reply, np, 10)
	return string(reply)
}

// deliveryLocked records the delivery of m with its ack subject and
// builds its message. ack reports an ack_policy none delivery
// (acknowledged by being sent).
func (c *Consumer) deliveryLocked(m *store.Msg, dc uint64, now int64, reply string, hdr, data []byte) (out, bool) {
	cfg := &c.mu.cfg
	c.mu.dseq++
	dseq := c.mu.dseq
	if m.Seq > c.mu.dsLast {
		c.mu.dsLast = m.Seq
	}
	ack := false
	if cfg.AckPolicy == api.AckNone {
		c.mu.aflr = store.SequencePair{Consumer: dseq, Stream: c.mu.dsLast}
		ack = true
	} else {
		p := c.mu.pending[m.Seq]
		if p == nil {
			p = &pend{}
			c.mu.pending[m.Seq] = p
		}
		p.dseq, p.ts = dseq, now
		if dc > 1 {
			c.mu.rdc[m.Seq] = dc - 1
		}
		if cfg.AckPolicy != api.AckFlowControl {
			c.setDeadlineLocked(m.Seq, now+int64(c.ackWait(dc)))
		}
	}
	c.mu.dirty = true
	return out{Subj: m.Subject, Reply: reply, Hdr: hdr, Data: data}, ack
}

// payloadLocked is the header and payload m is delivered with.
func (c *Consumer) payloadLocked(m *store.Msg) ([]byte, []byte) {
	if c.mu.cfg.HeadersOnly {
		return appendHeader(m.Header, "Nats-Msg-Size", strconv.Itoa(len(m.Data))), nil
	}
	return m.Header, m.Data
}

// redeliverLocked queues seq for redelivery, or reports it as having
// reached max_deliver (false).
func (c *Consumer) redeliverLocked(seq uint64) (event, bool) {
	dc := c.mu.rdc[seq] + 1
	if md := c.mu.cfg.MaxDeliver; md > 0 && dc >= uint64(md) {
		c.forgetLocked(seq)
		return event{kind: evMaxDeliver, sseq: seq, dc: dc}, false
	}
	if !c.mu.inRdq[seq] {
		c.mu.inRdq[seq] = true
		c.mu.rdq = append(c.mu.rdq, seq)
		if n := len(c.mu.rdq); n > 1 && c.mu.rdq[n-2] > seq {
			sortU64(c.mu.rdq)
		}
	}
	return event{}, true
}

// forgetLocked drops seq from the pending set and moves the ack floor.
func (c *Consumer) forgetLocked(seq uint64) {
	delete(c.mu.pending, seq)
	delete(c.mu.rdc, seq)
	c.mu.dirty = true
	c.advanceFloorLocked()
}

func (c *Consumer) advanceFloorLocked() {
	if len(c.mu.pending) == 0 {
		c.mu.aflr = store.SequencePair{Consumer: c.mu.dseq, Stream: c.mu.dsLast}
		return
	}
	for s := c.mu.aflr.Stream + 1; s <= c.mu.dsLast; s++ {
		if p, ok := c.mu.pending[s]; ok {
			if p.dseq > 0 && p.dseq-1 > c.mu.aflr.Consumer && c.mu.rdc[s] == 0 {
				c.mu.aflr.Consumer = p.dseq - 1
			}
			return
		}
		c.mu.aflr.Stream = s
	}
}

func (c *Consumer) heartbeatLocked(stalled string) []byte {
	h := "NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: " + strconv.FormatUint(c.mu.dseq, 10) +
		"\r\nNats-Last-Stream: " + strconv.FormatUint(c.mu.dsLast, 10) + "\r\n"
	if stalled != "" {
		h += "Nats-Consumer-Stalled: " + stalled + "\r\n"
	}
	return []byte(h + "\r\n")
}

// ProcessFlowControl handles the reply to a flow control request. With
// ack_policy flow_control the reply's Nats-Last-Stream header acknowledges
// everything up to that stream sequence.
func (c *Consumer) ProcessFlowControl(subj string, hdr []byte) {
	c.mu.Lock()
	if subj != c.mu.fcOut {
		c.mu.Unlock()
		return
	}
	// Answered: the window doubles (up to fcLimit) and what the
	// request covered is no longer outstanding.
	if c.mu.fcMax < fcLimit {
		c.mu.fcMax = min(c.mu.fcMax*2, fcLimit)
	}
	c.mu.fcBytes = max(c.mu.fcBytes-c.mu.fcSz, 0)
	c.mu.fcOut, c.mu.fcSz = "", 0
	var acked []uint64
	if c.mu.cfg.AckPolicy == api.AckFlowControl {
		if sseq, ok := headerUint(hdr, "Nats-Last-Stream"); ok && sseq > 0 {
			acked, _ = c.ackLocked(sseq, 0, 1)
		}
	}
	c.mu.Unlock()
	if c.env.Acked != nil {
		for _, s := range acked {
			c.env.Acked(s)
		}
	}
	c.Kick()
}

// headerUint reads a numeric header value.
func headerUint(hdr []byte, key string) (uint64, bool) {
	for _, line := range strings.Split(string(hdr), "\r\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), key) {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

func statusHdr(status string, r *pullReq) []byte {
	if r != nil {
		return pendingHdr(status, max(r.batch, 0), max(r.maxBytes, 0))
	}
	return []byte("NATS/1.0 " + status + "\r\n\r\n")
}

// pendingHdr is a status with what a request still wanted.
func pendingHdr(status string, msgs, bytes int) []byte {
	b := make([]byte, 0, 96)
	b = append(b, "NATS/1.0 "...)
	b = append(b, status...)
	b = append(b, "\r\n"+hdrPendingMsgs+": "...)
	b = strconv.AppendInt(b, int64(msgs), 10)
	b = append(b, "\r\n"+hdrPendingByte+": "...)
	b = strconv.AppendInt(b, int64(bytes), 10)
	return append(b, "\r\n\r\n"...)
}

// appendHeader adds key: value to a header block (making one if empty).
func appendHeader(hdr []byte, key, value string) []byte {
	if len(hdr) < 4 {
		hdr = []byte("NATS/1.0\r\n\r\n")
	}
	out := make([]byte, 0, len(hdr)+len(key)+len(value)+4)
	out = append(out, hdr[:len(hdr)-2]...)
	out = append(out, key...)
	out = append(out, ": "...)
	out = append(out, value...)
	out = append(out, "\r\n\r\n"...)
	return out
}

func randToken() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 4)
	for i := range b {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return string(b)
}

func randN(n int) int { return rand.IntN(n) }
