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
	info   api.ConnInfo
	subs   []api.SubDetail
	user   string
	acc    string
	accTag string // the account's name tag, for auth=1
	certs  []*api.TLSPeerCert
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
		cc.acc, cc.accTag = c.acc.Name, c.accNameTagLocked()
	}
	// Shown with or without auth=1, as nats-server does for closed
	// connections; the name tag is the user's until auth=1 says account.
	c.jwtInfoLocked(&cc.info)
	if jl := c.mu.jwt; jl != nil && jl.userKey != "" {
		cc.info.NameTag = jl.userName
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
// A JWT login is its user key, after an nkey or user name.
func (c *client) authUserLocked() string {
	if cr := &c.mu.creds; cr.Nkey == "" && cr.User == "" && c.mu.jwt != nil && c.mu.jwt.userKey != "" {
		return c.mu.jwt.userKey
	}
	return authRawUser(&c.mu.creds)
}

// jwtInfoLocked sets the JWT fields of c's entry as nats-server does:
// the user JWT unless it is a bearer one, the issuing key (for nkey
// users, their account) and the user's tags.
func (c *client) jwtInfoLocked(ci *api.ConnInfo) {
	switch jl := c.mu.jwt; {
	case jl != nil:
		ci.IssuerKey, ci.Tags = jl.issuerKey, jl.tags
		if jl.userKey != "" && !jl.bearer {
			ci.JWT = c.mu.creds.JWT
		}
	case c.mu.creds.Nkey != "" && c.acc != nil:
		ci.IssuerKey = c.acc.Name
	}
}

// accNameTagLocked is the account's name tag: its JWT's name, or its name.
func (c *client) accNameTagLocked() string {
	if jl := c.mu.jwt; jl != nil && jl.accName != "" {
		return jl.accName
	}
	if c.acc == nil {
		return ""
	}
	return c.acc.Name
}
