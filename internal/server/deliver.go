package server

import (
	"bytes"
	"slices"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/server/msgtrace"
	"github.com/sluicehq/sluice/internal/server/protocol"
	"github.com/sluicehq/sluice/internal/server/subject"
)

// match finds the subscriptions interested in subj, through a small
// per-connection cache checked against the index's generation, so a busy
// publisher does not contend on the shared index.
func (c *client) match(subj []byte) *subject.Result[*subscription] {
	sl := c.acc.sl
	gen := sl.Generation()
	if c.cache.m == nil {
		c.cache.m = make(map[string]*subject.Result[*subscription], 8)
	}
	if gen != c.cache.gen {
		clear(c.cache.m)
		c.cache.gen = gen
	} else if r, ok := c.cache.m[string(subj)]; ok {
		return r
	}
	t := &c.cache.tail
	known := t.sl == sl && t.gen == gen && sameButLast(subj, t.prefix)
	if known && t.free {
		return &t.res
	}
	r, hot := sl.MatchBytesHot(subj, &c.cache.scratch)
	if !hot {
		// A subject seen once (an ack to a fresh inbox) is not kept, and
		// its result is the client's scratch, used up before the next.
		// When its last token makes no difference, the result serves the
		// subjects that follow with the same prefix.
		t.note(sl, gen, subj, r, known)
		return r
	}
	if len(c.cache.m) >= maxResultCache {
		clear(c.cache.m)
	}
	c.cache.m[string(subj)] = r
	return r
}

// tailMatch is a client's result for a family of subjects that differ
// only in their last token (see Sublist.TailFree): the acks a group
// commit sends to one publisher's inbox each have a fresh last token, and
// were each matched through the whole index.
type tailMatch struct {
	sl      *subject.Sublist[*subscription] // nil: nothing kept
	gen     uint64
	prefix  []byte // up to and with the last '.'
	checked bool   // the family came twice in a row and was checked
	free    bool   // the last token makes no difference: res is the result
	res     subject.Result[*subscription]
}

// note follows the family of subj, a subject matched to r in sl as of
// generation gen: a new family is only noted, and checked (one more walk
// of the index) when its next subject follows, so that publishers taking
// turns cost no walk beyond their own; known says subj is of the noted
// family. A family whose last token makes no difference keeps r (copied).
func (t *tailMatch) note(sl *subject.Sublist[*subscription], gen uint64, subj []byte, r *subject.Result[*subscription], known bool) {
	if !known {
		dot := bytes.LastIndexByte(subj, '.')
		if dot < 0 {
			t.sl = nil
			return
		}
		t.sl, t.gen, t.checked, t.free = sl, gen, false, false
		t.prefix = append(t.prefix[:0], subj[:dot+1]...)
		return
	}
	if t.checked {
		return
	}
	t.checked, t.free = true, sl.TailFree(subj)
	if !t.free {
		return
	}
	t.res.Plain = append(t.res.Plain[:0], r.Plain...)
	t.res.QueueNames = append(t.res.QueueNames[:0], r.QueueNames...)
	clear(t.res.Queues)
	t.res.Queues = t.res.Queues[:0]
	for _, q := range r.Queues {
		t.res.Queues = append(t.res.Queues, slices.Clone(q))
	}
}

// sameButLast reports whether subj is prefix followed by one token.
func sameButLast(subj, prefix []byte) bool {
	return len(subj) > len(prefix) && bytes.HasPrefix(subj, prefix) && bytes.IndexByte(subj[len(prefix):], '.') < 0
}

// mapSubject applies an account's mappings to a subject a client
// published, once: the result is not mapped again. drop reports a message
// the mapping discards (weights below 100% with the source listed).
func (c *client) mapSubject(ms *subject.MappingSet, subj []byte) (out []byte, drop bool) {
	m, ok := ms.Map(c.mapped[:0], subj, c.srv.ClusterName())
	if !ok {
		return subj, false
	}
	c.mapped = m
	if c.srv.getOpts().Trace {
		c.srv.log.Tracef("%s - cid:%d - <<- [MAPPING %s -> %s]", c.hostPort(), c.cid, subj, m)
	}
	return m, len(m) == 0
}

// publish delivers one message to every interested subscription of the
// publisher's account: all plain subscriptions, one member per queue group.
// It reports whether anyone took the message.
func (c *client) publish(subj, reply []byte, hdrLen int, msg []byte) bool {
	return c.deliverAll(c.match(subj), subj, reply, hdrLen, msg)
}

// deliverAll delivers to the matches of one account.
func (c *client) deliverAll(r *subject.Result[*subscription], subj, reply []byte, hdrLen int, msg []byte) bool {
	delivered := false
	echo := c.opts.Echo
	mark, routed := len(c.routing.rts), c.routing.peer != nil
	for _, sub := range r.Plain {
		if sub.rt != nil || (routed && sub.fwd != nil && !routedForwarder(sub)) {
			// Routed messages go to local subscribers only; imports were
			// applied where the message was published.
			if !routed {
				c.addRouteTarget(sub, mark)
			}
			continue
		}
		if !echo && sub.client == c {
			if c.trace != nil {
				c.traceEgress(c, sub, msgtrace.ErrNoEcho)
			}
			continue
		}
		if c.deliver(sub, subj, reply, hdrLen, msg) {
			delivered = true
		}
	}
	for i, members := range r.Queues {
		if routed && !c.routedQueueWanted(r.QueueNames[i]) {
			continue
		}
		if c.deliverQueue(members, subj, reply, hdrLen, msg, mark) {
			delivered = true
		}
	}
	if len(c.routing.rts) > mark && c.sendToRoutes(mark, subj, reply, hdrLen, msg) {
		delivered = true
	}
	return delivered
}

// deliverQueue hands the message to one member of a queue group, trying the
// others in turn when the chosen one cannot take it. Local members come
// first; only when none takes it does a route (chosen by its weight) get
// it, and a routed message never goes on to another route.
func (c *client) deliverQueue(members []*subscription, subj, reply []byte, hdrLen int, msg []byte, mark int) bool {
	n := len(members)
	start := pickStart(n)
	routed := c.routing.peer != nil
	var remote *subscription
	var total int32
	for i := 0; i < n; i++ {
		sub := members[(start+i)%n]
		if sub.rt != nil || (routed && sub.fwd != nil) {
			if !routed && sub.rt != nil {
				remote = pickRemote(remote, &total, sub)
			}
			continue
		}
		if !c.opts.Echo && sub.client == c {
			continue
		}
		if c.deliver(sub, subj, reply, hdrLen, msg) {
			return true
		}
	}
	if remote != nil {
		c.addRouteTarget(remote, mark)
		return true
	}
	return false
}

// deliver appends the message to the subscriber's output and reports
// whether it was taken.
func (c *client) deliver(sub *subscription, subj, reply []byte, hdrLen int, msg []byte) bool {
	if sub.icb != nil {
		if c.trace != nil && c.traceIntoStream(sub, subj, reply, hdrLen, msg) {
			return true
		}
		if c.trace != nil && c.trace.Only {
			return false // internal services do not take part in traces yet
		}
		if sub.inline && c.nc != nil {
			// A client's read loop: answer here. Internal publishers
			// (c.nc == nil) hold the internal publish lock, so their
			// messages take the queue.
			var hdr []byte
			if hdrLen > 0 {
				hdr = msg[:hdrLen:hdrLen]
			}
			if sub.ocb != nil {
				c.deliverOwning(sub, subj, reply, hdr, msg[hdrLen:], c.parser != nil && c.parser.TakePayload(msg))
				return true
			}
			sub.icb(string(subj), string(reply), hdr, msg[hdrLen:])
			return true
		}
		if c.parser != nil && c.parser.TakePayload(msg) {
			// A large payload the parser drops after this delivery:
			// queue it as it is rather than copy it once more.
			return c.srv.intq.pushOwned(sub, string(subj), reply, hdrLen, msg)
		}
		return c.srv.intq.push(sub, subj, reply, hdrLen, msg)
	}
	if sub.fwd != nil {
		if _, svc := sub.fwd.(*serviceImport); svc && c.streamed {
			return false
		}
		return sub.fwd.forward(c, subj, reply, hdrLen, msg)
	}
	if c.trace != nil {
		return c.deliverTraced(sub, subj, reply, hdrLen, msg)
	}
	dst := sub.client
	dst.mu.Lock()
	if dst.mu.stall != nil && (c.nc != nil || c.routing.peer != nil) {
		c.stalledWait(dst)
	}
	if dst.mu.closed || sub.closed || (sub.max > 0 && sub.nm >= sub.max) ||
		(sub.deny != nil && sub.deny.DeniesDelivery(string(subj), sub.queue)) {
		dst.mu.Unlock()
		return false
	}
	if dst.mu.resp != nil && len(reply) > 0 {
		dst.grantReplyLocked(dst.perms.Load(), reply)
	}
	payload := msg
	if hdrLen > 0 && !dst.mu.headers {
		payload, hdrLen = msg[hdrLen:], 0
	}
	// A large stored message is queued as it is (outbound.borrow): a
	// copy took a fresh chunk of its size, zeroed, then filled.
	borrow := c.stable && len(payload) > chunkLarge
	// Room for the control line (op, sizes, separators) is generous.
	need := len(subj) + len(reply) + len(sub.sid) + len(payload) + 48
	o := c.srv.getOpts()
	maxPending := o.MaxPending
	pending := int64(dst.mu.out.size + dst.mu.inflight + need)
	if pending > maxPending {
		dst.mu.Unlock()
		dst.slowConsumer()
		return false
	}
	if pending > stallMark(maxPending) && dst.mu.stall == nil {
		dst.mu.stall = make(chan struct{})
	}
	sub.nm++
	if borrow {
		need -= len(payload)
	}
	out := dst.mu.out.reserve(need)
	if hdrLen > 0 {
		out = protocol.AppendHMsg(out, subj, sub.sid, reply, hdrLen, len(payload))
	} else {
		out = protocol.AppendMsg(out, subj, sub.sid, reply, len(payload))
	}
	if borrow {
		dst.mu.out.commit(out)
		dst.mu.out.borrow(payload)
		dst.mu.out.write(crlf)
	} else {
		out = append(out, payload...)
		dst.mu.out.commit(append(out, '\r', '\n'))
	}
	dst.mu.outMsgs++
	dst.mu.outBytes += int64(len(payload))
	done := sub.max > 0 && sub.nm >= sub.max
	if done {
		sub.closed = true
		delete(dst.mu.subs, string(sub.sid))
	}
	dst.mu.Unlock()
	if o.Trace {
		dst.traceDelivery(o, subj, sub.sid, reply, hdrLen, payload)
	}
	if done && sub.acc.sl.Remove(sub.subject, sub.queue, sub) == nil {
		c.srv.routeInterest(sub, -1)
	}
	c.outAgg.msgs++
	c.outAgg.bytes += int64(len(payload))
	c.addPCD(dst)
	return true
}

// deliverOwning hands a message to an owning callback on the publisher's
// read loop, waiting while the callback asks it to (a stream's ingest
// queue is full): the publisher is read no further meanwhile, so one
// faster than the stream's disk is slowed by TCP instead of refused. A
// wait ends when the stream takes messages again; one that lasts
// ingestWaitMax instead marks the stream stuck for the rest of this read,
// and the callback is told it may not wait (the stream refuses).
func (c *client) deliverOwning(sub *subscription, subj, reply, hdr, msg []byte, owned bool) {
	s, r := string(subj), string(reply)
	for {
		wait := sub.ocb(s, r, hdr, msg, owned, !c.ingestStuck)
		if wait == nil {
			return
		}
		t := time.NewTimer(time.Duration(ingestWaitMax.Load()))
		select {
		case <-wait:
		case <-t.C:
			c.ingestStuck = true
		}
		t.Stop()
	}
}

// ingestWaitMax is the longest a client's read loop waits for a stream to
// take messages again; a disk that takes nothing for that long is better
// reported (429) than hidden behind a connection that stopped being read.
// Nanoseconds, set by tests.
var ingestWaitMax atomic.Int64

func init() { ingestWaitMax.Store(int64(2 * time.Second)) }

// Fast producer stall, as nats-server does it: a publisher delivering to a
// connection whose pending output is past the stall mark waits briefly for
// it to drain, so a burst slows the producer instead of cutting a reader
// that is merely behind. A read batch stalls for at most stallTotal.
const (
	stallMin   = 2 * time.Millisecond
	stallMax   = 5 * time.Millisecond
	stallTotal = 10 * time.Millisecond
)

func stallMark(maxPending int64) int64 { return maxPending / 4 * 3 }

// stalledWait is called with dst.mu held and returns with it held.
func (c *client) stalledWait(dst *client) {
	if c.stalled >= stallTotal {
		return
	}
	ch := dst.mu.stall
	ttl := stallMin
	if int64(dst.mu.out.size+dst.mu.inflight) >= c.srv.getOpts().MaxPending {
		ttl = stallMax
	}
	ttl = min(ttl, stallTotal-c.stalled)
	dst.mu.Unlock()
	dst.stalls.Add(1)
	c.srv.stats.stalls.Add(1)
	dst.signalFlush()
	start := time.Now()
	t := time.NewTimer(ttl)
	select {
	case <-ch:
	case <-t.C:
	}
	t.Stop()
	c.stalled += time.Since(start)
	dst.mu.Lock()
}

func (c *client) slowConsumer() {
	c.noteSlowConsumer()
	c.srv.log.Noticef("%s - cid:%d - Slow Consumer Detected: MaxPending of %d Exceeded",
		c.hostPort(), c.cid, c.srv.getOpts().MaxPending)
	c.closeConnection(reasonSlowConsumerBytes)
}

// sendNoResponders tells a requester that nobody took its request: one
// 503 status message, to its own plain subscription on exactly reply if it
// has one (nats-server's match order puts literals first), else to the
// first of its wildcard ones. It is not counted against auto-unsubscribe.
func (c *client) sendNoResponders(subj, reply []byte) {
	r := c.acc.sl.MatchBytes(reply)
	var sub *subscription
	for _, s := range r.Plain {
		if s.client != c {
			continue
		}
		if sub == nil || s.subject == string(reply) {
			sub = s
		}
	}
	if sub != nil {
		hdr := protocol.AppendNoResponders(nil, subj)
		c.mu.Lock()
		if !c.mu.closed && !sub.closed {
			out := protocol.AppendHMsg(nil, reply, sub.sid, nil, len(hdr), len(hdr))
			out = append(append(out, hdr...), '\r', '\n')
			c.mu.out.write(out)
		}
		c.mu.Unlock()
		c.addPCD(c)
	}
}
