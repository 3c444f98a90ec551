package route

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Manager runs the cluster side of one server: the route listener, the
// dialers and every route connection.
type Manager struct {
	// cfg and perms are replaced whole by Reload (reload.go).
	cfg   atomic.Pointer[Config]
	b     Broker
	log   Logger
	perms atomic.Pointer[permCheck]
	cids  atomic.Uint64
	wg    sync.WaitGroup
	done  chan struct{}
	cname atomic.Pointer[string] // m.mu.name, read on the publish path

	// Tunables for tests (nats-server's defaults otherwise).
	connectDelay, maxDelay, reconnectDelay time.Duration

	mu struct {
		sync.Mutex
		ln       net.Listener
		port     int
		name     string // cluster name, maybe adopted from a peer
		dynamic  bool
		remotes  map[string]*remote // by server id
		conns    map[*Conn]struct{} // every open connection, registered or not
		interest map[string]map[ikey]int32
		selfURLs map[string]bool // route URLs found to lead back here
		shutdown bool
		ldm      bool
		dialing  map[string]bool // url+account being dialed
		pinned   map[string]bool // accounts with their own connections (pinned.go)
		accAdd   accAddWait
		dropped  map[string]bool // routes a reload removed (reload.go)
	}
}

// remote is one peer server and its connections.
type remote struct {
	id, name string
	info     Info
	conns    []*Conn // pool slots
	pinned   map[string]*Conn
	// peerPinned: accounts the peer gave their own connection; transit:
	// accounts moving there, whose pool interest is ignored.
	peerPinned, transit map[string]bool
	noPool              bool
	url                 *url.URL // to redial, when this server solicited
	explicit            bool
	ip                  string // nats-route:// URL gossiped to others
}

type ikey struct{ subject, queue string }

// New returns a manager for cfg (defaults already applied).
func New(cfg Config, b Broker, log Logger) *Manager {
	m := &Manager{b: b, log: log, done: make(chan struct{}),
		connectDelay: DefaultConnectDelay, maxDelay: DefaultMaxDelay, reconnectDelay: time.Second}
	m.cfg.Store(&cfg)
	m.perms.Store(newPermCheck(&cfg))
	if cfg.ReconnectDelay > 0 {
		m.connectDelay, m.reconnectDelay = cfg.ReconnectDelay, cfg.ReconnectDelay
	}
	m.mu.remotes = map[string]*remote{}
	m.mu.conns = map[*Conn]struct{}{}
	m.mu.interest = map[string]map[ikey]int32{}
	m.mu.selfURLs = map[string]bool{}
	m.mu.dialing = map[string]bool{}
	m.mu.pinned = map[string]bool{}
	for _, a := range cfg.PinnedAccounts {
		m.mu.pinned[a] = true
	}
	m.mu.name = cfg.Name
	if m.mu.name == "" {
		var b [11]byte
		rand.Read(b[:])
		m.mu.dynamic = true
		m.mu.name = hex.EncodeToString(b[:])[:22]
	}
	m.setNameLocked(m.mu.name, m.mu.dynamic)
	return m
}

// SetRetryDelays shortens the dial delays (tests).
func (m *Manager) SetRetryDelays(connect, max, reconnect time.Duration) {
	m.connectDelay, m.maxDelay, m.reconnectDelay = connect, max, reconnect
}

// Config is the configuration in force.
func (m *Manager) Config() Config { return *m.conf() }

func (m *Manager) conf() *Config { return m.cfg.Load() }

// ClusterName is the cluster's name (generated when none is configured).
func (m *Manager) ClusterName() string { return *m.cname.Load() }

// Dynamic reports whether the cluster name was generated.
func (m *Manager) Dynamic() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mu.dynamic
}

func (m *Manager) pingInterval() time.Duration {
	d := m.conf().PingInterval
	if d <= 0 || d > MaxPingInterval {
		d = MaxPingInterval
	}
	return d
}

func (m *Manager) poolSize() int {
	if m.conf().PoolSize < 1 {
		return 1
	}
	return m.conf().PoolSize
}

// Start opens the route listener (when a port is configured) and starts
// dialing the configured routes.
func (m *Manager) Start() error {
	// As nats-server: a bad advertise address stops the start (a reload
	// refuses it in CheckReload, with other words).
	if a := m.conf().Advertise; a != "" {
		if _, _, err := splitAdvertise(a, 0); err != nil {
			return fmt.Errorf("Error setting route INFO with Cluster.Advertise value of %s, err=%v", a, err)
		}
	}
	if m.conf().Port != 0 {
		port := m.conf().Port
		if port == -1 {
			port = 0
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(m.conf().Host, strconv.Itoa(port)))
		if err != nil {
			return fmt.Errorf("listen for routes: %w", err)
		}
		m.mu.Lock()
		m.mu.ln = ln
		m.mu.port = ln.Addr().(*net.TCPAddr).Port
		m.mu.Unlock()
		m.log.Noticef("Cluster name is %s", m.ClusterName())
		if m.Dynamic() {
			m.log.Warnf("Cluster name was dynamically generated, consider setting one")
		}
		m.log.Noticef("Listening for route connections on %s", net.JoinHostPort(m.conf().Host, strconv.Itoa(m.mu.port)))
		m.wg.Add(1)
		go m.acceptLoop(ln)
	}
	for _, u := range m.conf().Routes {
		m.solicit(u, true, "", true)
		for _, a := range m.conf().PinnedAccounts {
			m.solicit(u, true, a, true)
		}
	}
	return nil
}

// Port is the bound route port (0 when not listening).
func (m *Manager) Port() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mu.port
}

// Shutdown closes the listener and every route and waits for them.
func (m *Manager) Shutdown() {
	m.mu.Lock()
	if m.mu.shutdown {
		m.mu.Unlock()
		return
	}
	m.mu.shutdown = true
	ln := m.mu.ln
	conns := make([]*Conn, 0, len(m.mu.conns))
	for c := range m.mu.conns {
		conns = append(conns, c)
	}
	m.mu.Unlock()
	close(m.done)
	if ln != nil {
		ln.Close()
	}
	for _, c := range conns {
		c.close("Server Shutdown", false)
	}
	m.wg.Wait()
}

func (m *Manager) isShutdown() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mu.shutdown
}

func (m *Manager) acceptLoop(ln net.Listener) {
	defer m.wg.Done()
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if m.isShutdown() {
				return
			}
			if delay == 0 {
				delay = 5 * time.Millisecond
			} else if delay < time.Second {
				delay *= 2
			}
			select {
			case <-time.After(delay):
			case <-m.done:
				return
			}
			continue
		}
		delay = 0
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.startConn(newConn(m, nc, false, nil, false, ""))
		}()
	}
}

// solicit dials u until it connects (explicit routes: forever; implicit:
// connect_retries more times), then runs the connection.
func (m *Manager) solicit(u *url.URL, explicit bool, account string, first bool) {
	key := u.User.String() + "@" + u.Host + "|" + account // new credentials: a new dialer
	m.mu.Lock()
	if m.mu.shutdown || m.mu.dialing[key] || m.mu.selfURLs[u.Host] {
		m.mu.Unlock()
		return
	}
	m.mu.dialing[key] = true
	m.mu.Unlock()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		nc := m.dial(u, explicit, first)
		m.mu.Lock()
		delete(m.mu.dialing, key)
		m.mu.Unlock()
		if nc != nil {
			m.startConn(newConn(m, nc, true, u, explicit, account))
		}
	}()
}

func (m *Manager) dial(u *url.URL, explicit, first bool) net.Conn {
	delay := m.connectDelay
	for attempts := 0; ; {
		if !first {
			// Both sides may dial at once and each drop the other's
			// connection as a duplicate: a random pause breaks the tie.
			d := time.Duration(mrand.IntN(100)) * time.Millisecond
			if explicit {
				d += m.reconnectDelay
			}
			first = true
			select {
			case <-time.After(d):
			case <-m.done:
				return nil
			}
		}
		if m.isShutdown() || (explicit && m.dropped(u)) {
			return nil
		}
		nc, err := net.DialTimeout("tcp", u.Host, DefaultDialTimeout)
		if err == nil {
			return nc
		}
		attempts++
		if attempts == 1 || attempts%30 == 0 {
			m.log.Errorf("Error trying to connect to route (attempt %d): %v", attempts, err)
		} else {
			m.log.Debugf("Error trying to connect to route (attempt %d): %v", attempts, err)
		}
		if !explicit && (m.conf().ConnectRetries <= 0 || attempts > m.conf().ConnectRetries) {
			return nil
		}
		select {
		case <-time.After(delay):
		case <-m.done:
			return nil
		}
		if m.conf().ConnectBackoff {
			delay = min(delay*2, m.maxDelay)
		}
	}
}

// startConn runs a new connection: TLS, the first protocol, the loops.
func (m *Manager) startConn(c *Conn) {
	// Timers are set before the connection is known to the manager, whose
	// Shutdown closes it (stopping them), and before the loops, which read
	// them.
	c.pingT = time.AfterFunc(m.pingInterval(), c.pingTick)
	// A connection that has not finished its handshake in time is cut (a
	// half-open path could otherwise keep it alive on PING/PONG alone).
	c.authT = time.AfterFunc(m.conf().AuthTimeout, func() {
		m.mu.Lock()
		reg := c.reg
		m.mu.Unlock()
		if reg {
			return
		}
		c.mu.Lock()
		got := c.mu.gotConnect
		c.mu.Unlock()
		if !c.solicited && !got && m.conf().Username != "" {
			c.sendErrAndClose("Authentication Timeout", "Authentication Timeout")
			return
		}
		c.close("Handshake Timeout", false)
	})
	m.mu.Lock()
	if m.mu.shutdown {
		m.mu.Unlock()
		c.pingT.Stop()
		c.authT.Stop()
		c.nc.Close()
		return
	}
	m.mu.conns[c] = struct{}{}
	m.mu.Unlock()
	if cfg := m.conf(); cfg.TLSConfig != nil {
		if err := m.secure(c, cfg); err != nil {
			m.log.Errorf("%s - TLS route handshake error: %v", c, err)
			c.close("TLS Handshake Failure", false)
			// The auth timer may have closed it first, leaving its -ERR
			// to a writer that never starts (nothing goes out before TLS).
			c.raw.Close()
			return
		}
	}
	c.lastActivity.Store(time.Now().UnixNano())
	// The first protocol is sent before the loops start.
	if c.solicited {
		m.sendConnect(c)
		// INFO waits for the peer's: it carries our pool slot.
	} else {
		c.sendJSON("INFO", m.infoFor(c.account, -1))
	}
	m.wg.Add(2)
	go c.writeLoop()
	go c.readLoop()
	m.log.Noticef("%s - Route connection created", c)
}

func (m *Manager) sendConnect(c *Conn) {
	var user, pass string
	if c.url != nil && c.url.User != nil {
		user = c.url.User.Username()
		pass, _ = c.url.User.Password()
	}
	if user == "" && m.conf().Username != "" && !c.explicit {
		user, pass = m.conf().Username, m.conf().Password
	}
	l := m.b.Local()
	m.mu.Lock()
	name, dyn := m.mu.name, m.mu.dynamic
	m.mu.Unlock()
	c.sendJSON("CONNECT", connectInfo{Echo: true, User: user, Pass: pass, TLS: m.conf().TLSConfig != nil,
		Headers: l.Headers, Name: l.ID, Cluster: name, Dynamic: dyn, LNOC: true, LN: true})
}

// infoFor builds this server's route INFO; idx < 0 leaves the pool index
// out (the accepting side's first INFO).
func (m *Manager) infoFor(account string, idx int) Info {
	l := m.b.Local()
	m.mu.Lock()
	name, dyn, port := m.mu.name, m.mu.dynamic, m.mu.port
	m.mu.Unlock()
	tlsReq := m.conf().TLSConfig != nil
	info := Info{
		ID: l.ID, Name: l.Name, Version: l.Version, Proto: l.Proto, GitCommit: l.GitCommit, GoVersion: l.GoVersion,
		Host: m.conf().Host, Port: port, Headers: l.Headers, AuthRequired: m.conf().Username != "",
		TLSRequired: tlsReq, TLSVerify: tlsReq, MaxPayload: l.MaxPayload, JetStream: l.JetStream,
		Cluster: name, Dynamic: dyn, Domain: l.Domain, LNOC: true, LNOCU: true, LN: true,
		Compression: m.advertisedCompression(), RouteAccount: account,
	}
	if m.conf().PoolSize > 0 {
		info.RoutePoolSize = m.conf().PoolSize
	}
	if idx > 0 {
		info.RoutePoolIdx = idx
	}
	if !m.conf().NoAdvertise {
		info.ConnectURLs = l.ClientURLs
		info.WSConnectURL = l.WSConnectURLs
	}
	if m.conf().Import != nil || m.conf().Export != nil {
		info.Import, info.Export = m.conf().Import, m.conf().Export
	}
	if a := m.conf().Advertise; a != "" {
		host, p, err := net.SplitHostPort(a)
		if err != nil {
			host, p = a, strconv.Itoa(port)
		}
		info.Host, info.Port = host, atoiOr(p, port)
		info.IP = "nats-route://" + net.JoinHostPort(host, strconv.Itoa(info.Port)) + "/"
	}
	m.mu.Lock()
	info.LameDuckMode = m.mu.ldm
	m.mu.Unlock()
	var nonce [11]byte
	rand.Read(nonce[:])
	info.Nonce = hex.EncodeToString(nonce[:])
	return info
}

func atoiOr(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return def
}

// advertisedCompression is the mode our first INFO names.
func (m *Manager) advertisedCompression() string { return m.conf().Compression }

// processConnect handles a soliciting peer's CONNECT.
func (m *Manager) processConnect(c *Conn, arg []byte) error {
	if c.solicited {
		return nil // only the accepting side expects CONNECT
	}
	var ci connectInfo
	if err := jsonUnmarshal(arg, &ci); err != nil {
		c.sendErrAndClose("Invalid CONNECT", "Protocol Violation")
		return err
	}
	if ci.Lang != "" {
		c.sendErrAndClose("Attempted To Connect To Route Port", "Incorrect Port")
		return errors.New("client on route port")
	}
	if ci.Gateway != "" {
		c.sendErrAndClose(fmt.Sprintf("Rejecting connection from gateway %q on the Route port", ci.Gateway), "Wrong Gateway")
		return errors.New("gateway on route port")
	}
	if !authorized(c, m.conf(), ci.User, ci.Pass) {
		m.log.Errorf("%s - Route authorization failed", c)
		c.sendErrAndClose("Authorization Violation", "Authentication Failure")
		return errors.New("auth")
	}
	if err := m.checkClusterName(ci.Cluster, ci.Dynamic, ci.Name); err != nil {
		m.log.Errorf("%s - %v", c, err)
		c.sendErrAndClose(err.Error(), "Cluster Name Conflict")
		return err
	}
	c.mu.Lock()
	c.mu.gotConnect = true
	c.mu.user, c.mu.pass = ci.User, ci.Pass
	c.mu.Unlock()
	if c.authT != nil {
		c.authT.Stop()
	}
	// the peer is known by its INFO, which follows
	c.headers = ci.Headers && m.b.Local().Headers
	return nil
}

// Remotes lists the connected peers' IDs, sorted.
func (m *Manager) Remotes() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.mu.remotes))
	for id := range m.mu.remotes {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// ClientURLs are the client URLs the peers advertised (empty with
// no_advertise), for the connect_urls pushed to clients.
func (m *Manager) ClientURLs() []string {
	if m.conf().NoAdvertise {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, r := range m.mu.remotes {
		if r.info.LameDuckMode {
			continue
		}
		out = append(out, r.info.ConnectURLs...)
	}
	sort.Strings(out)
	return out
}

// WSConnectURLs are the WebSocket URLs the peers advertised (empty with
// no_advertise), for the connect_urls pushed to WebSocket clients.
func (m *Manager) WSConnectURLs() []string {
	if m.conf().NoAdvertise {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, r := range m.mu.remotes {
		if !r.info.LameDuckMode {
			out = append(out, r.info.WSConnectURL...)
		}
	}
	sort.Strings(out)
	return out
}

// EnterLameDuck tells every peer that this server is going away, so they
// stop advertising its client URLs.
func (m *Manager) EnterLameDuck() {
	m.mu.Lock()
	m.mu.ldm = true
	conns := m.registeredLocked()
	m.mu.Unlock()
	for _, c := range conns {
		info := m.infoFor(c.account, -1)
		info.Nonce = ""
		c.sendJSON("INFO", info)
	}
}

func (m *Manager) registeredLocked() []*Conn {
	var out []*Conn
	for _, r := range m.mu.remotes {
		for _, c := range r.conns {
			if c != nil {
				out = append(out, c)
			}
		}
		for _, c := range r.pinned {
			out = append(out, c)
		}
	}
	return out
}

// PoolsFull reports whether every peer has all its pool and pinned
// connections (tests and health).
func (m *Manager) PoolsFull() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.mu.remotes {
		if hasFree(r.conns) {
			return false
		}
		if !r.noPool {
			for a := range m.mu.pinned {
				if r.pinned[a] == nil {
					return false
				}
			}
		}
	}
	return true
}

// ConnStats describes one registered route connection (for /routez).
type ConnStats struct {
	CID                                uint64
	RemoteID, RemoteName, Account, IP  string
	Port, PoolIdx                      int
	Solicited, Explicit                bool
	Start, LastActivity                time.Time
	RTT                                time.Duration
	InMsgs, OutMsgs, InBytes, OutBytes int64
	Pending                            int
	Compression                        string
	WireOut                            int64 // bytes written to the socket (compressed when on)
}

// Conns describes every registered route connection, by CID.
func (m *Manager) Conns() []ConnStats {
	m.mu.Lock()
	conns := m.registeredLocked()
	m.mu.Unlock()
	out := make([]ConnStats, 0, len(conns))
	for _, c := range conns {
		cs := ConnStats{CID: c.cid, RemoteID: c.remoteID, RemoteName: c.remoteName, Account: c.account,
			PoolIdx: c.poolIdx, Solicited: c.solicited, Explicit: c.explicit, Start: c.start,
			LastActivity: time.Unix(0, c.lastActivity.Load()), RTT: time.Duration(c.rtt.Load()),
			InMsgs: c.inMsgs.Load(), OutMsgs: c.outMsgs.Load(), InBytes: c.inBytes.Load(), OutBytes: c.outBytes.Load(),
			WireOut: c.wireOut.Load()}
		if ta, ok := c.raw.RemoteAddr().(*net.TCPAddr); ok {
			cs.IP, cs.Port = ta.IP.String(), ta.Port
		}
		c.mu.Lock()
		cs.Pending = c.mu.out.size
		cs.Compression = c.compression // a reload may change it (recompress)
		c.mu.Unlock()
		out = append(out, cs)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CID < out[j].CID })
	return out
}

// OutMsgsTo sums the messages sent to the peer with this server ID.
func (m *Manager) OutMsgsTo(id string) int64 {
	var n int64
	for _, c := range m.Conns() {
		if c.RemoteID == id {
			n += c.OutMsgs
		}
	}
	return n
}
