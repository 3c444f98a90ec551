package server

import (
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/sluicehq/sluice/internal/server/route"
	"github.com/sluicehq/sluice/pkg/conf"
)

// Wiring of the route package (clustering): the cluster {} block, the
// Broker and Peer it needs, remote interest as subscriptions in the
// accounts' indexes and the forwarding of matched messages to routes.

// readCluster hands the cluster block to the route package.
func readCluster(r *configReader, key string, it *conf.Item) {
	readTLSBlock := func(tit *conf.Item) (set route.TLSSettings, ok bool) {
		sub := &configReader{opts: &Options{}, strict: r.strict}
		readTLS(sub, "tls", tit)
		r.warns = append(r.warns, sub.warns...)
		r.errs = append(r.errs, sub.errs...)
		o := sub.opts
		set = route.TLSSettings{Config: o.TLSConfig, Timeout: o.TLSTimeout, Map: o.TLSMap, Pinned: o.TLSPinnedCerts}
		return set, len(sub.errs) == 0 && o.TLSConfig != nil
	}
	if r.opts.Cluster == nil {
		r.opts.Cluster = &route.Config{}
	}
	for _, is := range route.Parse(it, r.opts.Cluster, route.TLSReader(readTLSBlock), r.strict) {
		if is.Warning {
			r.warnf(is.Pos, "%s", is.Msg)
		} else {
			r.errorf(is.Pos, "%s", is.Msg)
		}
	}
}

// routeRef marks a subscription as a peer's interest: matched messages
// are forwarded over the peer's route.
type routeRef struct {
	p  *routePeer
	qw atomic.Int32 // queue weight: the peer's members in the group
}

// routeTarget is one route a message goes to, with the queue groups the
// peer is to pick a member of (names each followed by a space).
type routeTarget struct {
	p   *routePeer
	acc *Account
	qs  []byte
}

// routing is a client's routing state: the routes a message being
// delivered goes to, and, on the pseudo-client of a route, its peer and
// the queue groups the routed message names.
type routing struct {
	rts    []routeTarget
	peer   *routePeer
	queues [][]byte
}

// addRouteTarget records that sub's route wants the message (for its
// queue group when sub is a queue member).
func (c *client) addRouteTarget(sub *subscription, mark int) {
	p := sub.rt.p
	for i := mark; i < len(c.routing.rts); i++ {
		rt := &c.routing.rts[i]
		if rt.p == p {
			if sub.queue != "" {
				rt.qs = append(append(rt.qs, sub.queue...), ' ')
			}
			return
		}
	}
	n := len(c.routing.rts)
	if n < cap(c.routing.rts) {
		c.routing.rts = c.routing.rts[:n+1]
	} else {
		c.routing.rts = append(c.routing.rts, routeTarget{})
	}
	rt := &c.routing.rts[n]
	rt.p, rt.acc, rt.qs = p, sub.acc, rt.qs[:0]
	if sub.queue != "" {
		rt.qs = append(append(rt.qs, sub.queue...), ' ')
	}
}

// sendToRoutes sends the message once to every route recorded since mark.
func (c *client) sendToRoutes(mark int, subj, reply []byte, hdrLen int, msg []byte) bool {
	sent := false
	for i := mark; i < len(c.routing.rts); i++ {
		rt := &c.routing.rts[i]
		if c.trace != nil {
			sent = c.sendToRouteTraced(rt, subj, reply, hdrLen, msg) || sent
		} else if rt.p.c.SendMsg(rt.acc.Name, subj, reply, rt.qs, hdrLen, msg) {
			sent = true
		}
		rt.p, rt.acc = nil, nil
	}
	c.routing.rts = c.routing.rts[:mark]
	return sent
}

// routedQueueWanted reports whether a message that came over a route is
// for queue group q here: only the groups the sender named.
func (c *client) routedQueueWanted(q string) bool {
	for _, n := range c.routing.queues {
		if string(n) == q {
			return true
		}
	}
	return false
}

// pickRemote chooses among the routes holding members of a queue group,
// weighted by how many members each has.
func pickRemote(cur *subscription, total *int32, sub *subscription) *subscription {
	w := sub.rt.qw.Load()
	if w <= 0 {
		w = 1
	}
	*total += w
	if rand.Int32N(*total) < w {
		return sub
	}
	return cur
}

// routeInterest tells the routes that local interest appeared (delta 1)
// or went (-1). Import subscriptions stay local: imports are applied on
// the server where a message is published.
func (s *Server) routeInterest(sub *subscription, delta int32) {
	if s.routes == nil || sub.rt != nil || (sub.fwd != nil && !routedForwarder(sub)) {
		return
	}
	s.routes.Interest(sub.acc.Name, sub.subject, sub.queue, delta)
}

// routedForwarder reports the one kind of forwarding subscription that
// routes serve: the one catching replies to requests this server sent
// through a service import, which may come back from another server.
func routedForwarder(sub *subscription) bool {
	_, ok := sub.fwd.(*responseRouter)
	return ok
}

// routeProto is the server-to-server protocol level routes announce:
// nats-server's MsgTraceProto, "understands distributed message tracing"
// (below it, a nats-server peer neither sends a trace-only message over
// the route nor expects a trace event from this side).
const routeProto = 3

// routeBroker is what the route package sees of the server.
type routeBroker struct{ s *Server }

func (b routeBroker) Local() route.Local {
	s := b.s
	s.mu.Lock()
	info := s.mu.info
	s.mu.Unlock()
	return route.Local{ID: s.id, Name: info.Name, Version: info.Version, GoVersion: info.GoVersion,
		GitCommit: info.GitCommit, Domain: info.Domain, MaxPayload: info.MaxPayload, Headers: info.Headers,
		JetStream: info.JetStream, Proto: routeProto, ClientURLs: s.ownClientURLs(), WSConnectURLs: s.ownWSURLs()}
}

func (b routeBroker) Attach(c *route.Conn) route.Peer {
	s := b.s
	p := &routePeer{s: s, c: c, subs: map[string]*subscription{}}
	p.pc = &client{srv: s, opts: defaultInternalOpts, acc: s.GlobalAccount()}
	p.pc.routing.peer = p
	s.rpeers.Lock()
	if s.rpeers.m == nil {
		s.rpeers.m = map[uint64]*routePeer{}
	}
	s.rpeers.m[c.CID()] = p
	s.rpeers.Unlock()
	return p
}

func (b routeBroker) PeersChanged() { b.s.sendConnectURLs() }

// ClusterNameChanged: a generated cluster name gave way to a peer's.
func (b routeBroker) ClusterNameChanged(name string) {
	b.s.mu.Lock()
	b.s.mu.info.Cluster = name
	b.s.mu.Unlock()
}

// ownClientURLs are where clients reach this server: client_advertise,
// else the listener's address (each interface's when bound to all).
func (s *Server) ownClientURLs() []string {
	o := s.getOpts()
	if o.ClientAdvertise != "" {
		return []string{o.ClientAdvertise}
	}
	addr, ok := s.Addr().(*net.TCPAddr)
	if !ok {
		return nil
	}
	return hostURLs(addr.IP, addr.Port)
}

// hostURLs are host:port for ip, or for each interface's address when ip
// is unspecified (a listener bound to all).
func hostURLs(ip net.IP, p int) []string {
	port := strconv.Itoa(p)
	if !ip.IsUnspecified() {
		return []string{net.JoinHostPort(ip.String(), port)}
	}
	var out []string
	if ifs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range ifs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() || ipn.IP.To4() == nil {
				continue
			}
			out = append(out, net.JoinHostPort(ipn.IP.String(), port))
		}
	}
	if len(out) == 0 {
		out = []string{net.JoinHostPort("127.0.0.1", port)}
	}
	return out
}

// sendConnectURLs refreshes connect_urls and ws_connect_urls and pushes
// the INFO to the clients that take async INFO and whose list changed.
func (s *Server) sendConnectURLs() {
	tcp, ws := s.refreshConnectURLs()
	if !tcp && !ws {
		return
	}
	s.mu.Lock()
	clients := make([]*client, 0, len(s.mu.clients))
	for _, c := range s.mu.clients {
		clients = append(clients, c)
	}
	s.mu.Unlock()
	for _, c := range clients {
		if (c.ws == nil && !tcp) || (c.ws != nil && !ws) {
			continue
		}
		c.mu.Lock()
		proto := c.mu.protocol
		c.mu.Unlock()
		if proto >= 1 && c.sentFirstP.Load() {
			c.enqueue(s.infoFor(c, false))
		}
	}
}

// refreshConnectURLs recomputes connect_urls (this server's and its
// peers') and ws_connect_urls (the same for WebSocket clients, who get
// them as their connect_urls) and reports which changed. A server in lame
// duck mode lists only the others, so that its clients move there.
func (s *Server) refreshConnectURLs() (tcp, ws bool) {
	if s.routes == nil {
		return false, false
	}
	merge := func(own, peers []string) []string {
		if len(peers) == 0 {
			return nil
		}
		urls := append(append([]string(nil), own...), peers...)
		slices.Sort(urls)
		return slices.Compact(urls)
	}
	own, ownWS := s.ownClientURLs(), s.ownWSURLs()
	if s.InLameDuckMode() {
		own, ownWS = nil, nil
	}
	urls := merge(own, s.routes.ClientURLs())
	wsURLs := merge(ownWS, s.routes.WSConnectURLs())
	s.mu.Lock()
	defer s.mu.Unlock()
	tcp = !slices.Equal(s.mu.info.ConnectURLs, urls)
	ws = !slices.Equal(s.mu.info.WSConnectURLs, wsURLs)
	s.mu.info.ConnectURLs, s.mu.info.WSConnectURLs = urls, wsURLs
	return tcp, ws
}

// ownWSURLs are where WebSocket clients reach this server (host:port):
// the websocket advertise address, else the listener's.
func (s *Server) ownWSURLs() []string {
	ln := s.wsListener()
	if ln == nil {
		return nil
	}
	if adv := s.getOpts().Websocket.Advertise; adv != "" {
		if _, _, err := net.SplitHostPort(adv); err != nil {
			adv = net.JoinHostPort(adv, strconv.Itoa(ln.Port()))
		}
		return []string{adv}
	}
	ip := net.ParseIP(ln.Host())
	if ip == nil {
		if ln.Host() == "" {
			ip = net.IPv4zero
		} else {
			return []string{net.JoinHostPort(ln.Host(), strconv.Itoa(ln.Port()))}
		}
	}
	return hostURLs(ip, ln.Port())
}

// routePeer holds what one route connection brought: the peer's interest
// (subscriptions in the accounts' indexes) and the pseudo-client that
// delivers its messages.
type routePeer struct {
	s  *Server
	c  *route.Conn
	pc *client // owned by the route's read loop

	mu   sync.Mutex
	subs map[string]*subscription // account subject queue -> interest
	gone bool
}

func subKey(account, subject, queue []byte) string {
	k := make([]byte, 0, len(account)+len(subject)+len(queue)+2)
	k = append(append(append(k, account...), ' '), subject...)
	if len(queue) > 0 {
		k = append(append(k, ' '), queue...)
	}
	return string(k)
}

func (p *routePeer) account(name []byte) *Account {
	if a := p.pc.acc; a != nil && a.Name == string(name) {
		return a
	}
	return p.s.accs.lookup(string(name))
}

func (p *routePeer) RemoteSub(account, subj, queue []byte, weight int32) {
	acc := p.account(account)
	if acc == nil {
		p.s.log.Debugf("%s - Unknown account %q for remote subject %q", p.c, account, subj)
		return
	}
	k := subKey(account, subj, queue)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gone {
		return
	}
	if old := p.subs[k]; old != nil {
		old.rt.qw.Store(weight)
		return
	}
	sub := &subscription{acc: acc, subject: string(subj), queue: string(queue), rt: &routeRef{p: p}}
	sub.rt.qw.Store(weight)
	if err := acc.sl.Insert(sub.subject, sub.queue, sub); err != nil {
		p.s.log.Errorf("%s - Could not insert remote subscription %q: %v", p.c, subj, err)
		return
	}
	p.subs[k] = sub
}

func (p *routePeer) RemoteUnsub(account, subj, queue []byte) {
	k := subKey(account, subj, queue)
	p.mu.Lock()
	sub := p.subs[k]
	delete(p.subs, k)
	p.mu.Unlock()
	if sub != nil {
		sub.acc.sl.Remove(sub.subject, sub.queue, sub)
	}
}

func (p *routePeer) Deliver(account, subj, reply []byte, queues [][]byte, hdrLen int, msg []byte) {
	acc := p.account(account)
	if acc == nil {
		return
	}
	c := p.pc
	if c.acc != acc {
		c.endBatch() // counters belong to the previous account
		c.acc = acc
	}
	c.in.msgs++
	c.in.bytes += int64(len(msg))
	if hdrLen > 0 && c.startRouteTrace(subj, hdrLen, msg) {
		return
	}
	c.routing.queues = queues
	c.deliverAll(acc.sl.MatchBytes(subj), subj, reply, hdrLen, msg)
	c.routing.queues = nil
	if c.trace != nil {
		c.finishTrace()
	}
}

func (p *routePeer) EndBatch() {
	p.pc.endBatch()
	p.pc.stalled = 0 // the stall budget is per read, as for a client
}

// DropAccount forgets the interest in account this route brought.
func (p *routePeer) DropAccount(account string) {
	var drop []*subscription
	p.mu.Lock()
	for k, sub := range p.subs {
		if sub.acc.Name == account {
			drop = append(drop, sub)
			delete(p.subs, k)
		}
	}
	p.mu.Unlock()
	for _, sub := range drop {
		sub.acc.sl.Remove(sub.subject, sub.queue, sub)
	}
}

func (p *routePeer) Detach() {
	p.s.rpeers.Lock()
	delete(p.s.rpeers.m, p.c.CID())
	p.s.rpeers.Unlock()
	p.mu.Lock()
	p.gone = true
	subs := p.subs
	p.subs = nil
	p.mu.Unlock()
	for _, sub := range subs {
		sub.acc.sl.Remove(sub.subject, sub.queue, sub)
	}
}

// startRoutes starts clustering when configured.
func (s *Server) startRoutes() error {
	if s.routes == nil {
		return nil
	}
	if err := s.routes.Start(); err != nil {
		return err
	}
	s.mu.Lock()
	s.mu.info.Cluster = s.routes.ClusterName()
	s.mu.Unlock()
	return nil
}

func (s *Server) stopRoutes() {
	if s.routes != nil {
		s.routes.Shutdown()
	}
}

// newRoutes builds the route manager when the options configure a cluster.
func (s *Server) newRoutes(o *Options) {
	if !o.Cluster.Enabled() {
		return
	}
	s.routes = route.New(*o.Cluster, routeBroker{s}, s.log)
}

// Routes is the route manager, nil without clustering.
func (s *Server) Routes() *route.Manager { return s.routes }

// ClusterName is the cluster's name, "" without clustering.
func (s *Server) ClusterName() string {
	if s.routes == nil {
		return ""
	}
	return s.routes.ClusterName()
}
