package server

import (
	"cmp"
	"slices"
	"sync/atomic"
)

// NoLimit marks an account limit that is not set.
const NoLimit = -1

// AccountLimits are the limits an account puts on its clients, from an
// accounts {} block's limits {} in config mode, or (operator mode) from
// the account's JWT. NoLimit (-1) leaves one unset; 0 allows none, as in
// nats-server.
type AccountLimits struct {
	MaxConnections   int32 // active client connections in the account
	MaxSubscriptions int32 // subscriptions per connection
	MaxPayload       int32 // bytes of one message's payload
	MaxLeafNodes     int32 // leafnode connections (kept for when they exist)
}

// Unlimited is the limits of an account that sets none.
var Unlimited = AccountLimits{NoLimit, NoLimit, NoLimit, NoLimit}

// Close reasons of account limits, with nats-server's names.
const (
	reasonMaxAccountConnections closeReason = "Maximum Account Connections Exceeded"
	reasonMaxSubscriptions      closeReason = "Maximum Subscriptions Exceeded"
)

// accountLimits is the Account's field: nil means Unlimited.
type accountLimits struct{ p atomic.Pointer[AccountLimits] }

// Limits returns the account's limits.
func (a *Account) Limits() AccountLimits {
	if l := a.limits.p.Load(); l != nil {
		return *l
	}
	return Unlimited
}

// SetAccountLimits puts new limits in force on the named account at once:
// the newest connections over its connection limit and the connections at
// or over its subscription limit are told and closed, and payloads are
// checked against the new limit from the next message on (what
// nats-server does when an account's limits change). Operator mode calls
// it when an account JWT is updated; a reload calls it for accounts {}
// blocks. It reports false when the account does not exist.
func (s *Server) SetAccountLimits(name string, l AccountLimits) bool {
	a := s.accs.lookup(name)
	if a == nil {
		return false
	}
	old := a.Limits()
	a.limits.p.Store(&l)
	if old == l {
		return true
	}
	s.optsGen.Add(1) // read loops pick up the payload limit
	s.enforceLimits(func(c *client) bool { return c.acc == a }, true)
	return true
}

// maxPayload is the payload limit of a client: the server's, lowered by
// its account's.
func (c *client) maxPayload() int {
	n := int(c.srv.getOpts().MaxPayload)
	if l := c.acc.Limits().MaxPayload; l != NoLimit && int(l) < n {
		n = int(l)
	}
	if ul := c.lim.Load(); ul != nil { // a user JWT's own limit (jwt.go)
		n = userLimit(n, ul.payload)
	}
	return n
}

// maxSubs is the subscription limit of a client: the server's (0 means
// none) and its account's, whichever is lower; NoLimit when neither.
func (c *client) maxSubs() int {
	n := NoLimit
	if m := c.srv.getOpts().MaxSubs; m > 0 {
		n = m
	}
	if l := int(c.acc.Limits().MaxSubscriptions); l != NoLimit && (n == NoLimit || l < n) {
		n = l
	}
	if ul := c.lim.Load(); ul != nil { // a user JWT's own limit (jwt.go)
		n = userLimit(n, ul.subs)
	}
	return n
}

// accountConnsExceeded reports, for a client just bound to its account,
// whether the account already had its connection limit.
func (c *client) accountConnsExceeded() bool {
	l := c.acc.Limits().MaxConnections
	return l != NoLimit && c.acc.NumClients() > int(l)
}

func (c *client) refuseAccountConn() {
	c.srv.log.Errorf("%s - cid:%d - Maximum Account Connections Exceeded - Account:%s", c.hostPort(), c.cid, c.acc.Name)
	c.sendErrAndClose("maximum account active connections exceeded", reasonMaxAccountConnections)
}

// enforceLimits applies the connection limits (server and account) and
// the subscription limits to the connected clients that in selects, after
// a limit was lowered. The newest connections go first, so the longest
// standing stay (nats-server picks at random). atLimit closes clients with
// as many subscriptions as their limit, as nats-server does when an
// account's limits change; otherwise only those over it are closed.
func (s *Server) enforceLimits(in func(*client) bool, atLimit bool) {
	s.mu.Lock()
	var clients []*client
	for _, c := range s.mu.clients {
		if c.connected.Load() && in(c) {
			clients = append(clients, c)
		}
	}
	total := len(s.mu.clients)
	s.mu.Unlock()
	slices.SortFunc(clients, func(a, b *client) int { return cmp.Compare(b.cid, a.cid) })

	o := s.getOpts()
	perAcc := map[*Account]int{}
	for _, c := range clients {
		perAcc[c.acc]++
	}
	for _, c := range clients {
		if o.MaxConn < 0 || total > o.MaxConn {
			total--
			perAcc[c.acc]--
			s.log.Errorf("%s - cid:%d - Maximum Connections Exceeded", c.hostPort(), c.cid)
			c.sendErrAndClose("maximum connections exceeded", reasonMaxConnections)
			continue
		}
		if l := c.acc.Limits().MaxConnections; l != NoLimit && perAcc[c.acc] > int(l) {
			total--
			perAcc[c.acc]--
			c.refuseAccountConn()
			continue
		}
		c.mu.Lock()
		n := len(c.mu.subs)
		c.mu.Unlock()
		if m := c.maxSubs(); m != NoLimit && (n > m || (atLimit && n == m)) {
			s.log.Errorf("%s - cid:%d - Maximum Subscriptions Exceeded", c.hostPort(), c.cid)
			c.sendErrAndClose("maximum subscriptions exceeded", reasonMaxSubscriptions)
		}
	}
}
