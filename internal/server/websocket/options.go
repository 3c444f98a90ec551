package websocket

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/server/tlsconf"
	"github.com/sluicehq/sluice/pkg/conf"
)

// Options is the websocket {} block. A Port of 0 leaves the listener off;
// -1 picks a free port.
type Options struct {
	Host      string
	Port      int
	Advertise string
	// NoTLS allows a listener without TLS; without it a tls {} block is
	// required, as in nats-server.
	NoTLS          bool
	TLSConfig      *tls.Config
	TLSMap         bool
	TLSPinnedCerts tlsconf.PinnedCerts
	SameOrigin     bool
	AllowedOrigins []string
	// HandshakeTimeout bounds the TLS handshake and the HTTP upgrade
	// request together; 0 means the server's TLS timeout (or 2s).
	HandshakeTimeout time.Duration
	Compression      bool
	// The listener's own authorization {} block: when any of Username,
	// Token or NoAuthUser is set it replaces the server's single user,
	// token and no_auth_user for WebSocket clients.
	Username, Password, Token string
	AuthTimeout               time.Duration
	NoAuthUser                string
	// Cookies whose values stand in for CONNECT fields the client left out.
	JWTCookie, UsernameCookie, PasswordCookie, TokenCookie string
	// Headers are added to every 101 response.
	Headers map[string]string
	// PingInterval overrides the server's for WebSocket clients.
	PingInterval time.Duration
}

// Enabled reports whether the listener is to be started.
func (o *Options) Enabled() bool { return o.Port != 0 }

// AuthOverride reports whether the block's authorization replaces the
// server's for WebSocket clients.
func (o *Options) AuthOverride() bool {
	return o.Username != "" || o.Token != "" || o.NoAuthUser != ""
}

// Issue is a problem found in the block, at a position of the file.
type Issue struct {
	Pos     conf.Pos
	Msg     string
	Warning bool
}

// TLSReader reads a tls {} block the way the server reads its own, so
// that both accept the same keys; the server supplies it.
type TLSReader func(it *conf.Item) (cfg *tls.Config, mapUsers bool, pins tlsconf.PinnedCerts, ok bool)

// Parse reads a websocket {} block into o. Problems are returned with
// their position; a value of the wrong type is an error naming the key.
// Unknown keys are warnings, or errors when strict.
func Parse(it *conf.Item, o *Options, readTLS TLSReader, strict bool) []Issue {
	p := &parser{strict: strict}
	m, ok := it.Value.(map[string]any)
	if !ok {
		p.errorf(it.Pos, "'websocket' must be a block {...}, not %s", typeName(it.Value))
		return p.issues
	}
	for _, e := range entries(m) {
		k, v := strings.ToLower(e.key), e.item
		switch k {
		case "listen":
			p.listen(e.key, v, o)
		case "port":
			if n, ok := p.integer(e.key, v); ok {
				if n < -1 || n > 65535 {
					p.errorf(v.Pos, "'websocket.port' must be between -1 and 65535, got %d", n)
					continue
				}
				o.Port = int(n)
			}
		case "host", "net":
			p.str(e.key, v, &o.Host)
		case "advertise":
			p.str(e.key, v, &o.Advertise)
		case "no_tls":
			p.boolean(e.key, v, &o.NoTLS)
		case "tls":
			if _, ok := v.Value.(map[string]any); !ok {
				p.errorf(v.Pos, "'websocket.tls' must be a block {...}, not %s", typeName(v.Value))
				continue
			}
			if cfg, mapUsers, pins, ok := readTLS(v); ok {
				o.TLSConfig, o.TLSMap, o.TLSPinnedCerts = cfg, mapUsers, pins
			}
		case "same_origin":
			p.boolean(e.key, v, &o.SameOrigin)
		case "allowed_origins", "allowed_origin", "allow_origins", "allow_origin", "origins", "origin":
			o.AllowedOrigins = p.strings(e.key, v)
		case "handshake_timeout":
			if d, ok := p.duration(e.key, v); ok {
				o.HandshakeTimeout = d
			}
		case "compress", "compression":
			p.boolean(e.key, v, &o.Compression)
		case "authorization", "authentication":
			p.authorization(e.key, v, o)
		case "jwt_cookie":
			p.str(e.key, v, &o.JWTCookie)
		case "user_cookie":
			p.str(e.key, v, &o.UsernameCookie)
		case "pass_cookie":
			p.str(e.key, v, &o.PasswordCookie)
		case "token_cookie":
			p.str(e.key, v, &o.TokenCookie)
		case "no_auth_user":
			p.str(e.key, v, &o.NoAuthUser)
		case "headers":
			p.headers(e.key, v, o)
		case "ping_interval":
			if d, ok := p.duration(e.key, v); ok {
				o.PingInterval = d
			}
		default:
			if v.Referenced {
				continue
			}
			p.unknown(v.KeyPos, "unknown field %q in websocket {}", e.key)
		}
	}
	return p.issues
}

// Validate checks what cannot be checked key by key; users says whether
// the server has a users or nkeys list, hasUser whether a user of that
// name exists (for no_auth_user), trusted whether operator mode is on.
func (o *Options) Validate(users bool, hasUser func(string) bool, trusted bool) error {
	if o.Port == 0 {
		return nil
	}
	if o.TLSConfig == nil && !o.NoTLS {
		return errors.New("websocket requires TLS configuration")
	}
	for _, ao := range o.AllowedOrigins {
		u, err := url.ParseRequestURI(ao)
		if err != nil {
			return fmt.Errorf("unable to parse allowed origin: %v", err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return fmt.Errorf("unable to parse allowed origin %q: allowed origins must be absolute URLs with http or https scheme", ao)
		}
		if u.Host == "" {
			return fmt.Errorf("unable to parse allowed origin %q: host is required", ao)
		}
		if _, _, err := hostAndPort(u.Scheme == "https", u.Host); err != nil {
			return fmt.Errorf("unable to parse allowed origin: %v", err)
		}
	}
	if o.NoAuthUser != "" {
		if !users {
			return fmt.Errorf("no_auth_user %q present, but users/nkeys are not defined", o.NoAuthUser)
		}
		if !hasUser(o.NoAuthUser) {
			return fmt.Errorf("no_auth_user: %q not present as user or nkey in authorization block or account configuration", o.NoAuthUser)
		}
	}
	if users {
		if o.Username != "" {
			return errors.New("websocket authentication username not compatible with presence of users/nkeys")
		}
		if o.Token != "" {
			return errors.New("websocket authentication token not compatible with presence of users/nkeys")
		}
	}
	if o.JWTCookie != "" && !trusted {
		return fmt.Errorf("trusted operators or trusted keys configuration is required for JWT authentication via cookie %q", o.JWTCookie)
	}
	for k := range o.Headers {
		lk := strings.ToLower(k)
		switch lk {
		case "host", "content-length", "connection", "upgrade", "nats-no-masking":
			return fmt.Errorf("websocket: invalid header %q not allowed", k)
		}
		if strings.HasPrefix(lk, "sec-websocket-") {
			return fmt.Errorf("websocket: invalid header %q, \"Sec-WebSocket-\" prefix not allowed", k)
		}
	}
	return nil
}

// ReloadCheck says whether a reload may go from old to next: as in
// nats-server, only the TLS settings (certificates, pinned certs) may
// change while running; any other change to the block refuses the
// reload. A listener on a random port keeps the port it got.
func ReloadCheck(old, next *Options) error {
	a, b := *old, *next
	a.TLSConfig, b.TLSConfig = nil, nil
	a.TLSPinnedCerts, b.TLSPinnedCerts = nil, nil
	a.AllowedOrigins = slices.Clone(a.AllowedOrigins)
	b.AllowedOrigins = slices.Clone(b.AllowedOrigins)
	slices.Sort(a.AllowedOrigins)
	slices.Sort(b.AllowedOrigins)
	if (old.TLSConfig == nil) != (next.TLSConfig == nil) || !reflect.DeepEqual(a, b) {
		return errors.New("config reload not supported for websocket: only its TLS settings may change")
	}
	return nil
}

type parser struct {
	issues []Issue
	strict bool
}

func (p *parser) unknown(pos conf.Pos, format string, a ...any) {
	if p.strict {
		p.errorf(pos, format, a...)
		return
	}
	p.issues = append(p.issues, Issue{Pos: pos, Msg: fmt.Sprintf(format+"; ignored", a...), Warning: true})
}

func (p *parser) errorf(pos conf.Pos, format string, a ...any) {
	p.issues = append(p.issues, Issue{Pos: pos, Msg: fmt.Sprintf(format, a...)})
}

func (p *parser) str(key string, it *conf.Item, dst *string) {
	s, ok := it.Value.(string)
	if !ok {
		p.errorf(it.Pos, "'websocket.%s' must be a string, not %s", key, typeName(it.Value))
		return
	}
	*dst = s
}

func (p *parser) boolean(key string, it *conf.Item, dst *bool) {
	b, ok := it.Value.(bool)
	if !ok {
		p.errorf(it.Pos, "'websocket.%s' must be true or false, not %s", key, typeName(it.Value))
		return
	}
	*dst = b
}

func (p *parser) integer(key string, it *conf.Item) (int64, bool) {
	n, ok := it.Value.(int64)
	if !ok {
		p.errorf(it.Pos, "'websocket.%s' must be a whole number, not %s", key, typeName(it.Value))
	}
	return n, ok
}

// duration takes a Go duration string or a number of seconds.
func (p *parser) duration(key string, it *conf.Item) (time.Duration, bool) {
	switch v := it.Value.(type) {
	case int64:
		return time.Duration(v) * time.Second, true
	case float64:
		return time.Duration(v * float64(time.Second)), true
	case string:
		d, err := time.ParseDuration(v)
		if err != nil {
			p.errorf(it.Pos, "'websocket.%s': invalid duration %q (want e.g. \"10s\")", key, v)
			return 0, false
		}
		return d, true
	}
	p.errorf(it.Pos, "'websocket.%s' must be a duration such as \"10s\", not %s", key, typeName(it.Value))
	return 0, false
}

// strings reads one string or a list of them.
func (p *parser) strings(key string, it *conf.Item) []string {
	switch v := it.Value.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, el := range v {
			e := item(el, it.Pos)
			s, ok := e.Value.(string)
			if !ok {
				p.errorf(e.Pos, "'websocket.%s' elements must be strings, not %s", key, typeName(e.Value))
				continue
			}
			out = append(out, s)
		}
		return out
	}
	p.errorf(it.Pos, "'websocket.%s' must be a string or a list of strings, not %s", key, typeName(it.Value))
	return nil
}

func (p *parser) listen(key string, it *conf.Item, o *Options) {
	if n, ok := it.Value.(int64); ok {
		o.Port = int(n)
		return
	}
	s, ok := it.Value.(string)
	if !ok {
		p.errorf(it.Pos, "'websocket.%s' must be host:port or a port, not %s", key, typeName(it.Value))
		return
	}
	host, port, err := net.SplitHostPort(s)
	var n int
	if err == nil {
		_, err = fmt.Sscan(port, &n)
	}
	if err != nil || n < -1 || n > 65535 {
		p.errorf(it.Pos, "'websocket.%s' must be host:port, got %q", key, s)
		return
	}
	o.Host, o.Port = host, n
}

// authorization reads the listener's own simple authorization block.
func (p *parser) authorization(key string, it *conf.Item, o *Options) {
	m, ok := it.Value.(map[string]any)
	if !ok {
		p.errorf(it.Pos, "'websocket.%s' must be a block {...}, not %s", key, typeName(it.Value))
		return
	}
	for _, e := range entries(m) {
		switch strings.ToLower(e.key) {
		case "user", "username":
			p.str(key+"."+e.key, e.item, &o.Username)
		case "pass", "password":
			p.str(key+"."+e.key, e.item, &o.Password)
		case "token":
			p.str(key+"."+e.key, e.item, &o.Token)
		case "timeout":
			if d, ok := p.duration(key+"."+e.key, e.item); ok {
				o.AuthTimeout = d
			}
		default:
			if !e.item.Referenced {
				p.unknown(e.item.KeyPos, "unknown field %q in websocket.%s {}", e.key, key)
			}
		}
	}
}

func (p *parser) headers(key string, it *conf.Item, o *Options) {
	m, ok := it.Value.(map[string]any)
	if !ok {
		p.errorf(it.Pos, "'websocket.%s' must be a block {...}, not %s", key, typeName(it.Value))
		return
	}
	o.Headers = make(map[string]string, len(m))
	for _, e := range entries(m) {
		s, ok := e.item.Value.(string)
		if !ok {
			p.errorf(e.item.Pos, "error parsing header key %s: must be a string, not %s", e.key, typeName(e.item.Value))
			continue
		}
		o.Headers[e.key] = s
	}
}

type entry struct {
	key  string
	item *conf.Item
}

// entries lists a block's keys in the order they were written.
func entries(m map[string]any) []entry {
	es := make([]entry, 0, len(m))
	for k, v := range m {
		es = append(es, entry{k, item(v, conf.Pos{})})
	}
	slices.SortFunc(es, func(a, b entry) int {
		pa, pb := a.item.KeyPos, b.item.KeyPos
		if pa.Line != pb.Line {
			return pa.Line - pb.Line
		}
		if pa.Col != pb.Col {
			return pa.Col - pb.Col
		}
		return strings.Compare(a.key, b.key)
	})
	return es
}

func item(v any, pos conf.Pos) *conf.Item {
	if it, ok := v.(*conf.Item); ok {
		return it
	}
	return &conf.Item{Value: v, Pos: pos}
}

// typeName describes a parsed value's type for error messages.
func typeName(v any) string { return conf.TypeName(v) }
