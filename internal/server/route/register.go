package route

import (
	"crypto/subtle"
	"encoding/json"
	"net"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// checkPassword compares a presented password with the configured one,
// which may be a bcrypt hash.
func checkPassword(want, got string) bool {
	if strings.HasPrefix(want, "$2") {
		return bcrypt.CompareHashAndPassword([]byte(want), []byte(got)) == nil
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// processInfo handles an INFO: the handshake's, a peer's update, or a
// peer telling us about another server (gossip).
func (m *Manager) processInfo(c *Conn, info *Info) {
	m.mu.Lock()
	registered := c.reg
	m.mu.Unlock()
	if registered {
		if info.RouteAccReqID != "" {
			m.processAccAdd(c, info)
			return
		}
		if info.ID != c.remoteID {
			m.implicit(info)
			return
		}
		m.updateRemote(c, info)
		return
	}
	l := m.b.Local()
	if info.ID == l.ID {
		if c.solicited && c.url != nil {
			m.mu.Lock()
			m.mu.selfURLs[c.url.Host] = true
			m.mu.Unlock()
		}
		c.mu.Lock()
		c.mu.noRedial = true
		c.mu.Unlock()
		c.close("Duplicate Route", false)
		return
	}
	if info.Cluster == "_" {
		c.close("Cluster Name Conflict", false)
		return
	}
	if err := m.checkClusterName(info.Cluster, info.Dynamic, info.ID); err != nil {
		m.log.Errorf("%s - %v", c, err)
		c.sendErrAndClose(err.Error(), "Cluster Name Conflict")
		return
	}
	if !c.solicited {
		c.mu.Lock()
		got := c.mu.gotConnect
		c.mu.Unlock()
		if !got {
			c.sendErrAndClose("Authorization Violation", "Authentication Failure")
			return
		}
		if info.Name == l.Name {
			m.log.Errorf("%s - Remote server has a duplicate name: %q", c, info.Name)
			c.close("Duplicate Server Name", false)
			return
		}
	}
	if needsCompression(m.conf().Compression) && !c.negotiated {
		c.negotiated = true
		wait, err := m.negotiate(c, info)
		if err != nil {
			c.sendErrAndClose(err.Error(), "Protocol Violation")
			return
		}
		if wait {
			return // registration follows the peer's next INFO
		}
	} else if !c.negotiated {
		c.compression = CompressionOff
		if info.Compression == "" {
			c.compression = CompressionNotSupported
		}
	}
	m.mu.Lock() // other goroutines read these once registered, under m.mu
	c.info = *info
	c.remoteID, c.remoteName = info.ID, info.Name
	c.headers = info.Headers && l.Headers
	if !c.solicited && info.RouteAccount != "" {
		c.account, c.accB = info.RouteAccount, []byte(info.RouteAccount)
	}
	m.mu.Unlock()
	m.register(c)
}

// register places a connection that finished its handshake in its
// peer's pool (or as a pinned account's), sends our INFO when we
// solicited it and then our interest, and gossips a new peer.
func (m *Manager) register(c *Conn) {
	peer := m.b.Attach(c)
	info := &c.info
	var mine Info
	if c.solicited {
		mine = m.infoFor(c.account, -1)
	}
	m.mu.Lock()
	if m.mu.shutdown || c.dead {
		m.mu.Unlock()
		peer.Detach()
		c.close("Server Shutdown", false)
		return
	}
	r := m.mu.remotes[info.ID]
	isNew := r == nil
	if isNew {
		r = &remote{id: info.ID, name: info.Name, info: *info, pinned: map[string]*Conn{},
			peerPinned: map[string]bool{}, transit: map[string]bool{}}
		r.noPool = info.RoutePoolSize <= 0 || m.conf().PoolSize < 0
		size := 1
		if !r.noPool {
			size = max(m.poolSize(), info.RoutePoolSize)
		}
		r.conns = make([]*Conn, size)
		r.ip = info.IP
		if r.ip == "" {
			if ta, ok := c.raw.RemoteAddr().(*net.TCPAddr); ok {
				r.ip = "nats-route://" + net.JoinHostPort(ta.IP.String(), strconv.Itoa(info.Port)) + "/"
			}
		}
	}
	fail := func(dup bool, errText string) {
		if isNew {
			// nothing was placed: forget the half-made remote
		}
		m.mu.Unlock()
		peer.Detach()
		c.mu.Lock()
		c.mu.duplicate = dup
		c.mu.noRedial = errText != "" // dialing again would fail the same way
		c.mu.Unlock()
		if errText != "" {
			m.log.Errorf("%s - %s", c, errText)
			c.sendErrAndClose(errText, "Protocol Violation")
			return
		}
		m.log.Debugf("%s - Detected duplicate remote route %q", c, info.ID)
		c.close("Duplicate Route", true)
	}
	idx := -1
	var drops []dropReq
	if c.account != "" {
		switch {
		case r.noPool:
			fail(false, "Not possible to have a dedicated route for account \""+c.account+"\" between those servers")
			return
		case r.pinned[c.account] != nil:
			fail(true, "")
			return
		case c.solicited && !m.pinnedLocked(c.account) && !r.peerPinned[c.account]:
			// Dialed for a pin that has since been undone on both sides.
			fail(true, "")
			return
		}
		r.pinned[c.account] = c
		drops = m.dedicatedUpLocked(r, c.account)
	} else {
		if c.solicited {
			for i, x := range r.conns {
				if x == nil {
					idx = i
					break
				}
			}
		} else {
			idx = info.RoutePoolIdx
			if !r.noPool && idx >= len(r.conns) && idx < info.RoutePoolSize {
				r.conns = append(r.conns, make([]*Conn, info.RoutePoolSize-len(r.conns))...)
			}
			if idx < 0 || idx >= len(r.conns) {
				fail(false, "Invalid route pool index: "+strconv.Itoa(idx))
				return
			}
			if r.conns[idx] != nil {
				fail(true, "")
				return
			}
		}
		if idx < 0 {
			fail(true, "")
			return
		}
		r.conns[idx] = c
		c.poolIdx = idx
	}
	if isNew {
		m.mu.remotes[info.ID] = r
	}
	if c.solicited {
		r.url, r.explicit = c.url, r.explicit || c.explicit
	}
	c.reg = true
	c.peer = peer
	if c.solicited {
		if idx > 0 {
			mine.RoutePoolIdx = idx
		}
		c.sendJSON("INFO", mine)
	}
	m.sendInterestLocked(c, r)
	fillPool := c.solicited && c.account == "" && !r.noPool && hasFree(r.conns)
	gossip := !(c.solicited && !c.explicit) && info.GossipMode != gossipDisabled
	var fwd []*Conn
	if gossip && (c.account != "" || poolConns(r) == 1) {
		for id, o := range m.mu.remotes {
			if id == info.ID {
				continue
			}
			if p := o.pinned[c.account]; c.account != "" && p != nil {
				fwd = append(fwd, p)
			} else if x := firstConn(o); x != nil {
				fwd = append(fwd, x)
			}
		}
	}
	m.mu.Unlock()
	for _, d := range drops {
		d.p.DropAccount(d.acc)
	}
	m.log.Noticef("%s - Registered remote route %q (%s)%s", c, info.ID, info.Name, accountNote(c.account))
	if len(fwd) > 0 {
		g := *info
		g.Nonce, g.IP, g.RouteAccount, g.RoutePoolIdx = "", r.ip, c.account, 0
		for _, o := range fwd {
			o.sendJSON("INFO", g)
		}
	}
	if fillPool {
		m.solicit(c.url, c.explicit, "", true)
	}
	if isNew {
		m.b.PeersChanged()
	}
}

func accountNote(a string) string {
	if a == "" {
		return ""
	}
	return " for account " + strconv.Quote(a)
}

func hasFree(conns []*Conn) bool {
	for _, c := range conns {
		if c == nil {
			return true
		}
	}
	return false
}

func poolConns(r *remote) int {
	n := 0
	for _, c := range r.conns {
		if c != nil {
			n++
		}
	}
	return n
}

func firstConn(r *remote) *Conn {
	for _, c := range r.conns {
		if c != nil {
			return c
		}
	}
	for _, c := range r.pinned {
		return c
	}
	return nil
}

// updateRemote applies a peer's later INFO: lame duck mode, new URLs.
func (m *Manager) updateRemote(c *Conn, info *Info) {
	m.mu.Lock()
	r := m.mu.remotes[c.remoteID]
	changed := false
	if r != nil {
		if info.LameDuckMode != r.info.LameDuckMode {
			r.info.LameDuckMode, changed = info.LameDuckMode, true
		}
		if len(info.ConnectURLs) > 0 && strings.Join(info.ConnectURLs, ",") != strings.Join(r.info.ConnectURLs, ",") {
			r.info.ConnectURLs, changed = info.ConnectURLs, true
		}
		if len(info.WSConnectURL) > 0 && strings.Join(info.WSConnectURL, ",") != strings.Join(r.info.WSConnectURL, ",") {
			r.info.WSConnectURL, changed = info.WSConnectURL, true
		}
	}
	m.mu.Unlock()
	m.peerPerms(c, info)
	if changed {
		m.b.PeersChanged()
	}
}

// implicit dials a server a peer told us about, unless we know it.
func (m *Manager) implicit(info *Info) {
	if info.ID == m.b.Local().ID {
		return
	}
	m.mu.Lock()
	r := m.mu.remotes[info.ID]
	acc := info.RouteAccount
	skip := false
	if acc != "" {
		skip = m.conf().PoolSize <= 0 || !m.pinnedLocked(acc) || (r != nil && r.pinned[acc] != nil)
	} else {
		skip = r != nil && poolConns(r) > 0
	}
	m.mu.Unlock()
	if skip || info.IP == "" || m.configured(info) {
		return
	}
	u, err := url.Parse(info.IP)
	if err != nil {
		m.log.Errorf("Error parsing URL from INFO: %v", err)
		return
	}
	if info.AuthRequired && m.conf().Username != "" {
		u.User = url.UserPassword(m.conf().Username, m.conf().Password)
	}
	m.solicit(u, false, acc, true)
}

// configured reports whether the server info describes is one of the
// explicit routes (those have their own dialers).
func (m *Manager) configured(info *Info) bool {
	port := strconv.Itoa(info.Port)
	one := strings.ToLower(net.JoinHostPort(info.Host, port))
	two := ""
	if u, err := url.Parse(info.IP); err == nil && info.IP != "" {
		two = strings.ToLower(net.JoinHostPort(u.Hostname(), port))
	}
	for _, u := range m.conf().Routes {
		h := strings.ToLower(u.Host)
		if h == one || (two != "" && h == two) {
			return true
		}
	}
	return false
}

// connClosed forgets a closed connection and redials when it should.
func (m *Manager) connClosed(c *Conn, reason string) {
	m.mu.Lock()
	delete(m.mu.conns, c)
	c.dead = true
	account, remoteID, peer := c.account, c.remoteID, c.peer
	reg := c.reg
	c.reg = false
	lost, noRedialAcc := false, false
	var r *remote
	if reg {
		r = m.mu.remotes[remoteID]
		if r != nil {
			if account != "" && r.pinned[account] == c {
				delete(r.pinned, account)
				noRedialAcc = !m.dedicatedDownLocked(r, account)
			} else if c.poolIdx >= 0 && c.poolIdx < len(r.conns) && r.conns[c.poolIdx] == c {
				r.conns[c.poolIdx] = nil
			}
			if firstConn(r) == nil {
				delete(m.mu.remotes, remoteID)
				lost = true
			}
		}
	}
	shutdown := m.mu.shutdown
	m.mu.Unlock()
	c.mu.Lock()
	dup, noRedial := c.mu.duplicate, c.mu.noRedial
	c.mu.Unlock()
	if peer != nil {
		peer.Detach()
	}
	if reg {
		m.log.Noticef("%s - Route connection closed: %s", c, reason)
	} else {
		m.log.Debugf("%s - Route connection closed before registration: %s", c, reason)
	}
	if lost {
		m.b.PeersChanged()
	}
	if shutdown || dup || noRedial || noRedialAcc {
		return
	}
	u, explicit := c.url, c.explicit
	if r != nil && r.url != nil {
		u, explicit = r.url, r.explicit || explicit
	}
	if u == nil || (!reg && !c.solicited) {
		return
	}
	if !explicit && !reg {
		return
	}
	m.solicit(u, explicit, account, false)
}
