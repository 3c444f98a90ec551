package server

import (
	"crypto/tls"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/server/auth"
	"github.com/sluicehq/sluice/internal/server/websocket"
	"github.com/sluicehq/sluice/pkg/api"
)

// wsState is the server's side of the WebSocket listener.
type wsState struct {
	mu sync.Mutex
	ln *websocket.Listener
	// authView caches the options WebSocket clients authenticate with,
	// for the options generation it was derived from.
	authView atomic.Pointer[wsAuthView]
}

type wsAuthView struct {
	base, view *Options
}

// wsBroker is what the websocket package sees of the server.
type wsBroker struct{ s *Server }

func (b wsBroker) MaxPayload() int { return int(b.s.getOpts().MaxPayload) }

// AcceptWebsocket runs an upgraded connection as a client, through the
// same read loop and writer as a TCP one.
func (b wsBroker) AcceptWebsocket(wc *websocket.Conn) {
	s := b.s
	if s.isShuttingDown() {
		wc.Close()
		return
	}
	c := s.newClient(wc)
	c.ws = wc
	c.tlsState = wc.TLSState()
	c.run(false)
}

// startWebsocket opens the listener when the websocket {} block has a port.
func (s *Server) startWebsocket() error {
	if !s.getOpts().Websocket.Enabled() {
		return nil
	}
	ln, err := websocket.Listen(func() *websocket.Options { return &s.getOpts().Websocket }, wsBroker{s}, s.log)
	if err != nil {
		return err
	}
	s.ws.mu.Lock()
	s.ws.ln = ln
	s.ws.mu.Unlock()
	return nil
}

// stopWebsocket stops accepting WebSocket clients (shutdown, lame duck).
func (s *Server) stopWebsocket() {
	s.ws.mu.Lock()
	ln := s.ws.ln
	s.ws.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
}

func (s *Server) wsListener() *websocket.Listener {
	s.ws.mu.Lock()
	defer s.ws.mu.Unlock()
	return s.ws.ln
}

// WebsocketAddr is the address the WebSocket listener is bound to, nil
// when off.
func (s *Server) WebsocketAddr() *net.TCPAddr {
	ln := s.wsListener()
	if ln == nil {
		return nil
	}
	return ln.Addr()
}

// WebsocketURL is the ws:// or wss:// URL clients can dial, "" when off.
func (s *Server) WebsocketURL() string {
	ln := s.wsListener()
	if ln == nil {
		return ""
	}
	scheme := "ws://"
	if ln.TLS() {
		scheme = "wss://"
	}
	return scheme + net.JoinHostPort(hostOrLoopback(ln.Host()), itoa(int64(ln.Port())))
}

func hostOrLoopback(h string) string {
	if h == "" || h == "0.0.0.0" || h == "::" {
		return "127.0.0.1"
	}
	return h
}

// connType is the connection type allowed_connection_types names.
func (c *client) connType() string {
	if c.ws != nil {
		return auth.ConnWebsocket
	}
	return auth.ConnStandard
}

// clientType is the type /connz and the $SYS events show.
func (c *client) clientType() string {
	if c.ws != nil {
		return "websocket"
	}
	return "nats"
}

// authOptsFor is the options a connection of connType authenticates
// against. WebSocket clients use the listener's TLS mapping and, when
// its block has an authorization of its own, its user, token and
// no_auth_user in place of the server's (as nats-server does).
func (s *Server) authOptsFor(connType string) *Options {
	o := s.getOpts()
	if connType != auth.ConnWebsocket {
		return o
	}
	if v := s.ws.authView.Load(); v != nil && v.base == o {
		return v.view
	}
	w := &o.Websocket
	view := *o
	view.TLSMap, view.TLSConfig, view.TLSPinnedCerts = w.TLSMap, w.TLSConfig, w.TLSPinnedCerts
	if w.AuthOverride() {
		view.Username, view.Password, view.Authorization, view.NoAuthUser = w.Username, w.Password, w.Token, w.NoAuthUser
	}
	if w.AuthTimeout > 0 {
		view.AuthTimeout = w.AuthTimeout
	}
	view.authIx = view.buildAuthIndex()
	s.ws.authView.Store(&wsAuthView{base: o, view: &view})
	return &view
}

// pingInterval is the server's ping_interval, or the websocket block's
// for a WebSocket client when it sets one.
func (c *client) pingInterval() time.Duration {
	o := c.srv.getOpts()
	if c.ws != nil && o.Websocket.PingInterval > 0 {
		return o.Websocket.PingInterval
	}
	return o.PingInterval
}

// authOpts is authOptsFor this client's type.
func (c *client) authOpts() *Options { return c.srv.authOptsFor(c.connType()) }

// wsFillCookies puts the values of the configured cookies in the CONNECT
// fields the client left empty.
func (c *client) wsFillCookies(ci *api.ConnectInfo) {
	if c.ws == nil {
		return
	}
	ck := c.ws.Cookies()
	if ci.JWT == "" {
		ci.JWT = ck.JWT
	}
	if ci.User == "" {
		ci.User = ck.Username
	}
	if ci.Pass == "" {
		ci.Pass = ck.Password
	}
	if ci.Token == "" {
		ci.Token = ck.Token
	}
}

// wsInfo adjusts a WebSocket client's INFO: the listener's address and
// TLS, and its authorization.
func (s *Server) wsInfo(c *client, info *api.ServerInfo) {
	ln := s.wsListener()
	if ln == nil {
		return
	}
	info.Host, info.Port = ln.Host(), ln.Port()
	info.TLSRequired, info.TLSAvailable = ln.TLS(), ln.TLS()
	info.TLSVerify = false
	if cfg := s.getOpts().Websocket.TLSConfig; cfg != nil {
		info.TLSVerify = cfg.ClientAuth == tls.RequireAndVerifyClientCert
	}
	info.AuthRequired = c.authOpts().authRequired()
}

// websocketVarz is /varz's websocket section.
func (s *Server) websocketVarz(o *Options) api.WebsocketOptsVarz {
	w := &o.Websocket
	v := api.WebsocketOptsVarz{
		Host: w.Host, Port: w.Port, Advertise: w.Advertise, NoAuthUser: w.NoAuthUser,
		JWTCookie: w.JWTCookie, HandshakeTimeout: w.HandshakeTimeout, AuthTimeout: w.AuthTimeout.Seconds(),
		NoTLS: w.NoTLS, TLSMap: w.TLSMap, SameOrigin: w.SameOrigin, Compression: w.Compression,
		AllowedOrigins: append([]string(nil), w.AllowedOrigins...),
	}
	if ln := s.wsListener(); ln != nil {
		v.Port = ln.Port()
	}
	for p := range w.TLSPinnedCerts {
		v.TLSPinnedCerts = append(v.TLSPinnedCerts, p)
	}
	slices.Sort(v.TLSPinnedCerts)
	v.TLSCertNotAfter = (&Options{TLSConfig: w.TLSConfig}).tlsCertNotAfter()
	return v
}

// validateWebsocket checks the websocket {} block against the rest.
func (o *Options) validateWebsocket() error {
	w := &o.Websocket
	hasUser := func(name string) bool {
		for _, u := range o.Users {
			if u.Username == name {
				return true
			}
		}
		for _, u := range o.Nkeys {
			if u.Nkey == name {
				return true
			}
		}
		return false
	}
	return w.Validate(len(o.Users)+len(o.Nkeys) > 0, hasUser, len(o.TrustedOperators)+len(o.TrustedKeys) > 0)
}

// closeWsUnpinned closes the WebSocket clients whose certificate a reload
// took out of the block's pinned_certs.
func (s *Server) closeWsUnpinned(next *Options, clients []*client) {
	pins := next.Websocket.TLSPinnedCerts
	if len(pins) == 0 {
		return
	}
	for _, c := range clients {
		if c.ws == nil || c.tlsState == nil || pins.Allows(c.tlsState.PeerCertificates) {
			continue
		}
		s.log.Noticef("%s - cid:%d - Certificate no longer pinned after reload; closing", c.hostPort(), c.cid)
		c.closeConnection(reasonTLSHandshake)
	}
}
