package msgtrace

import "strconv"

// The route hop of a trace. A traced message forwarded to another server
// carries a Nats-Trace-Hop header naming its hop ("1", "2", ... per route
// from the origin; "<hop>.<n>" further on), the sending server records an
// egress of kind router with that hop, and the receiving server traces the
// message again from an ingress of kind router and publishes its own
// event to the same destination, as nats-server does.

// RouteEgress records the message leaving over a route to server name
// (connection cid) and returns the hop id the copy sent there carries in
// its Nats-Trace-Hop header, and the egress (to note an error on).
func (t *Trace) RouteEgress(cid uint64, name string) (hop string, e *Egress) {
	t.ev.Hops++
	hop = strconv.Itoa(t.ev.Hops)
	if t.hop != "" {
		hop = t.hop + "." + hop
	}
	e = &Egress{Base: base(TypeEgress), Kind: KindRouter, CID: cid, Name: name, Hop: hop}
	t.ev.Events = append(t.ev.Events, e)
	return hop, e
}

// SetHop records the hop id a routed message arrived with.
func (t *Trace) SetHop(hop string) { t.hop = hop }

// SetKind sets the connection kind of the ingress (KindRouter for a
// message that came over a route).
func (t *Trace) SetKind(kind int) { t.ingress.Kind = kind }
