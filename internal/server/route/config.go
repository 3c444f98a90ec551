package route

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/server/auth"
	"github.com/sluicehq/sluice/internal/server/tlsconf"
	"github.com/sluicehq/sluice/pkg/conf"
)

// Defaults, as nats-server's.
const (
	DefaultPort          = 6222
	DefaultPoolSize      = 3
	DefaultConnectDelay  = time.Second
	DefaultMaxDelay      = 30 * time.Second
	DefaultDialTimeout   = time.Second
	MaxPingInterval      = 30 * time.Second
	DefaultAuthTimeout   = 2 * time.Second
	DefaultTLSTimeout    = 2 * time.Second
	DefaultWriteDeadline = 10 * time.Second
)

// Compression modes, spelt as on the wire.
const (
	CompressionNotSupported = "not supported"
	CompressionOff          = "off"
	CompressionAccept       = "accept"
	CompressionS2Auto       = "s2_auto"
	CompressionS2Uncomp     = "s2_uncompressed"
	CompressionS2Fast       = "s2_fast"
	CompressionS2Better     = "s2_better"
	CompressionS2Best       = "s2_best"
)

// Config is the cluster {} block and the cluster flags.
type Config struct {
	Name      string
	Host      string
	Port      int // -1: random
	Advertise string
	// NoAdvertise keeps this server's client URLs out of what peers push to
	// their clients, and the peers' out of what this server pushes.
	NoAdvertise    bool
	ConnectRetries int
	ConnectBackoff bool
	Routes         []*url.URL
	// Route authorization: what peers must present (and what implicit
	// routes present when the peer asks for credentials).
	Username, Password string
	AuthTimeout        time.Duration
	TLSConfig          *tls.Config
	TLSTimeout         time.Duration
	// TLSMap (verify_and_map): the peer's certificate must name Username;
	// TLSCheckKnownURLs: or carry a DNS name of a configured route;
	// TLSPinnedCerts: only these peer keys, either direction (tls.go).
	TLSMap, TLSCheckKnownURLs bool
	TLSPinnedCerts            tlsconf.PinnedCerts
	// PoolSize is the number of connections to each peer; -1 disables
	// pooling (one connection, as servers before v2.10).
	PoolSize       int
	PinnedAccounts []string
	Compression    string
	RTTThresholds  []time.Duration
	PingInterval   time.Duration
	MaxPingsOut    int
	WriteDeadline  time.Duration
	// ReconnectDelay is the pause before redialing a lost explicit route
	// (default 1s); embedders and tests may shorten it. Not a file option.
	ReconnectDelay time.Duration

	// Permissions: Import is what this server may receive (it announces
	// interest only where it may import); Export is what it sends (it
	// accepts interest only where it may export).
	Import, Export *auth.SubjectPermission
}

// Enabled reports whether a route listener or routes are configured.
func (c *Config) Enabled() bool { return c != nil && (c.Port != 0 || len(c.Routes) > 0) }

// Issue is a problem found while reading configuration.
type Issue struct {
	Pos     conf.Pos
	Msg     string
	Warning bool
}

// TLSReader reads a tls {} block the way the server reads its own.
type TLSReader func(it *conf.Item) (set TLSSettings, ok bool)

type reader struct {
	issues []Issue
	strict bool
}

func (r *reader) errorf(p conf.Pos, format string, a ...any) {
	r.issues = append(r.issues, Issue{Pos: p, Msg: fmt.Sprintf(format, a...)})
}

func (r *reader) warnf(p conf.Pos, format string, a ...any) {
	r.issues = append(r.issues, Issue{Pos: p, Msg: fmt.Sprintf(format, a...), Warning: true})
}

func (r *reader) str(key string, it *conf.Item) (string, bool) {
	s, ok := it.Value.(string)
	if !ok {
		r.errorf(it.Pos, "'%s' must be a string, not %s", key, conf.TypeName(it.Value))
	}
	return s, ok
}

func (r *reader) integer(key string, it *conf.Item) (int, bool) {
	n, ok := it.Value.(int64)
	if !ok {
		r.errorf(it.Pos, "'%s' must be a whole number, not %s", key, conf.TypeName(it.Value))
	}
	return int(n), ok
}

func (r *reader) boolean(key string, it *conf.Item) (bool, bool) {
	b, ok := it.Value.(bool)
	if !ok {
		r.errorf(it.Pos, "'%s' must be true or false, not %s", key, conf.TypeName(it.Value))
	}
	return b, ok
}

func (r *reader) duration(key string, it *conf.Item) (time.Duration, bool) {
	switch v := it.Value.(type) {
	case string:
		d, err := time.ParseDuration(v)
		if err != nil {
			r.errorf(it.Pos, "'%s': invalid duration %q (want e.g. \"10s\")", key, v)
			return 0, false
		}
		return d, true
	case int64:
		r.warnf(it.Pos, "%s should be converted to a duration", key)
		return time.Duration(v) * time.Second, true
	case float64:
		r.warnf(it.Pos, "%s should be converted to a duration", key)
		return time.Duration(v * float64(time.Second)), true
	}
	r.errorf(it.Pos, "'%s' must be a duration such as \"10s\", not %s", key, conf.TypeName(it.Value))
	return 0, false
}

func item(v any) *conf.Item {
	if it, ok := v.(*conf.Item); ok {
		return it
	}
	return &conf.Item{Value: v}
}

// Parse reads a cluster {} block into c. Unknown keys are errors (as in
// nats-server), whatever strict says, since a misspelt security setting
// must not be ignored.
func Parse(it *conf.Item, c *Config, readTLS TLSReader, strict bool) []Issue {
	r := &reader{strict: strict}
	m, ok := it.Value.(map[string]any)
	if !ok {
		r.errorf(it.Pos, "'cluster' must be a block {...}, not %s", conf.TypeName(it.Value))
		return r.issues
	}
	for k, v := range m {
		e := item(v)
		switch strings.ToLower(k) {
		case "name":
			if s, ok := r.str(k, e); ok {
				if err := CheckName(s); err != nil {
					r.errorf(e.Pos, "%v", err)
					continue
				}
				c.Name = s
			}
		case "listen":
			r.listen(e, c)
		case "port":
			if n, ok := r.integer(k, e); ok {
				if n < -1 || n > 65535 {
					r.errorf(e.Pos, "cluster port must be between -1 and 65535, got %d", n)
					continue
				}
				c.Port = n
			}
		case "host", "net":
			c.Host, _ = r.str(k, e)
		case "authorization":
			r.authorization(e, c)
		case "routes":
			r.routes(e, c)
		case "tls":
			r.tls(e, c, readTLS)
		case "cluster_advertise", "advertise":
			c.Advertise, _ = r.str(k, e)
		case "no_advertise":
			c.NoAdvertise, _ = r.boolean(k, e)
		case "connect_retries":
			if n, ok := r.integer(k, e); ok {
				c.ConnectRetries = n
			}
		case "connect_backoff":
			c.ConnectBackoff, _ = r.boolean(k, e)
		case "permissions":
			r.permissions(e, c)
		case "pool_size":
			if n, ok := r.integer(k, e); ok {
				c.PoolSize = n
			}
		case "accounts":
			arr, ok := e.Value.([]any)
			if !ok {
				r.errorf(e.Pos, "'accounts' must be a list of account names, not %s", conf.TypeName(e.Value))
				continue
			}
			for _, a := range arr {
				if s, ok := r.str("accounts", item(a)); ok {
					c.PinnedAccounts = append(c.PinnedAccounts, s)
				}
			}
		case "compression":
			r.compression(e, c)
		case "ping_interval":
			if d, ok := r.duration(k, e); ok {
				if d > MaxPingInterval {
					r.warnf(e.Pos, "Cluster 'ping_interval' will reset to %v which is the max for routes", MaxPingInterval)
				}
				c.PingInterval = d
			}
		case "ping_max":
			if n, ok := r.integer(k, e); ok {
				c.MaxPingsOut = n
			}
		case "write_deadline":
			if d, ok := r.duration(k, e); ok {
				c.WriteDeadline = d
			}
		default:
			if e.Referenced {
				continue
			}
			r.errorf(e.KeyPos, "unknown field %q in cluster", k)
		}
	}
	return r.issues
}

// CheckName validates a cluster name as nats-server does.
func CheckName(s string) error {
	switch {
	case strings.Contains(s, " "):
		return fmt.Errorf("cluster name cannot contain spaces or new lines")
	case s == "_":
		return fmt.Errorf("cluster name %q is reserved for internal use", s)
	}
	return nil
}

func (r *reader) listen(e *conf.Item, c *Config) {
	if n, ok := e.Value.(int64); ok {
		c.Port = int(n)
		return
	}
	s, ok := r.str("listen", e)
	if !ok {
		return
	}
	host, port, err := net.SplitHostPort(s)
	p, perr := strconv.Atoi(port)
	if err != nil || perr != nil {
		r.errorf(e.Pos, "cluster 'listen' must be host:port, got %q", s)
		return
	}
	c.Host, c.Port = host, p
}

func (r *reader) authorization(e *conf.Item, c *Config) {
	m, ok := e.Value.(map[string]any)
	if !ok {
		r.errorf(e.Pos, "cluster 'authorization' must be a block, not %s", conf.TypeName(e.Value))
		return
	}
	for k, v := range m {
		it := item(v)
		switch strings.ToLower(k) {
		case "user", "username":
			c.Username, _ = r.str(k, it)
		case "pass", "password":
			c.Password, _ = r.str(k, it)
		case "timeout":
			switch t := it.Value.(type) {
			case int64:
				c.AuthTimeout = time.Duration(t) * time.Second
			case float64:
				c.AuthTimeout = time.Duration(t * float64(time.Second))
			default:
				if d, ok := r.duration(k, it); ok {
					c.AuthTimeout = d
				}
			}
		case "users":
			r.errorf(it.KeyPos, "Cluster authorization does not allow multiple users")
		case "token":
			r.errorf(it.KeyPos, "Cluster authorization does not support tokens")
		case "auth_callout", "callout":
			r.errorf(it.KeyPos, "Cluster authorization does not support callouts")
		case "permissions":
			r.warnf(it.KeyPos, `setting "permissions" within cluster authorization block is deprecated`)
			if c.Import == nil && c.Export == nil {
				r.permissions(it, c)
			}
		default:
			r.errorf(it.KeyPos, "unknown field %q in cluster authorization", k)
		}
	}
}

// permissions reads import/export, or the user-style publish/subscribe
// (publish is import, subscribe is export, as nats-server maps them).
func (r *reader) permissions(e *conf.Item, c *Config) {
	m, ok := e.Value.(map[string]any)
	if !ok {
		r.errorf(e.Pos, "cluster 'permissions' must be a block, not %s", conf.TypeName(e.Value))
		return
	}
	for k, v := range m {
		it := item(v)
		p := r.subjectPerm(k, it)
		if p == nil {
			continue
		}
		switch strings.ToLower(k) {
		case "import", "publish", "pub":
			c.Import = p
		case "export", "subscribe", "sub":
			c.Export = p
		case "allow_responses", "responses":
			r.errorf(it.KeyPos, "Cluster permissions do not support dynamic responses")
		default:
			r.errorf(it.KeyPos, "unknown field %q in cluster permissions", k)
		}
	}
}

func (r *reader) subjectPerm(key string, it *conf.Item) *auth.SubjectPermission {
	list := func(v any) []string {
		switch t := v.(type) {
		case string:
			return []string{t}
		case []any:
			var out []string
			for _, x := range t {
				if s, ok := r.str(key, item(x)); ok {
					out = append(out, s)
				}
			}
			return out
		}
		r.errorf(it.Pos, "'%s' must be a subject or a list of subjects", key)
		return nil
	}
	switch t := it.Value.(type) {
	case map[string]any:
		p := &auth.SubjectPermission{}
		for k, v := range t {
			switch strings.ToLower(k) {
			case "allow":
				p.Allow = list(item(v).Value)
			case "deny":
				p.Deny = list(item(v).Value)
			default:
				r.errorf(item(v).KeyPos, "unknown field %q in %s permissions", k, key)
			}
		}
		return p
	case string, []any:
		return &auth.SubjectPermission{Allow: list(t)}
	}
	if strings.EqualFold(key, "allow_responses") || strings.EqualFold(key, "responses") {
		r.errorf(it.KeyPos, "Cluster permissions do not support dynamic responses")
		return nil
	}
	r.errorf(it.Pos, "'%s' must be a subject, a list or a block with allow/deny", key)
	return nil
}

func (r *reader) routes(e *conf.Item, c *Config) {
	arr, ok := e.Value.([]any)
	if !ok {
		if s, isStr := e.Value.(string); isStr {
			arr = []any{s}
		} else {
			r.errorf(e.Pos, "'routes' must be a list of URLs, not %s", conf.TypeName(e.Value))
			return
		}
	}
	seen := map[string]bool{}
	for _, v := range arr {
		it := item(v)
		s, ok := r.str("routes", it)
		if !ok {
			continue
		}
		if seen[s] {
			r.warnf(it.Pos, "Duplicate route entry detected")
			continue
		}
		seen[s] = true
		u, err := ParseURL(s)
		if err != nil {
			r.errorf(it.Pos, "%v", err)
			continue
		}
		c.Routes = append(c.Routes, u)
	}
}

// ParseURL reads one route URL (nats-route://user:pass@host:port, or a
// bare host:port).
func ParseURL(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "://") {
		s = "nats-route://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("error parsing route url [%q]", s)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("route url %q has no host", s)
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(DefaultPort))
	}
	return u, nil
}

// ParseRoutes reads the --routes flag: comma separated URLs.
func ParseRoutes(s string) ([]*url.URL, error) {
	var out []*url.URL
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		u, err := ParseURL(p)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

func (r *reader) compression(e *conf.Item, c *Config) {
	switch v := e.Value.(type) {
	case string:
		c.Compression = v
	case bool:
		if v {
			c.Compression = CompressionS2Fast
		} else {
			c.Compression = CompressionOff
		}
	case map[string]any:
		for k, mv := range v {
			it := item(mv)
			switch strings.ToLower(k) {
			case "mode":
				c.Compression, _ = r.str(k, it)
			case "rtt_thresholds", "thresholds", "rtts", "rtt":
				arr, ok := it.Value.([]any)
				if !ok {
					r.errorf(it.Pos, "'%s' must be a list of durations", k)
					continue
				}
				for _, x := range arr {
					if d, ok := r.duration(k, item(x)); ok {
						c.RTTThresholds = append(c.RTTThresholds, d)
					}
				}
			default:
				r.errorf(it.KeyPos, "unknown field %q in cluster compression", k)
			}
		}
	default:
		r.errorf(e.Pos, "field \"compression\" should be a boolean or a structure, got %s", conf.TypeName(e.Value))
		return
	}
	if err := checkCompression(c.Compression); err != nil {
		r.errorf(e.Pos, "%v", err)
	}
}

func checkCompression(m string) error {
	switch m {
	case "", CompressionOff, CompressionAccept, CompressionS2Auto, CompressionS2Uncomp, CompressionS2Fast, CompressionS2Better, CompressionS2Best:
		return nil
	case "disabled", "false", "none":
		return nil
	}
	return fmt.Errorf("unsupported route compression mode %q (want off, accept, s2_auto, s2_uncompressed, s2_fast, s2_better or s2_best)", m)
}

// SetDefaults fills in nats-server's defaults; sysAccount ("" when the
// system account is off) is pinned unless pooling is disabled.
func (c *Config) SetDefaults(sysAccount string) {
	if c.Port != 0 && c.Host == "" {
		c.Host = "0.0.0.0"
	}
	if c.PoolSize == 0 {
		c.PoolSize = DefaultPoolSize
	}
	if c.PoolSize > 0 && sysAccount != "" {
		found := false
		for _, a := range c.PinnedAccounts {
			found = found || a == sysAccount
		}
		if !found {
			c.PinnedAccounts = append(c.PinnedAccounts, sysAccount)
		}
	}
	switch c.Compression {
	case "":
		c.Compression = CompressionAccept
	case "disabled", "false", "none":
		c.Compression = CompressionOff
	}
	if c.TLSTimeout == 0 {
		c.TLSTimeout = DefaultTLSTimeout
	}
	if c.AuthTimeout == 0 {
		c.AuthTimeout = DefaultAuthTimeout
		if c.TLSConfig != nil {
			c.AuthTimeout = c.TLSTimeout + time.Second // as nats-server
		}
	}
	if c.WriteDeadline == 0 {
		c.WriteDeadline = DefaultWriteDeadline
	}
	if c.MaxPingsOut == 0 {
		c.MaxPingsOut = 2
	}
}

// Validate reports settings that cannot work together.
func (c *Config) Validate() error {
	if err := CheckName(c.Name); err != nil {
		return err
	}
	if err := checkCompression(c.Compression); err != nil {
		return err
	}
	if c.PoolSize < 0 && len(c.PinnedAccounts) > 0 {
		return fmt.Errorf("cluster: pinned accounts need pooling; pool_size is %d", c.PoolSize)
	}
	if c.Password != "" && c.Username == "" {
		return fmt.Errorf("cluster authorization: a password needs a user")
	}
	if c.Port < -1 || c.Port > 65535 {
		return fmt.Errorf("invalid cluster port %d", c.Port)
	}
	seen := make(map[string]bool, len(c.PinnedAccounts))
	for _, a := range c.PinnedAccounts {
		if seen[a] {
			return fmt.Errorf("found duplicate account name %q in pinned accounts list %q", a, c.PinnedAccounts)
		}
		seen[a] = true
	}
	return nil
}

// splitAdvertise reads an advertise address as nats-server does: a
// missing port is def, and the port must be a number.
func splitAdvertise(a string, def int) (string, int, error) {
	host, p, err := net.SplitHostPort(a)
	if ae, ok := err.(*net.AddrError); ok && strings.Contains(ae.Err, "missing port") {
		host, p, err = net.SplitHostPort(net.JoinHostPort(a, strconv.Itoa(def)))
	}
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(strings.TrimSpace(p))
	if err != nil {
		return "", 0, err
	}
	if port == 0 || port == -1 {
		port = def
	}
	return strings.TrimSpace(host), port, nil
}
