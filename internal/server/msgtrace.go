package server

import (
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/internal/server/jetstream"
	"github.com/sluicehq/sluice/internal/server/msgtrace"
	"github.com/sluicehq/sluice/internal/server/subject"
)

// traceDest is an account's destination for messages traced because of a
// sampled W3C traceparent header (accounts.X.msg_trace / trace_dest).
type traceDest struct {
	dest     string
	sampling int // percent, 1..100
}

// startTrace decides whether the message being published is traced, as
// nats-server does before mapping and permissions. skip reports a
// trace-only message that must go no further (its trace could not start).
// The header block may be rewritten (tracing disabled downstream), so the
// message is returned too.
func (c *client) startTrace(subj []byte, hdrLen int, msg []byte) (skip bool, _ int, _ []byte) {
	w, ok := msgtrace.Parse(msg[:hdrLen])
	if !ok {
		return false, hdrLen, msg
	}
	dest := w.Dest
	if w.OriginAccount != "" {
		c.srv.log.Errorf("%s - cid:%d - Message tracing disabled because of header %q with value=%q",
			c.hostPort(), c.cid, msgtrace.OriginAccountHeader, w.OriginAccount)
		if !w.Only {
			hdrLen, msg = setHeader(hdrLen, msg, msgtrace.DestHeader, []byte(msgtrace.DestDisabled))
		}
		return w.Only, hdrLen, msg
	}
	if w.External {
		td := c.acc.traceDest.Load()
		if td == nil {
			return false, hdrLen, msg
		}
		if !msgtrace.Sample(td.sampling) {
			hdrLen, msg = setHeader(hdrLen, msg, msgtrace.DestHeader, []byte(msgtrace.DestDisabled))
			return false, hdrLen, msg
		}
		dest = td.dest
	}
	if dest == "" {
		return w.Only, hdrLen, msg
	}
	if !subject.ValidLiteral(dest) {
		c.srv.log.Errorf("%s - cid:%d - Destination %q is not valid, won't be able to trace events", c.hostPort(), c.cid, dest)
		return w.Only, hdrLen, msg
	}
	if !c.canPublish([]byte(dest)) {
		c.pubViolation([]byte(dest))
		return true, hdrLen, msg
	}
	c.mu.Lock()
	name := c.mu.name
	c.mu.Unlock()
	c.trace = msgtrace.New(w, dest, msgtrace.KindClient, c.cid, name, c.acc.Name, string(subj), len(msg))
	// A stream may finish after the publisher, on its own goroutine.
	c.trace.SetSender(func(t *msgtrace.Trace) { c.sendTrace(t, false) })
	return false, hdrLen, msg
}

// OversizeHPub reports a traced message refused for its size, as
// nats-server does, with what had arrived of its headers.
func (c *client) OversizeHPub(subj []byte, size int, hdr []byte) {
	if !c.connected.Load() {
		return
	}
	if _, _, _ = c.startTrace(subj, len(hdr), hdr); c.trace != nil {
		c.trace.SetMsgSize(size)
		c.trace.IngressError("maximum payload exceeded")
		// Queued: the connection is closed before it is sent, so the
		// publisher's own subscriptions miss it, as with nats-server.
		c.sendTrace(c.trace, true)
		c.trace = nil
	}
}

// finishTrace publishes the trace event in the tracer's account, now or,
// when a stream still works on the message, once it is done.
func (c *client) finishTrace() {
	t := c.trace
	c.trace = nil
	if t != nil {
		t.Finish()
	}
}

// traceIntoStream hands a traced message to a stream's subscription,
// recording the JetStream step the stream completes (nats-server's "js"
// event), and reports whether sub was a stream's. A trace-only message
// reaches the stream too: it runs the stream's checks and is not stored.
// A stored copy has tracing disabled, so consumers do not trace it again.
func (c *client) traceIntoStream(sub *subscription, subj, reply []byte, hdrLen int, msg []byte) bool {
	js := c.srv.js.Load()
	if js == nil {
		return false
	}
	name, ok := js.TraceStream(sub.acc.Name, func(x jetstream.Subscription) bool {
		is, ok := x.(*InternalSub)
		return ok && is.sub == sub
	})
	if !ok {
		return false
	}
	hop := c.trace.JetStreamHop(name)
	var buf []byte
	if c.trace.Only {
		buf = append([]byte(nil), msg...)
	} else {
		hdrLen, buf = setHeader(hdrLen, msg, msgtrace.DestHeader, []byte(msgtrace.DestDisabled))
	}
	key := strings.Clone(string(subj)) // this message's own: the hand-off key
	msgtrace.Hand(key, hop)
	if sub.inline && c.nc != nil {
		// As deliver does for the stream's other messages: a traced one
		// taking the queue would be overtaken by those published after it.
		var hdr []byte
		if hdrLen > 0 {
			hdr = buf[:hdrLen:hdrLen]
		}
		if sub.ocb != nil {
			sub.ocb(key, string(reply), hdr, buf[hdrLen:], true, false) // a copy made here
		} else {
			sub.icb(key, string(reply), hdr, buf[hdrLen:])
		}
		msgtrace.Unclaimed(key, "stream closed")
		return true
	}
	if !c.srv.intq.pushOwned(sub, key, reply, hdrLen, buf) {
		msgtrace.Unclaimed(key, "stream closed")
	}
	return true
}

// sendTrace publishes t's event, at once or through the $SYS send queue.
func (c *client) sendTrace(t *msgtrace.Trace, queued bool) {
	c.srv.publishTrace(c.acc, t, queued)
}

// publishTrace publishes t's event in acc, the tracer's account.
func (s *Server) publishTrace(acc *Account, t *msgtrace.Trace, queued bool) {
	if s.sys == nil {
		return
	}
	b, enc, err := t.Encode(s.eventServer())
	if err != nil {
		s.log.Errorf("message trace event: %v", err)
		return
	}
	var hdr []byte
	if enc != "" {
		hdr = fmt.Appendf(nil, "NATS/1.0\r\n%s: %s\r\n\r\n", msgtrace.ContentEncoding, enc)
	}
	if queued {
		s.queueSys(sysMsg{acc: acc, subj: t.Dest, hdr: hdr, body: b})
		return
	}
	// Published at once, on the publisher's goroutine, so the event is
	// queued for its subscribers before anything the publisher sends next
	// is processed.
	s.PublishInternal(acc, t.Dest, "", hdr, b)
}

// traceEgress records a delivery (err "") or why one did not happen, to a
// client's subscription. dst.mu must not be held.
func (c *client) traceEgress(dst *client, sub *subscription, err string) {
	dst.mu.Lock()
	name, acc := dst.mu.name, dst.acc.Name
	dst.mu.Unlock()
	c.trace.Egress(dst.cid, name, acc, sub.subject, sub.queue, err)
}

// traceBoundary records a message crossing an import. When the import
// does not allow tracing, a trace-only message stops there (stop), and a
// delivered one goes on untraced: the trace is suspended until restore is
// called, and the header tells anything downstream not to trace it.
func (c *client) traceBoundary(allow bool, hdrLen int, msg []byte) (stop bool, restore func(), _ int, _ []byte) {
	t := c.trace
	if allow {
		return false, func() {}, hdrLen, msg
	}
	if t.Only {
		return true, nil, hdrLen, msg
	}
	c.trace = nil
	hdrLen, msg = setHeader(hdrLen, msg, msgtrace.DestHeader, []byte(msgtrace.DestDisabled))
	return false, func() { c.trace = t }, hdrLen, msg
}

// deliverTraced delivers to a client's subscription while a trace is on,
// recording the egress, or why there was none. A trace-only message is
// recorded as delivered and not sent.
func (c *client) deliverTraced(sub *subscription, subj, reply []byte, hdrLen int, msg []byte) bool {
	dst := sub.client
	var reason string
	dst.mu.Lock()
	switch {
	case dst.mu.closed:
		reason = msgtrace.ErrClientClosed
	case sub.closed:
		reason = msgtrace.ErrSubClosed
	case sub.deny != nil && sub.deny.DeniesDelivery(string(subj), sub.queue):
		reason = msgtrace.ErrSubDeny
	case sub.max > 0 && sub.nm >= sub.max:
		reason = msgtrace.ErrAutoSubExceeded
	}
	dst.mu.Unlock()
	t := c.trace
	if reason != "" || t.Only {
		c.traceEgress(dst, sub, reason)
		return reason == ""
	}
	c.trace = nil
	ok := c.deliver(sub, subj, reply, hdrLen, msg)
	c.trace = t
	if !ok {
		reason = msgtrace.ErrSlowConsumer
	}
	c.traceEgress(dst, sub, reason)
	return ok
}
