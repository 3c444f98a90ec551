package server

import (
	"github.com/sluicehq/sluice/internal/server/msgtrace"
	"github.com/sluicehq/sluice/internal/server/subject"
)

// Message tracing across routes, as nats-server does it: the server a
// traced message leaves records an egress of kind router per route and
// numbers the copy it sends there (Nats-Trace-Hop); the server it reaches
// traces it again from an ingress of kind router, in the account the
// route names, and publishes its own event to the same destination. A
// trace-only message still crosses the route: the remote server traces
// it and delivers nothing.

// startRouteTrace decides whether a message that came over a route is
// traced here. skip reports a trace-only message whose trace cannot start
// and that goes no further.
func (c *client) startRouteTrace(subj []byte, hdrLen int, msg []byte) (skip bool) {
	w, ok := msgtrace.Parse(msg[:hdrLen])
	if !ok {
		return false
	}
	p := c.routing.peer
	if w.OriginAccount != "" {
		c.srv.log.Errorf("%s - Message tracing disabled because of header %q with value=%q",
			p.c, msgtrace.OriginAccountHeader, w.OriginAccount)
		return w.Only
	}
	dest := w.Dest
	if w.External {
		// Sampled where it was published: only the destination is ours.
		td := c.acc.traceDest.Load()
		if td == nil {
			return false
		}
		dest = td.dest
	}
	if dest == "" {
		return w.Only
	}
	if !subject.ValidLiteral(dest) {
		c.srv.log.Errorf("%s - Destination %q is not valid, won't be able to trace events", p.c, dest)
		return w.Only
	}
	t := msgtrace.New(w, dest, msgtrace.KindRouter, p.c.CID(), p.c.RemoteName(), c.acc.Name, string(subj), len(msg))
	if vs := w.Headers[msgtrace.HopHeader]; len(vs) > 0 {
		t.SetHop(vs[0])
	}
	acc := c.acc // the route's client moves on to other accounts
	t.SetSender(func(t *msgtrace.Trace) { c.srv.publishTrace(acc, t, false) })
	c.trace = t
	return false
}

// sendToRouteTraced sends a traced message over one route: the copy
// carries its hop number and the trace records the egress.
// A peer below routeProto does not trace: a trace-only message is not
// sent there (it would be delivered), and a delivered one is marked as
// untraced beyond, as nats-server does.
func (c *client) sendToRouteTraced(rt *routeTarget, subj, reply []byte, hdrLen int, msg []byte) bool {
	hop, e := c.trace.RouteEgress(rt.p.c.CID(), rt.p.c.RemoteName())
	if rt.p.c.RemoteProto() < routeProto {
		if c.trace.Only {
			e.Error = msgtrace.ErrOnlyNoSupport
			return false
		}
		e.Error = msgtrace.ErrNoSupport
	}
	hdrLen, msg = setHeader(hdrLen, msg, msgtrace.HopHeader, []byte(hop))
	if !rt.p.c.SendMsg(rt.acc.Name, subj, reply, rt.qs, hdrLen, msg) {
		e.Error = msgtrace.ErrClientClosed
		return false
	}
	return true
}

// traceDestThrough points the Nats-Trace-Dest of a traced request entering
// exporter at a reply subject of the exporter that leads back to the
// destination in the tracer's account, as nats-server does: a server the
// request is routed to traces it in the exporter's account, and its event
// must still reach the tracer. done forgets the way back when the request
// went to no route (this server's own event needs none).
func (c *client) traceDestThrough(exporter *Account, hdrLen int, msg []byte) (int, []byte, func()) {
	t := c.trace
	tracer := c.srv.accs.lookup(t.Account)
	if tracer == nil {
		return hdrLen, msg, func() {}
	}
	rm := exporter.responses()
	if rm.advertised.CompareAndSwap(false, true) {
		c.srv.routeInterest(rm.sub, 1)
	}
	key := rm.add(tracer, []byte(t.Dest), ResponseStream, 0)
	hops := t.Event().Hops
	hdrLen, msg = setHeader(hdrLen, msg, msgtrace.DestHeader, []byte(key))
	return hdrLen, msg, func() {
		if t.Event().Hops == hops {
			rm.remove(key)
		}
	}
}
