package websocket

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/server/sockio"
)

// Broker is what the listener needs from the server.
type Broker interface {
	// AcceptWebsocket takes over an upgraded connection for good.
	AcceptWebsocket(c *Conn)
	// MaxPayload is max_payload in force: the most one message inflates to.
	MaxPayload() int
}

// Logger is the server's logger.
type Logger interface {
	Noticef(format string, v ...any)
	Warnf(format string, v ...any)
	Errorf(format string, v ...any)
	Debugf(format string, v ...any)
}

// DefaultHandshakeTimeout bounds TLS and the upgrade request when the
// block sets no handshake_timeout.
const DefaultHandshakeTimeout = 5 * time.Second

// maxCompressedMultiple: a compressed message may gather this many times
// max_payload before inflating, capped at maxCompressedLimit.
const (
	maxCompressedMultiple = 8
	maxCompressedLimit    = 64 * 1024 * 1024
)

// Listener accepts WebSocket clients and upgrades them.
type Listener struct {
	ln      net.Listener
	opts    func() *Options // the block in force; its TLS may change on reload
	broker  Broker
	log     Logger
	tls     bool
	origins *originRules
	headers string
	port    int
	host    string
	adv     string

	mu struct {
		sync.Mutex
		closed  bool
		pending map[net.Conn]struct{} // connections still in their handshake
	}
	wg sync.WaitGroup
}

// Listen opens the listener for the block opts() returns and starts
// accepting. The block must have passed Validate.
func Listen(opts func() *Options, b Broker, log Logger) (*Listener, error) {
	o := opts()
	port := o.Port
	if port == -1 {
		port = 0
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(o.Host, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("unable to listen for websocket connections: %w", err)
	}
	l := &Listener{
		ln: ln, opts: opts, broker: b, log: log, tls: o.TLSConfig != nil,
		origins: newOriginRules(o), headers: rawHeaders(o.Headers),
		port: ln.Addr().(*net.TCPAddr).Port, host: o.Host, adv: o.Advertise,
	}
	l.mu.pending = make(map[net.Conn]struct{})
	scheme := "ws"
	if l.tls {
		scheme = "wss"
	}
	log.Noticef("Listening for websocket clients on %s://%s", scheme, net.JoinHostPort(o.Host, strconv.Itoa(l.port)))
	if !l.tls {
		log.Warnf("Websocket not configured with TLS. DO NOT USE IN PRODUCTION!")
	}
	l.wg.Add(1)
	go l.acceptLoop()
	return l, nil
}

// Addr is the address listened on.
func (l *Listener) Addr() *net.TCPAddr { return l.ln.Addr().(*net.TCPAddr) }

// Port is the port listened on (the one picked, for a random port).
func (l *Listener) Port() int { return l.port }

// Host is the configured host.
func (l *Listener) Host() string { return l.host }

// TLS reports whether clients must use wss://.
func (l *Listener) TLS() bool { return l.tls }

// ConnectURLs are the host:port clients are told to use: the advertise
// address when set, else the listener's.
func (l *Listener) ConnectURLs() []string {
	if l.adv != "" {
		return []string{l.adv}
	}
	return []string{net.JoinHostPort(l.host, strconv.Itoa(l.port))}
}

// Close stops accepting, abandons handshakes in progress and waits for
// the listener's goroutines. Upgraded connections belong to the broker.
func (l *Listener) Close() {
	l.mu.Lock()
	if l.mu.closed {
		l.mu.Unlock()
		l.wg.Wait()
		return
	}
	l.mu.closed = true
	for c := range l.mu.pending {
		c.Close()
	}
	l.mu.Unlock()
	l.ln.Close()
	l.wg.Wait()
}

func (l *Listener) acceptLoop() {
	defer l.wg.Done()
	var delay time.Duration
	for {
		conn, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			delay = min(max(delay*2, 5*time.Millisecond), time.Second)
			l.log.Errorf("Temporary websocket accept error: %v, sleeping %v", err, delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		if !l.track(conn) {
			conn.Close()
			return
		}
		l.wg.Add(1)
		go l.handshake(conn)
	}
}

func (l *Listener) track(c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.closed {
		return false
	}
	l.mu.pending[c] = struct{}{}
	return true
}

func (l *Listener) untrack(c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.mu.pending, c)
	return !l.mu.closed
}

// handshake runs TLS (wss) and the HTTP upgrade within the handshake
// timeout, then hands the connection to the broker.
func (l *Listener) handshake(sock net.Conn) {
	defer l.wg.Done()
	o := l.opts()
	timeout := o.HandshakeTimeout
	if timeout <= 0 {
		timeout = DefaultHandshakeTimeout
	}
	sock.SetDeadline(time.Now().Add(timeout))
	wc, raw, err := l.upgrade(sock, o)
	if err != nil {
		var he *handshakeError
		switch {
		case errors.As(err, &he):
			raw.Write(errorResponse(he.status))
			l.log.Errorf("%s - %v", sock.RemoteAddr(), err)
		case errors.Is(err, errSilentClose):
			l.log.Errorf("%s - Not configured to accept leaf node connections", sock.RemoteAddr())
		default:
			l.log.Debugf("%s - websocket handshake failed: %v", sock.RemoteAddr(), err)
		}
		l.untrack(sock)
		sock.Close()
		return
	}
	sock.SetDeadline(time.Time{})
	if !l.untrack(sock) {
		sock.Close()
		return
	}
	l.log.Debugf("%s - websocket connection upgraded (compression: %v)", sock.RemoteAddr(), wc.compress)
	l.broker.AcceptWebsocket(wc)
}

var errSilentClose = errors.New("leafnode websocket connection refused")

// upgrade returns the upgraded connection, or the error and the stream
// (TLS or not) to answer it on.
func (l *Listener) upgrade(sock net.Conn, o *Options) (*Conn, net.Conn, error) {
	raw := sock
	var state *tls.ConnectionState
	if l.tls {
		cfg := o.TLSConfig.Clone()
		// Certificates are re-read on reload: each handshake takes the
		// configuration in force.
		cfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) { return l.opts().TLSConfig, nil }
		tc := tls.Server(sock, cfg)
		if err := tc.Handshake(); err != nil {
			return nil, sock, fmt.Errorf("TLS handshake: %w", err)
		}
		st := tc.ConnectionState()
		if pins := l.opts().TLSPinnedCerts; !pins.Allows(st.PeerCertificates) {
			return nil, sock, errors.New("TLS handshake: certificate not pinned")
		}
		state, raw = &st, tc
	}
	req, err := readRequest(bufio.NewReaderSize(raw, 1024))
	if err != nil {
		var he *handshakeError
		if errors.As(err, &he) {
			return nil, raw, err
		}
		return nil, raw, refuse(http.StatusBadRequest, "%v", err)
	}
	path := req.URL.EscapedPath()
	if strings.HasSuffix(path, "/mqtt") {
		return nil, raw, refuse(http.StatusNotFound, "mqtt websocket endpoint not enabled")
	}
	u, err := checkRequest(req, o, l.origins, l.tls)
	if err != nil {
		return nil, raw, err
	}
	if _, err := raw.Write(u.response(l.headers)); err != nil {
		return nil, raw, err
	}
	if strings.HasSuffix(path, "/leafnode") {
		// Upgraded, then closed: leaf nodes are not built yet (nats-server
		// does the same when it has no leafnodes {} block).
		return nil, raw, errSilentClose
	}
	maxPay := l.broker.MaxPayload()
	c := &Conn{
		raw: raw, sock: sock, tls: state, cookies: u.cookies,
		compress: u.compress, browser: u.browser, noFrag: u.noFrag,
		masked: !u.noMasking, maxMsg: maxPay, remote: sock.RemoteAddr(),
	}
	c.rd.cbufSize = min(maxPay*maxCompressedMultiple, maxCompressedLimit)
	if raw == sock {
		c.srd, c.swr = sockio.NewReader(sock), sockio.NewWriter(sock)
	}
	if u.clientIP != "" {
		if ta, ok := sock.RemoteAddr().(*net.TCPAddr); ok {
			c.remote = &net.TCPAddr{IP: net.ParseIP(u.clientIP), Port: ta.Port}
		}
	}
	return c, raw, nil
}

// rawHeaders renders the configured extra response headers.
func rawHeaders(h map[string]string) string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	for _, k := range keys {
		sb.WriteString(k + ": " + h[k] + "\r\n")
	}
	return sb.String()
}
