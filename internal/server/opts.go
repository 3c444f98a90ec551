package server

import (
	"crypto/tls"
	"time"

	"github.com/sluicehq/sluice/internal/server/auth"
	"github.com/sluicehq/sluice/internal/server/callout"
	"github.com/sluicehq/sluice/internal/server/jetstream"
	opjwt "github.com/sluicehq/sluice/internal/server/jwt"
	"github.com/sluicehq/sluice/internal/server/route"
	"github.com/sluicehq/sluice/internal/server/subject"
	"github.com/sluicehq/sluice/internal/server/tlsconf"
	"github.com/sluicehq/sluice/internal/server/websocket"
)

// Defaults, as nats-server has them.
const (
	DefaultPort           = 4222
	DefaultHost           = "0.0.0.0"
	DefaultMaxPayload     = 1024 * 1024
	DefaultMaxControlLine = 4096
	DefaultMaxPending     = 64 * 1024 * 1024
	DefaultMaxConnections = 64 * 1024
	DefaultPingInterval   = 2 * time.Minute
	DefaultPingMax        = 2
	DefaultWriteDeadline  = 10 * time.Second
	DefaultAuthTimeout    = 2 * time.Second
	DefaultTLSTimeout     = 2 * time.Second
	// DefaultTLSHandshakeFirstFallback is the wait of handshake_first: auto.
	DefaultTLSHandshakeFirstFallback = 50 * time.Millisecond
	// Lame duck: how long to spread closing clients over, after a grace period.
	DefaultLameDuckDuration    = 2 * time.Minute
	MinLameDuckDuration        = 30 * time.Second
	DefaultLameDuckGracePeriod = 10 * time.Second
	DefaultMaxClosedClients    = 10000
	// RandomPort asks the OS for a free port.
	RandomPort = -1
)

// Options configure a Server. Zero values take nats-server's defaults.
type Options struct {
	ServerName     string
	Host           string
	Port           int // 0 = DefaultPort, -1 = random
	MaxPayload     int32
	MaxControlLine int32
	MaxPending     int64
	// MaxConn is the connection limit: 0 means the default, negative means
	// refuse every client (what nats-server does with max_connections: 0).
	MaxConn         int
	MaxSubs         int // per connection; 0 = unlimited
	PingInterval    time.Duration
	MaxPingsOut     int
	WriteDeadline   time.Duration
	AuthTimeout     time.Duration
	NoHeaderSupport bool
	// Single-user or token authentication (--user/--pass, --auth); the
	// token and password may be bcrypt hashes. Permissions apply to the
	// single user.
	Username, Password string
	Authorization      string
	Permissions        *auth.Permissions
	// Users lists, by password or nkey, and their accounts.
	Users              []*auth.User
	Nkeys              []*auth.NkeyUser
	NoAuthUser         string            // user a client without credentials becomes
	DefaultPermissions *auth.Permissions // for users without their own
	Accounts           []*AccountConfig
	NoSystemAccount    bool
	SystemAccount      string
	Logger             Logger
	Debug, Trace       bool

	// JetStream is the jetstream {} block, -js/-sd/--domain and the
	// accounts' jetstream settings; nil or not Enabled means off.
	JetStream *jetstream.Config

	// Cluster is the cluster {} block and the cluster flags
	// (internal/server/route); nil or without port and routes means off.
	Cluster *route.Config

	// Mappings are the top-level subject mappings: they belong to the
	// global account ($G), as in nats-server.
	Mappings []subject.Mapping

	// Logging, applied by whoever builds the Logger (sluice serve).
	TraceVerbose bool
	// MaxTracedMsgLen cuts traced payloads to this many bytes; 0 is all.
	MaxTracedMsgLen int
	Logtime         bool
	LogtimeUTC      bool
	LogFile         string
	LogSizeLimit    int64
	LogMaxFiles     int64
	Syslog          bool
	RemoteSyslog    string

	PidFile             string
	PortsFileDir        string
	ClientAdvertise     string
	LameDuckDuration    time.Duration
	LameDuckGracePeriod time.Duration
	MaxClosedClients    int

	// Client TLS: on when TLSConfig is set. The tls {} block of a
	// configuration file builds it with the settings below it; so does
	// SetTLSFromFlags from the command-line form (TLS..TLSCaCert).
	TLS       bool // --tls
	TLSVerify bool // --tlsverify
	TLSCert   string
	TLSKey    string
	TLSCaCert string
	TLSConfig *tls.Config
	// TLSTimeout bounds the handshake (0 = DefaultTLSTimeout).
	TLSTimeout time.Duration
	// TLSMap is verify_and_map: the client certificate names the user.
	TLSMap bool
	// TLSPinnedCerts, when not empty, admits only clients whose certificate
	// key is listed.
	TLSPinnedCerts tlsconf.PinnedCerts
	// TLSHandshakeFirst: TLS starts at once and INFO follows over TLS. With
	// a fallback delay, a client silent for that long gets INFO in plain
	// text and upgrades the usual way.
	TLSHandshakeFirst         bool
	TLSHandshakeFirstFallback time.Duration
	// AllowNonTLS lets clients choose: INFO says tls_available.
	AllowNonTLS bool

	// HTTP monitoring (monitor_server.go): a port of 0 is off, -1 random.
	// HTTPHost defaults to Host.
	HTTPHost     string
	HTTPPort     int
	HTTPSPort    int
	HTTPBasePath string
	// ProfPort serves Go's pprof handlers (0 = off, -1 = random).
	ProfPort int

	// Websocket is the websocket {} block (internal/server/websocket).
	Websocket websocket.Options

	// ConfigFile is the file the options were read from, re-read on reload.
	ConfigFile string
	// ConfigDigest identifies the parsed configuration (sha256 of values).
	ConfigDigest string

	// Operator mode (jwt.go, internal/server/jwt): the trusted operators
	// (JWTs as read), plain trusted keys, the account resolver and the
	// JWTs preloaded into it (public key -> JWT).
	TrustedOperators []string
	TrustedKeys      []string
	AccountResolver  *opjwt.ResolverConfig
	ResolverPreload  map[string]string
	// ResolverTLS is how the URL resolver dials an https account server.
	ResolverTLS *tls.Config
	// ResolverPinnedAccounts: when set, only users of these accounts
	// (and of the system account) log in.
	ResolverPinnedAccounts []string
	// DefaultSentinel is the user JWT of clients that send none.
	DefaultSentinel string
	// AuthCallout delegates logins to a service (callout.go).
	AuthCallout *callout.Config

	authIx  *authIndex                     // users by name and nkey; built by prepare
	mapSets map[string]*subject.MappingSet // compiled mappings by account; built by validate
}

func (o *Options) setDefaults() {
	if o.Host == "" {
		o.Host = DefaultHost
	}
	if o.Port == 0 {
		o.Port = DefaultPort
	}
	if o.HTTPHost == "" {
		o.HTTPHost = o.Host
	}
	if o.MaxPayload == 0 {
		o.MaxPayload = DefaultMaxPayload
	}
	if o.MaxControlLine == 0 {
		o.MaxControlLine = DefaultMaxControlLine
	}
	if o.MaxPending == 0 {
		o.MaxPending = DefaultMaxPending
	}
	if o.MaxConn == 0 {
		o.MaxConn = DefaultMaxConnections
	}
	if o.PingInterval == 0 {
		o.PingInterval = DefaultPingInterval
	}
	if o.MaxPingsOut == 0 {
		o.MaxPingsOut = DefaultPingMax
	}
	if o.WriteDeadline == 0 {
		o.WriteDeadline = DefaultWriteDeadline
	}
	if o.TLSTimeout == 0 {
		o.TLSTimeout = DefaultTLSTimeout
	}
	if o.AuthTimeout == 0 {
		o.AuthTimeout = DefaultAuthTimeout
		if o.TLSConfig != nil {
			o.AuthTimeout = o.TLSTimeout + time.Second // as nats-server
		}
	}
	if o.LameDuckDuration == 0 {
		o.LameDuckDuration = DefaultLameDuckDuration
	}
	if o.LameDuckGracePeriod == 0 {
		o.LameDuckGracePeriod = DefaultLameDuckGracePeriod
	}
	if o.MaxClosedClients == 0 {
		o.MaxClosedClients = DefaultMaxClosedClients
	}
	if o.SystemAccount == "" {
		o.SystemAccount = "$SYS"
	}
	if o.Cluster.Enabled() {
		c := *o.Cluster // the caller's copy stays as written
		sys := o.SystemAccount
		if o.NoSystemAccount {
			sys = ""
		}
		c.SetDefaults(sys)
		if c.PingInterval == 0 {
			c.PingInterval = o.PingInterval
		}
		if c.MaxPingsOut == 0 {
			c.MaxPingsOut = o.MaxPingsOut
		}
		o.Cluster = &c
	}
	if o.Logger == nil {
		o.Logger = nopLogger{}
	}
}
