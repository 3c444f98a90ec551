package route

import (
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"time"
)

// Reload of the cluster {} block, where nats-server reloads it: the
// listener (host, port) stays; routes, authorization, permissions, TLS,
// pool size, pinned accounts, compression, name and the rest change.
// Connections that the new settings no longer allow are closed; the ones
// that cannot take a change in place (pool size, compression turned on or
// off) are closed and dialed again.

// CheckReload reports a change that cannot be made while the server runs,
// with nats-server's wording; nil when next may replace cur.
func CheckReload(cur, next *Config) error {
	if !cur.Enabled() && !next.Enabled() {
		return nil
	}
	var ch, nh string
	var cp, np int
	if cur.Enabled() {
		ch, cp = cur.Host, cur.Port
	}
	if next.Enabled() {
		nh, np = next.Host, next.Port
	}
	if cp != np {
		return fmt.Errorf("config reload not supported for cluster port: old=%d, new=%d", cp, np)
	}
	if cur.Enabled() != next.Enabled() {
		return fmt.Errorf("config reload not supported for turning clustering on or off")
	}
	if ch != nh {
		return fmt.Errorf("config reload not supported for cluster host: old=%s, new=%s", ch, nh)
	}
	if a := next.Advertise; a != "" {
		if _, _, err := splitAdvertise(a, 0); err != nil {
			return fmt.Errorf("invalid Cluster.Advertise value of %s, err=%v", a, err)
		}
	}
	return next.Validate()
}

// ReloadResult says what a reload did to the routes.
type ReloadResult struct {
	Added, Removed []string // explicit routes, as URLs without credentials
	Closed         int      // connections closed
	NameChanged    bool
}

// Reload puts next in force (defaults applied, CheckReload passed).
func (m *Manager) Reload(next Config) ReloadResult {
	prev := m.conf()
	next.ReconnectDelay = prev.ReconnectDelay
	cfg := &next
	oldPerms, newPerms := m.perms.Load(), newPermCheck(cfg)
	m.cfg.Store(cfg)
	m.perms.Store(newPerms)

	var res ReloadResult
	add, remove := diffRoutes(prev.Routes, cfg.Routes)
	authChanged := prev.Username != cfg.Username || prev.Password != cfg.Password ||
		prev.TLSMap != cfg.TLSMap || prev.TLSCheckKnownURLs != cfg.TLSCheckKnownURLs ||
		(cfg.TLSCheckKnownURLs && len(remove) > 0)
	pinsChanged := !reflect.DeepEqual(prev.TLSPinnedCerts, cfg.TLSPinnedCerts)
	permsChanged := !reflect.DeepEqual(prev.Import, cfg.Import) || !reflect.DeepEqual(prev.Export, cfg.Export)
	// Pools and pinned connections are laid out at registration: a new
	// pool size or account list takes new connections.
	repool := prev.PoolSize != cfg.PoolSize
	// A new accounts list alone moves accounts with nats-server's
	// protocol (pinned.go), without closing the routes.
	repin := !repool && !slices.Equal(prev.PinnedAccounts, cfg.PinnedAccounts)
	compress := prev.Compression != cfg.Compression || !slices.Equal(prev.RTTThresholds, cfg.RTTThresholds)

	type closing struct {
		c        *Conn
		reason   string
		authErr  bool
		noRedial bool
	}
	var cl []closing
	var recompress []*Conn
	m.mu.Lock()
	if cfg.Name != "" && cfg.Name != m.mu.name {
		m.setNameLocked(cfg.Name, false)
		res.NameChanged = true
	}
	if m.mu.dropped == nil {
		m.mu.dropped = map[string]bool{}
	}
	for _, u := range remove {
		m.mu.dropped[u.String()] = true
		res.Removed = append(res.Removed, redact(u))
	}
	for _, u := range add {
		delete(m.mu.dropped, u.String())
		delete(m.mu.selfURLs, u.Host)
		res.Added = append(res.Added, redact(u))
	}
	for c := range m.mu.conns {
		switch {
		case c.dead:
		case routeIn(c.url, remove) || (c.reg && m.remoteURLIn(c.remoteID, remove)):
			cl = append(cl, closing{c: c, reason: "Route Removed", noRedial: true})
		case authChanged && !c.solicited && !m.stillAuthorized(c, cfg):
			cl = append(cl, closing{c: c, reason: "Authentication Failure", authErr: true, noRedial: true})
		case !c.reg: // still in its handshake, which uses the new settings
		case pinsChanged && cfg.TLSConfig != nil && !cfg.TLSPinnedCerts.Allows(c.peerChain()):
			cl = append(cl, closing{c: c, reason: "TLS Handshake Failure", noRedial: true})
		case repool:
			cl = append(cl, closing{c: c, reason: "Route Removed", noRedial: c.account != "" && !slices.Contains(cfg.PinnedAccounts, c.account)})
		case compress && c.compression != CompressionNotSupported && c.compression != cfg.Compression:
			// Only a route going to or from no compression negotiates
			// again; between compressed modes the writer changes in place.
			if c.compression == CompressionOff || !needsCompression(cfg.Compression) || cfg.Compression == CompressionAccept {
				cl = append(cl, closing{c: c, reason: "Client Closed"})
			} else {
				recompress = append(recompress, c)
			}
		}
	}
	if repool {
		// The pools are rebuilt as connections come back; the ones
		// closing go by their own URLs.
		clear(m.mu.remotes)
		clear(m.mu.pinned)
		for _, a := range cfg.PinnedAccounts {
			m.mu.pinned[a] = true
		}
	}
	var infos []*Conn
	if permsChanged {
		m.reannounceLocked(oldPerms, newPerms)
		infos = m.registeredLocked()
	}
	m.mu.Unlock()

	for _, x := range cl {
		if x.noRedial {
			x.c.mu.Lock()
			x.c.mu.noRedial = true
			x.c.mu.Unlock()
		}
		if x.authErr {
			m.log.Errorf("%s - Route authorization failed after reload", x.c)
			x.c.sendErrAndClose("Authorization Violation", x.reason)
		} else {
			x.c.close(x.reason, false)
		}
	}
	res.Closed = len(cl)
	for _, c := range recompress {
		c.recompress(cfg.Compression, cfg.RTTThresholds)
	}
	if permsChanged {
		for _, c := range infos {
			info := m.infoFor(c.account, -1)
			info.Nonce = ""
			c.sendJSON("INFO", info)
			if p, ok := c.peer.(RemotePruner); ok {
				p.PruneRemote(func(subject string) bool { return newPerms.canExport(subject) })
			}
		}
	}
	for _, u := range add {
		m.solicit(u, true, "", true)
		for _, a := range cfg.PinnedAccounts {
			m.solicit(u, true, a, true)
		}
	}
	if repool {
		// Explicit routes dial again at once; the rest come back through
		// their own redials and gossip, and repair fills what those leave.
		for _, u := range cfg.Routes {
			m.solicit(u, true, "", true)
			for _, a := range cfg.PinnedAccounts {
				m.solicit(u, true, a, true)
			}
		}
		m.wg.Add(1)
		go m.repairPools(time.Now().Add(repairFor))
	}
	if repin {
		m.SetPinned(cfg.PinnedAccounts)
	}
	if prev.NoAdvertise != cfg.NoAdvertise || repool || len(remove) > 0 {
		m.b.PeersChanged()
	}
	m.log.Noticef("Reloaded: cluster")
	if len(add)+len(remove) > 0 {
		m.log.Noticef("Reloaded: cluster routes (added %v, removed %v)", res.Added, res.Removed)
	}
	return res
}

// RemotePruner is what a Peer may implement so that a reload narrowing
// the export permissions drops the interest the peer announced that may
// no longer be served.
type RemotePruner interface {
	PruneRemote(keep func(subject string) bool)
}

// reannounceLocked tells every peer about local interest that the new
// import permissions let in (RS+) or keep out (RS-).
func (m *Manager) reannounceLocked(oldPerms, newPerms *permCheck) {
	var buf []byte
	for _, r := range m.mu.remotes {
		for acc, t := range m.mu.interest {
			c := m.connForLocked(r, acc)
			if c == nil {
				continue
			}
			buf = buf[:0]
			pa := c.protoAccount(acc)
			for k, n := range t {
				was, now := oldPerms.canImport(k.subject), newPerms.canImport(k.subject)
				if was != now {
					if !now {
						n = 0
					}
					buf = appendSub(buf, now, pa, k.subject, k.queue, n)
				}
			}
			if len(buf) > 0 {
				c.enqueue(buf)
			}
		}
	}
}

// stillAuthorized checks an accepted route against the new settings
// with what it presented when it joined.
func (m *Manager) stillAuthorized(c *Conn, cfg *Config) bool {
	c.mu.Lock()
	got, user, pass := c.mu.gotConnect, c.mu.user, c.mu.pass
	c.mu.Unlock()
	return !got || authorized(c, cfg, user, pass)
}

// remoteURLIn reports whether the peer with id was dialed through one of
// urls.
func (m *Manager) remoteURLIn(id string, urls []*url.URL) bool {
	r := m.mu.remotes[id]
	return r != nil && r.url != nil && routeIn(r.url, urls)
}

// dropped reports whether a reload removed route u: its dialer gives up.
func (m *Manager) dropped(u *url.URL) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mu.dropped[u.String()]
}

// diffRoutes compares route lists by URL (credentials included: new
// credentials are a new route).
func diffRoutes(old, next []*url.URL) (add, remove []*url.URL) {
	for _, u := range old {
		if !routeIn(u, next) {
			remove = append(remove, u)
		}
	}
	for _, u := range next {
		if !routeIn(u, old) {
			add = append(add, u)
		}
	}
	return add, remove
}

func routeIn(u *url.URL, list []*url.URL) bool {
	if u == nil {
		return false
	}
	for _, x := range list {
		if x.String() == u.String() {
			return true
		}
	}
	return false
}

func redact(u *url.URL) string {
	cp := *u
	cp.User = nil
	return cp.String()
}

// repairFor bounds how long repairPools watches the pools after a reload
// rebuilt them.
const repairFor = 10 * time.Second

// repairPools dials, until deadline, the pool slots and pinned accounts
// still missing to peers this server dials: while every server rebuilds
// its pools at once, a fill that lost a race to a duplicate is not
// tried again by the one-after-the-other filling of registration.
func (m *Manager) repairPools(deadline time.Time) {
	defer m.wg.Done()
	type dial struct {
		u        *url.URL
		explicit bool
		account  string
	}
	for time.Now().Before(deadline) {
		select {
		case <-time.After(m.reconnectDelay):
		case <-m.done:
			return
		}
		cfg := m.conf()
		var todo []dial
		m.mu.Lock()
		for _, r := range m.mu.remotes {
			if r.url == nil {
				continue
			}
			if hasFree(r.conns) {
				todo = append(todo, dial{r.url, r.explicit, ""})
			}
			if r.noPool {
				continue
			}
			for _, a := range cfg.PinnedAccounts {
				if r.pinned[a] == nil {
					todo = append(todo, dial{r.url, r.explicit, a})
				}
			}
		}
		m.mu.Unlock()
		for _, d := range todo {
			m.solicit(d.u, d.explicit, d.account, true)
		}
	}
}
