package websocket

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// The GUID of RFC 6455 section 1.3, hashed with the client's key.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + acceptGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// handshakeError is a refused upgrade: the HTTP status sent and why.
type handshakeError struct {
	status int
	reason string
}

func (e *handshakeError) Error() string { return "websocket handshake error: " + e.reason }

func refuse(status int, format string, a ...any) *handshakeError {
	return &handshakeError{status: status, reason: fmt.Sprintf(format, a...)}
}

// upgrade is what a valid upgrade request asked for.
type upgrade struct {
	key       string
	compress  bool
	noMasking bool
	browser   bool
	noFrag    bool
	clientIP  string
	cookies   Cookies
}

// checkRequest applies RFC 6455 section 4.2.1 and the listener's rules
// to an upgrade request, in nats-server's order and with its statuses.
func checkRequest(req *http.Request, o *Options, origins *originRules, isTLS bool) (*upgrade, error) {
	if req.Method != http.MethodGet {
		return nil, refuse(http.StatusMethodNotAllowed, "request method must be GET")
	}
	if req.Host == "" {
		return nil, refuse(http.StatusBadRequest, "'Host' missing in request")
	}
	if !headerHas(req.Header, "Upgrade", "websocket") {
		return nil, refuse(http.StatusBadRequest, "invalid value for header 'Upgrade'")
	}
	if !headerHas(req.Header, "Connection", "Upgrade") {
		return nil, refuse(http.StatusBadRequest, "invalid value for header 'Connection'")
	}
	key := req.Header.Get("Sec-Websocket-Key")
	if key == "" {
		return nil, refuse(http.StatusBadRequest, "key missing")
	}
	if k, err := base64.StdEncoding.DecodeString(key); err != nil || len(k) != 16 {
		return nil, refuse(http.StatusBadRequest, "invalid websocket key")
	}
	if !headerHas(req.Header, "Sec-Websocket-Version", "13") {
		return nil, refuse(http.StatusBadRequest, "invalid version")
	}
	if err := origins.check(req, isTLS); err != nil {
		return nil, refuse(http.StatusForbidden, "origin not allowed: %v", err)
	}
	u := &upgrade{key: key}
	u.compress = o.Compression && offersDeflate(req.Header)
	u.noMasking = req.Header.Get("Nats-No-Masking") == "true"
	if ips := req.Header["X-Forwarded-For"]; len(ips) > 0 && net.ParseIP(ips[0]) != nil {
		u.clientIP = ips[0]
	}
	if ua := req.Header.Get("User-Agent"); strings.HasPrefix(ua, "Mozilla/") {
		u.browser = true
		// Safari does not take fragmented compressed messages; Chrome on
		// macOS says "Safari/" too, but only Safari says "Version/".
		u.noFrag = u.compress && strings.Contains(ua, "Version/") && strings.Contains(ua, "Safari/")
	}
	for _, ck := range req.Cookies() {
		switch ck.Name {
		case "":
		case o.JWTCookie:
			u.cookies.JWT = ck.Value
		case o.UsernameCookie:
			u.cookies.Username = ck.Value
		case o.PasswordCookie:
			u.cookies.Password = ck.Value
		case o.TokenCookie:
			u.cookies.Token = ck.Value
		}
	}
	return u, nil
}

// response is the 101 answer to an accepted upgrade.
func (u *upgrade) response(extra string) []byte {
	b := make([]byte, 0, 256+len(extra))
	b = append(b, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	b = append(b, acceptKey(u.key)...)
	b = append(b, "\r\n"...)
	if u.compress {
		b = append(b, "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n"...)
	}
	if u.noMasking {
		b = append(b, "Nats-No-Masking: true\r\n"...)
	}
	b = append(b, extra...)
	return append(b, "\r\n"...)
}

// errorResponse is the plain-text HTTP answer to a refused upgrade.
func errorResponse(status int) []byte {
	body := http.StatusText(status) + "\n"
	return fmt.Appendf(nil, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nSec-Websocket-Version: 13\r\n"+
		"X-Content-Type-Options: nosniff\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s",
		status, http.StatusText(status), len(body), body)
}

// readRequest reads the upgrade request; a client that sends frames
// before the 101 is refused, as in nats-server.
func readRequest(br *bufio.Reader) (*http.Request, error) {
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, err
	}
	if br.Buffered() > 0 {
		return nil, refuse(http.StatusBadRequest, "client sent data before handshake is complete")
	}
	return req, nil
}

// headerHas reports whether a comma-separated header has token, in any case.
func headerHas(h http.Header, name, token string) bool {
	for _, v := range h[http.CanonicalHeaderKey(name)] {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// offersDeflate reports whether the client offers permessage-deflate.
// The server always answers with both no_context_takeover parameters.
func offersDeflate(h http.Header) bool {
	for _, v := range h["Sec-Websocket-Extensions"] {
		for _, ext := range strings.Split(v, ",") {
			for _, p := range strings.Split(ext, ";") {
				if strings.EqualFold(strings.TrimSpace(p), "permessage-deflate") {
					return true
				}
			}
		}
	}
	return false
}

// originRules are allowed_origins (by host: scheme and port) and
// same_origin, compiled once per options.
type originRules struct {
	same    bool
	allowed map[string][]schemePort
}

type schemePort struct{ scheme, port string }

func newOriginRules(o *Options) *originRules {
	r := &originRules{same: o.SameOrigin}
	for _, ao := range o.AllowedOrigins {
		u, err := url.ParseRequestURI(ao)
		if err != nil {
			continue // Validate refused it already
		}
		h, p, _ := hostAndPort(u.Scheme == "https", u.Host)
		if r.allowed == nil {
			r.allowed = make(map[string][]schemePort)
		}
		r.allowed[h] = append(r.allowed[h], schemePort{u.Scheme, p})
	}
	return r
}

// check accepts a request without an Origin header: only browsers send
// one, and other clients could send anything.
func (r *originRules) check(req *http.Request, isTLS bool) error {
	if !r.same && len(r.allowed) == 0 {
		return nil
	}
	origin := req.Header.Get("Origin")
	if origin == "" {
		origin = req.Header.Get("Sec-Websocket-Origin")
	}
	if origin == "" {
		return nil
	}
	u, err := url.ParseRequestURI(origin)
	if err != nil {
		return err
	}
	oh, op, err := hostAndPort(u.Scheme == "https", u.Host)
	if err != nil {
		return err
	}
	if r.same {
		rh, rp, err := hostAndPort(isTLS, req.Host)
		if err != nil {
			return err
		}
		scheme := "http"
		if isTLS {
			scheme = "https"
		}
		if oh != rh || op != rp || !strings.EqualFold(u.Scheme, scheme) {
			return errors.New("not same origin")
		}
	}
	if len(r.allowed) > 0 {
		for _, sp := range r.allowed[oh] {
			if u.Scheme == sp.scheme && op == sp.port {
				return nil
			}
		}
		return errors.New("not in the allowed list")
	}
	return nil
}

// hostAndPort splits host:port, defaulting the port by scheme.
func hostAndPort(tls bool, hostport string) (string, string, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) && strings.Contains(ae.Err, "missing port") {
			host, port, err = hostport, "80", nil
			if tls {
				port = "443"
			}
		}
	}
	return strings.ToLower(host), port, err
}
