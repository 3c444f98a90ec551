package server

import (
	"slices"
	"sync"
	"time"

	"github.com/sluicehq/sluice/pkg/api"
)

// closedConn is what /connz?state=closed shows of a connection that has
// ended. subs, user, acc and certs are kept aside and put into the ConnInfo only
// when a request asks for them.
type closedConn struct {
	info  api.ConnInfo
	subs  []api.SubDetail
	user  string
	acc   string
	certs []*api.TLSPeerCert
}

// closedRing keeps the last max_closed_clients closed connections, oldest
// first once it wraps.
type closedRing struct {
	mu   sync.Mutex
	buf  []*closedConn
	next int // slot of the next entry once buf is full
	max  int // capacity in force; max_closed_clients may change on reload
}

func (r *closedRing) add(cc *closedConn, max int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if max <= 0 {
		r.buf, r.next, r.max = nil, 0, 0
		return
	}
	if max != r.max {
		r.resizeLocked(max)
	}
	if len(r.buf) < max {
		r.buf = append(r.buf, cc)
		return
	}
	r.buf[r.next] = cc
	r.next = (r.next + 1) % len(r.buf)
}

// resizeLocked keeps the newest max entries, oldest first.
func (r *closedRing) resizeLocked(max int) {
	all := r.listLocked()
	if len(all) > max {
		all = all[len(all)-max:]
	}
	r.buf, r.next, r.max = all, 0, max
}

// list returns the entries, oldest first.
func (r *closedRing) list() []*closedConn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.listLocked()
}

func (r *closedRing) listLocked() []*closedConn {
	out := make([]*closedConn, 0, len(r.buf))
	out = append(out, r.buf[r.next:]...)
	return append(out, r.buf[:r.next]...)
}

// saveClosed records c, which has just been closed, for /connz. subs are
// the subscriptions it had; c.mu no longer lists them.
func (s *Server) saveClosed(c *client, reason closeReason, subs []*subscription) {
	now := time.Now()
	c.mu.Lock()
	cc := &closedConn{user: c.authUserLocked(), certs: c.peerCerts()}
	c.fillConnInfoLocked(&cc.info, now)
	if c.acc != nil && c.acc.Name != globalAccountName {
		cc.acc = c.acc.Name
	}
	cc.info.NumSubs = uint32(len(subs))
	cc.info.Stop = &now
	cc.info.Reason = string(reason)
	for _, sub := range subs {
		sd := subDetailLocked(sub)
		sd.Account = sub.acc.Name
		cc.subs = append(cc.subs, sd)
	}
	c.mu.Unlock()
	slices.SortFunc(cc.subs, func(a, b api.SubDetail) int { return compareSid(a.Sid, b.Sid) })
	s.mon.closed.add(cc, s.getOpts().MaxClosedClients)
}

// authUserLocked is the identity a connection authenticated with, as
// /connz?auth=1 shows it: nkey, then user name; a token is never shown.
func (c *client) authUserLocked() string { return authRawUser(&c.mu.creds) }
