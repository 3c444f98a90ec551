package api

import (
	"encoding/json"
	"time"
)

// Varz is the general server report of /varz and $SYS.REQ.SERVER.*.VARZ.
// Durations without a unit are nanoseconds; auth_timeout and tls_timeout
// are seconds, as nats-server reports them.
type Varz struct {
	ID                    string                 `json:"server_id"`
	Name                  string                 `json:"server_name"`
	Version               string                 `json:"version"`
	Proto                 int                    `json:"proto"`
	GitCommit             string                 `json:"git_commit,omitempty"`
	GoVersion             string                 `json:"go"`
	Host                  string                 `json:"host"`
	Port                  int                    `json:"port"`
	AuthRequired          bool                   `json:"auth_required,omitempty"`
	TLSRequired           bool                   `json:"tls_required,omitempty"`
	TLSVerify             bool                   `json:"tls_verify,omitempty"`
	TLSOCSPPeerVerify     bool                   `json:"tls_ocsp_peer_verify,omitempty"`
	IP                    string                 `json:"ip,omitempty"`
	ClientConnectURLs     []string               `json:"connect_urls,omitempty"`
	WSConnectURLs         []string               `json:"ws_connect_urls,omitempty"`
	MaxConn               int                    `json:"max_connections"`
	MaxSubs               int                    `json:"max_subscriptions,omitempty"`
	PingInterval          time.Duration          `json:"ping_interval"`
	MaxPingsOut           int                    `json:"ping_max"`
	HTTPHost              string                 `json:"http_host"`
	HTTPPort              int                    `json:"http_port"`
	HTTPBasePath          string                 `json:"http_base_path"`
	HTTPSPort             int                    `json:"https_port"`
	AuthTimeout           float64                `json:"auth_timeout"`
	MaxControlLine        int32                  `json:"max_control_line"`
	MaxPayload            int                    `json:"max_payload"`
	MaxPending            int64                  `json:"max_pending"`
	Cluster               ClusterOptsVarz        `json:"cluster,omitempty"`
	Gateway               GatewayOptsVarz        `json:"gateway,omitempty"`
	LeafNode              LeafNodeOptsVarz       `json:"leaf,omitempty"`
	MQTT                  MQTTOptsVarz           `json:"mqtt,omitempty"`
	Websocket             WebsocketOptsVarz      `json:"websocket,omitempty"`
	JetStream             JetStreamVarz          `json:"jetstream,omitempty"`
	TLSTimeout            float64                `json:"tls_timeout"`
	WriteDeadline         time.Duration          `json:"write_deadline"`
	WriteTimeout          string                 `json:"write_timeout,omitempty"`
	Start                 time.Time              `json:"start"`
	Now                   time.Time              `json:"now"`
	Uptime                string                 `json:"uptime"`
	Mem                   int64                  `json:"mem"`
	Cores                 int                    `json:"cores"`
	MaxProcs              int                    `json:"gomaxprocs"`
	MemLimit              int64                  `json:"gomemlimit,omitempty"`
	CPU                   float64                `json:"cpu"`
	Connections           int                    `json:"connections"`
	TotalConnections      uint64                 `json:"total_connections"`
	Routes                int                    `json:"routes"`
	Remotes               int                    `json:"remotes"`
	Leafs                 int                    `json:"leafnodes"`
	InMsgs                int64                  `json:"in_msgs"`
	InBytes               int64                  `json:"in_bytes"`
	InClientMsgs          int64                  `json:"in_client_msgs"`
	InClientBytes         int64                  `json:"in_client_bytes"`
	OutMsgs               int64                  `json:"out_msgs"`
	OutBytes              int64                  `json:"out_bytes"`
	OutClientMsgs         int64                  `json:"out_client_msgs"`
	OutClientBytes        int64                  `json:"out_client_bytes"`
	SlowConsumers         int64                  `json:"slow_consumers"`
	StaleConnections      int64                  `json:"stale_connections"`
	StalledClients        int64                  `json:"stalled_clients"`
	Subscriptions         uint32                 `json:"subscriptions"`
	HTTPReqStats          map[string]uint64      `json:"http_req_stats"`
	ConfigLoadTime        time.Time              `json:"config_load_time"`
	ConfigDigest          string                 `json:"config_digest"`
	Tags                  []string               `json:"tags,omitempty"`
	Metadata              map[string]string      `json:"metadata,omitempty"`
	FeatureFlags          map[string]bool        `json:"feature_flags,omitempty"`
	TrustedOperatorsJWT   []string               `json:"trusted_operators_jwt,omitempty"`
	TrustedOperatorsClaim []json.RawMessage      `json:"trusted_operators_claim,omitempty"`
	SystemAccount         string                 `json:"system_account,omitempty"`
	PinnedAccountFail     uint64                 `json:"pinned_account_fails,omitempty"`
	OCSPResponseCache     *OCSPResponseCacheVarz `json:"ocsp_peer_cache,omitempty"`
	SlowConsumersStats    *SlowConsumersStats    `json:"slow_consumer_stats"`
	StaleConnectionStats  *StaleConnectionStats  `json:"stale_connection_stats,omitempty"`
	DiskIOWaitStats       *DiskIOWaitStats       `json:"disk_io_wait_stats"`
	Proxies               *ProxiesOptsVarz       `json:"proxies,omitempty"`
	TLSCertNotAfter       time.Time              `json:"tls_cert_not_after,omitzero"`

	// SluiceVersion is sluice's own version; Version is the nats-server
	// release whose behaviour it matches. nats-server has no such field.
	SluiceVersion string `json:"sluice_version,omitempty"`
}

// JetStreamVarz is the JetStream part of Varz; all empty when disabled.
type JetStreamVarz struct {
	Config *JetStreamConfig `json:"config,omitempty"`
	Stats  *JetStreamStats  `json:"stats,omitempty"`
	Meta   *MetaClusterInfo `json:"meta,omitempty"`
	Limits *JSLimitOpts     `json:"limits,omitempty"`
}

// ClusterOptsVarz describes the route listener.
type ClusterOptsVarz struct {
	Name            string        `json:"name,omitempty"`
	Host            string        `json:"addr,omitempty"`
	Port            int           `json:"cluster_port,omitempty"`
	AuthTimeout     float64       `json:"auth_timeout,omitempty"`
	URLs            []string      `json:"urls,omitempty"`
	TLSTimeout      float64       `json:"tls_timeout,omitempty"`
	TLSRequired     bool          `json:"tls_required,omitempty"`
	TLSVerify       bool          `json:"tls_verify,omitempty"`
	PoolSize        int           `json:"pool_size,omitempty"`
	WriteDeadline   time.Duration `json:"write_deadline,omitempty"`
	WriteTimeout    string        `json:"write_timeout,omitempty"`
	TLSCertNotAfter time.Time     `json:"tls_cert_not_after,omitzero"`
}

// GatewayOptsVarz describes the gateway listener and its remotes.
type GatewayOptsVarz struct {
	Name            string                  `json:"name,omitempty"`
	Host            string                  `json:"host,omitempty"`
	Port            int                     `json:"port,omitempty"`
	AuthTimeout     float64                 `json:"auth_timeout,omitempty"`
	TLSTimeout      float64                 `json:"tls_timeout,omitempty"`
	TLSRequired     bool                    `json:"tls_required,omitempty"`
	TLSVerify       bool                    `json:"tls_verify,omitempty"`
	Advertise       string                  `json:"advertise,omitempty"`
	ConnectRetries  int                     `json:"connect_retries,omitempty"`
	Gateways        []RemoteGatewayOptsVarz `json:"gateways,omitempty"`
	RejectUnknown   bool                    `json:"reject_unknown,omitempty"`
	WriteDeadline   time.Duration           `json:"write_deadline,omitempty"`
	WriteTimeout    string                  `json:"write_timeout,omitempty"`
	TLSCertNotAfter time.Time               `json:"tls_cert_not_after,omitzero"`
}

// RemoteGatewayOptsVarz is one configured remote gateway.
type RemoteGatewayOptsVarz struct {
	Name       string   `json:"name"`
	TLSTimeout float64  `json:"tls_timeout,omitempty"`
	URLs       []string `json:"urls,omitempty"`
}

// LeafNodeOptsVarz describes the leafnode listener and remotes.
type LeafNodeOptsVarz struct {
	Host              string               `json:"host,omitempty"`
	Port              int                  `json:"port,omitempty"`
	AuthTimeout       float64              `json:"auth_timeout,omitempty"`
	TLSTimeout        float64              `json:"tls_timeout,omitempty"`
	TLSRequired       bool                 `json:"tls_required,omitempty"`
	TLSVerify         bool                 `json:"tls_verify,omitempty"`
	Remotes           []RemoteLeafOptsVarz `json:"remotes,omitempty"`
	TLSOCSPPeerVerify bool                 `json:"tls_ocsp_peer_verify,omitempty"`
	WriteDeadline     time.Duration        `json:"write_deadline,omitempty"`
	WriteTimeout      string               `json:"write_timeout,omitempty"`
	TLSCertNotAfter   time.Time            `json:"tls_cert_not_after,omitzero"`
}

// DenyRules are the subjects a leafnode remote may not import or export.
type DenyRules struct {
	Exports []string `json:"exports,omitempty"`
	Imports []string `json:"imports,omitempty"`
}

// RemoteLeafOptsVarz is one configured leafnode remote.
type RemoteLeafOptsVarz struct {
	LocalAccount      string     `json:"local_account,omitempty"`
	TLSTimeout        float64    `json:"tls_timeout,omitempty"`
	URLs              []string   `json:"urls,omitempty"`
	Deny              *DenyRules `json:"deny,omitempty"`
	TLSOCSPPeerVerify bool       `json:"tls_ocsp_peer_verify,omitempty"`
}

// MQTTOptsVarz describes the MQTT listener.
type MQTTOptsVarz struct {
	Host              string        `json:"host,omitempty"`
	Port              int           `json:"port,omitempty"`
	NoAuthUser        string        `json:"no_auth_user,omitempty"`
	AuthTimeout       float64       `json:"auth_timeout,omitempty"`
	TLSMap            bool          `json:"tls_map,omitempty"`
	TLSTimeout        float64       `json:"tls_timeout,omitempty"`
	TLSPinnedCerts    []string      `json:"tls_pinned_certs,omitempty"`
	JsDomain          string        `json:"js_domain,omitempty"`
	AckWait           time.Duration `json:"ack_wait,omitempty"`
	MaxAckPending     uint16        `json:"max_ack_pending,omitempty"`
	TLSOCSPPeerVerify bool          `json:"tls_ocsp_peer_verify,omitempty"`
	TLSCertNotAfter   time.Time     `json:"tls_cert_not_after,omitzero"`
}

// WebsocketOptsVarz describes the WebSocket listener.
type WebsocketOptsVarz struct {
	Host              string        `json:"host,omitempty"`
	Port              int           `json:"port,omitempty"`
	Advertise         string        `json:"advertise,omitempty"`
	NoAuthUser        string        `json:"no_auth_user,omitempty"`
	JWTCookie         string        `json:"jwt_cookie,omitempty"`
	HandshakeTimeout  time.Duration `json:"handshake_timeout,omitempty"`
	AuthTimeout       float64       `json:"auth_timeout,omitempty"`
	NoTLS             bool          `json:"no_tls,omitempty"`
	TLSMap            bool          `json:"tls_map,omitempty"`
	TLSPinnedCerts    []string      `json:"tls_pinned_certs,omitempty"`
	SameOrigin        bool          `json:"same_origin,omitempty"`
	AllowedOrigins    []string      `json:"allowed_origins,omitempty"`
	Compression       bool          `json:"compression,omitempty"`
	TLSOCSPPeerVerify bool          `json:"tls_ocsp_peer_verify,omitempty"`
	TLSCertNotAfter   time.Time     `json:"tls_cert_not_after,omitzero"`
}

// OCSPResponseCacheVarz reports the OCSP peer response cache.
type OCSPResponseCacheVarz struct {
	Type      string `json:"cache_type,omitempty"`
	Hits      int64  `json:"cache_hits,omitempty"`
	Misses    int64  `json:"cache_misses,omitempty"`
	Responses int64  `json:"cached_responses,omitempty"`
	Revokes   int64  `json:"cached_revoked_responses,omitempty"`
	Goods     int64  `json:"cached_good_responses,omitempty"`
	Unknowns  int64  `json:"cached_unknown_responses,omitempty"`
}

// ProxiesOptsVarz lists the trusted proxies.
type ProxiesOptsVarz struct {
	Trusted []*ProxyOptsVarz `json:"trusted,omitempty"`
}

// ProxyOptsVarz is one trusted proxy.
type ProxyOptsVarz struct {
	Key string `json:"key"`
}

// VarzOptions has no fields; it exists for $SYS requests, which send one.
type VarzOptions struct{}

// SlowConsumersStats counts slow consumers by connection kind.
type SlowConsumersStats struct {
	Clients  uint64 `json:"clients"`
	Routes   uint64 `json:"routes"`
	Gateways uint64 `json:"gateways"`
	Leafs    uint64 `json:"leafs"`
}

// StaleConnectionStats counts stale connections by connection kind.
type StaleConnectionStats struct {
	Clients  uint64 `json:"clients"`
	Routes   uint64 `json:"routes"`
	Gateways uint64 `json:"gateways"`
	Leafs    uint64 `json:"leafs"`
}

// DiskIOWaitStats reports contention for the disk I/O limiter.
type DiskIOWaitStats struct {
	Waiters     int64  `json:"waiters"`
	Waits       uint64 `json:"waits"`
	WaitTime    uint64 `json:"wait_time"`
	MaxWaitTime uint64 `json:"max_wait_time"`
}
