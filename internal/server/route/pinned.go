package route

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"sort"
	"time"
)

// Pinned accounts at runtime, as nats-server v2.15 does it on a reload
// that adds an account to cluster { accounts }: the server tells each
// peer, over the pool connection that carried the account, an INFO with
// only route_pool_size, route_account and route_acc_add_reqid. The peer
// forgets the interest it had for that account from the pool, stops
// taking more from there, and answers with the same INFO without the
// account. Once every peer answered (or 2s passed) the server dials the
// account's own connection. Interest and messages of the account then
// flow only there.
//
// Beyond nats-server: a server accepts a dedicated connection for an
// account it does not pin itself (the peer pins it: both then use that
// connection), and the receiving side dials the dedicated connection back
// when it knows the peer's address, so a reload on a seed server that
// has no routes configured still gets its connections.

// accAddTimeout is how long an add waits for the peers' answers.
const accAddTimeout = 2 * time.Second

// Pinned lists the accounts this server pins (configured or added at
// runtime), sorted.
func (m *Manager) Pinned() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.mu.pinned))
	for a := range m.mu.pinned {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// SetPinned makes accounts the pinned set (a reload of cluster
// { accounts }, with the system account included by the caller when it
// is pinned): new ones get their own connections, removed ones go back
// to the pool.
func (m *Manager) SetPinned(accounts []string) {
	want := map[string]bool{}
	for _, a := range accounts {
		want[a] = true
	}
	var add, remove []string
	m.mu.Lock()
	for a := range want {
		if !m.mu.pinned[a] {
			add = append(add, a)
		}
	}
	for a := range m.mu.pinned {
		if !want[a] {
			remove = append(remove, a)
		}
	}
	m.mu.Unlock()
	sort.Strings(add)
	sort.Strings(remove)
	if len(remove) > 0 {
		m.Unpin(remove...)
	}
	if len(add) > 0 {
		m.Pin(add...)
	}
}

// Pin gives accounts their own route connection to every peer that pools.
func (m *Manager) Pin(accounts ...string) {
	if m.conf().PoolSize < 0 {
		m.log.Warnf("Not pinning accounts %v: route pooling is disabled", accounts)
		return
	}
	var id [11]byte
	rand.Read(id[:])
	reqID := hex.EncodeToString(id[:])
	type send struct {
		c   *Conn
		acc string
	}
	var sends []send
	var drops []dropReq
	m.mu.Lock()
	for _, acc := range accounts {
		if m.mu.pinned[acc] {
			continue
		}
		m.mu.pinned[acc] = true
		for _, r := range m.mu.remotes {
			if r.noPool || r.pinned[acc] != nil {
				continue
			}
			r.transit[acc] = true
			drops = append(drops, m.pooledPeersLocked(r, acc)...)
			if c := r.conns[PoolIndex(m.poolSize(), acc)%len(r.conns)]; c != nil {
				sends = append(sends, send{c, acc})
			}
		}
	}
	var ch chan string
	if len(sends) > 0 {
		ch = make(chan string, len(sends))
		m.mu.accAdd = accAddWait{id: reqID, ch: ch}
	}
	m.mu.Unlock()
	for _, d := range drops {
		d.p.DropAccount(d.acc)
	}
	for _, s := range sends {
		m.log.Noticef("%s - Moving account %q to its own route", s.c, s.acc)
		s.c.sendJSON("INFO", Info{RoutePoolSize: max(m.conf().PoolSize, 0), RouteAccount: s.acc, RouteAccReqID: reqID})
	}
	if ch != nil {
		t := time.NewTimer(accAddTimeout)
	wait:
		for got := 0; got < len(sends); got++ {
			select {
			case <-ch:
			case <-t.C:
				m.log.Warnf("Timed out waiting for confirmation from all routes regarding per-account routes changes")
				break wait
			case <-m.done:
				break wait
			}
		}
		t.Stop()
		m.mu.Lock()
		m.mu.accAdd = accAddWait{}
		m.mu.Unlock()
	}
	for _, u := range m.dialTargets() {
		for _, acc := range accounts {
			m.solicit(u.u, u.explicit, acc, true)
		}
	}
}

// Unpin sends accounts' traffic back to the pool connections: their own
// connections close (and are not redialed) and local interest goes to
// the pool.
func (m *Manager) Unpin(accounts ...string) {
	var closes []*Conn
	m.mu.Lock()
	for _, acc := range accounts {
		if !m.mu.pinned[acc] {
			continue
		}
		delete(m.mu.pinned, acc)
		for _, r := range m.mu.remotes {
			// Whether the peer still pins acc is not known: if it does,
			// it dials again and its connection is taken (and marks it).
			delete(r.transit, acc)
			delete(r.peerPinned, acc)
			if c := r.pinned[acc]; c != nil {
				closes = append(closes, c)
			}
		}
	}
	m.mu.Unlock()
	for _, c := range closes {
		c.mu.Lock()
		c.mu.noRedial = true
		c.mu.Unlock()
		c.close("Route Removed", false)
	}
	// Accounts that had no connection open still have interest to move.
	m.mu.Lock()
	for _, acc := range accounts {
		for _, r := range m.mu.remotes {
			if r.pinned[acc] == nil && !r.peerPinned[acc] {
				m.sendAccountInterestLocked(r, acc)
			}
		}
	}
	m.mu.Unlock()
}

type dialTarget struct {
	u        *url.URL
	explicit bool
}

// dialTargets are the configured routes and the peers this server
// dialed, once each.
func (m *Manager) dialTargets() []dialTarget {
	seen := map[string]bool{}
	var out []dialTarget
	for _, u := range m.conf().Routes {
		if !seen[u.Host] {
			seen[u.Host] = true
			out = append(out, dialTarget{u, true})
		}
	}
	m.mu.Lock()
	for _, r := range m.mu.remotes {
		if r.url != nil && !seen[r.url.Host] {
			seen[r.url.Host] = true
			out = append(out, dialTarget{r.url, false})
		}
	}
	m.mu.Unlock()
	return out
}

// accAddWait is a Pin waiting for the peers' answers.
type accAddWait struct {
	id string
	ch chan string
}

type dropReq struct {
	p   Peer
	acc string
}

// pooledPeersLocked lists what must forget acc's interest that came from
// r over its pool connections.
func (m *Manager) pooledPeersLocked(r *remote, acc string) []dropReq {
	var out []dropReq
	for _, c := range r.conns {
		if c != nil && c.peer != nil {
			out = append(out, dropReq{c.peer, acc})
		}
	}
	return out
}

// processAccAdd handles an INFO with route_acc_add_reqid: the peer
// moving an account to its own connection (route_account set), or a
// peer's answer to our move.
func (m *Manager) processAccAdd(c *Conn, info *Info) {
	acc := info.RouteAccount
	if acc == "" {
		m.mu.Lock()
		if w := m.mu.accAdd; w.ch != nil && w.id == info.RouteAccReqID {
			select {
			case w.ch <- c.remoteID:
			default:
			}
		}
		m.mu.Unlock()
		return
	}
	m.mu.Lock()
	r := m.mu.remotes[c.remoteID]
	if r == nil || r.noPool {
		m.mu.Unlock()
		return
	}
	r.peerPinned[acc] = true
	if r.pinned[acc] == nil {
		r.transit[acc] = true
	}
	drops := m.pooledPeersLocked(r, acc)
	u := r.url
	m.mu.Unlock()
	for _, d := range drops {
		d.p.DropAccount(d.acc)
	}
	m.log.Noticef("%s - Peer moves account %q to its own route", c, acc)
	c.sendJSON("INFO", Info{RoutePoolSize: info.RoutePoolSize, RouteAccReqID: info.RouteAccReqID})
	if u != nil {
		m.solicit(u, false, acc, true)
	}
}

// ignorePooled reports interest that arrives over a pool connection for
// an account that has, or is getting, its own connection with that peer.
// While the account moves, or when this server pins it, that interest is
// stale (it comes again over the account's connection). When only the
// peer pinned the account, the peer has moved it back to the pool: the
// account's connection is closed here and the interest taken.
func (c *Conn) ignorePooled(acc []byte) bool {
	if c.account != "" {
		return false
	}
	m := c.m
	m.mu.Lock()
	r := m.mu.remotes[c.remoteID]
	if r == nil || r.noPool {
		m.mu.Unlock()
		return false
	}
	if r.transit[string(acc)] {
		m.mu.Unlock()
		return true
	}
	d := r.pinned[string(acc)]
	if d == nil {
		m.mu.Unlock()
		return false
	}
	if m.mu.pinned[string(acc)] {
		m.mu.Unlock()
		return true
	}
	m.mu.Unlock()
	d.mu.Lock()
	d.mu.noRedial = true
	d.mu.Unlock()
	d.close("Route Removed", false)
	return false
}

// dedicatedUp runs once a dedicated connection of acc with r registered:
// the peer's interest in acc that came over the pool goes (it comes again
// over the new connection). Called with m.mu held; returns the drops to
// run after unlocking.
func (m *Manager) dedicatedUpLocked(r *remote, acc string) []dropReq {
	delete(r.transit, acc)
	if !m.mu.pinned[acc] {
		r.peerPinned[acc] = true // the peer pins it: use its connection
	}
	return m.pooledPeersLocked(r, acc)
}

// dedicatedDownLocked runs when the dedicated connection of acc with r
// closed. An account this server pins waits for the redial; one only the
// peer pinned goes back to the pool, and is not redialed.
func (m *Manager) dedicatedDownLocked(r *remote, acc string) (redial bool) {
	if m.mu.pinned[acc] {
		return true
	}
	delete(r.peerPinned, acc)
	m.sendAccountInterestLocked(r, acc)
	return false
}

// sendAccountInterestLocked sends r all local interest in acc over the
// connection that now carries it.
func (m *Manager) sendAccountInterestLocked(r *remote, acc string) {
	c := m.connForLocked(r, acc)
	if c == nil {
		return
	}
	var b []byte
	pa := c.protoAccount(acc)
	for k, n := range m.mu.interest[acc] {
		if m.permsNow().canImport(k.subject) {
			b = appendSub(b, true, pa, k.subject, k.queue, n)
		}
	}
	if len(b) > 0 {
		c.enqueue(b)
	}
}

// permsNow is this server's route permissions in force.
func (m *Manager) permsNow() *permCheck { return m.perms.Load() }

// pinnedLocked reports whether this server pins acc.
func (m *Manager) pinnedLocked(acc string) bool { return m.mu.pinned[acc] }
