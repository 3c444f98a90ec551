package server

import "time"

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
	// Single-user or token authentication (--user/--pass, --auth).
	Username, Password string
	Authorization      string
	NoSystemAccount    bool
	SystemAccount      string
	Logger             Logger
	Debug, Trace       bool
}

func (o *Options) setDefaults() {
	if o.Host == "" {
		o.Host = DefaultHost
	}
	if o.Port == 0 {
		o.Port = DefaultPort
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
	if o.AuthTimeout == 0 {
		o.AuthTimeout = DefaultAuthTimeout
	}
	if o.SystemAccount == "" {
		o.SystemAccount = "$SYS"
	}
	if o.Logger == nil {
		o.Logger = nopLogger{}
	}
}
