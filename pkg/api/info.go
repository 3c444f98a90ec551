package api

// ServerInfo is the INFO a server sends to a client on connect (and again,
// asynchronously, to clients that speak protocol 1).
type ServerInfo struct {
	ID              string   `json:"server_id"`
	Name            string   `json:"server_name"`
	Version         string   `json:"version"`
	Proto           int      `json:"proto"`
	GitCommit       string   `json:"git_commit,omitempty"`
	GoVersion       string   `json:"go"`
	Host            string   `json:"host"`
	Port            int      `json:"port"`
	Headers         bool     `json:"headers"`
	AuthRequired    bool     `json:"auth_required,omitempty"`
	TLSRequired     bool     `json:"tls_required,omitempty"`
	TLSVerify       bool     `json:"tls_verify,omitempty"`
	TLSAvailable    bool     `json:"tls_available,omitempty"`
	MaxPayload      int32    `json:"max_payload"`
	JetStream       bool     `json:"jetstream,omitempty"`
	IP              string   `json:"ip,omitempty"`
	ClientID        uint64   `json:"client_id,omitempty"`
	ClientIP        string   `json:"client_ip,omitempty"`
	Nonce           string   `json:"nonce,omitempty"`
	Cluster         string   `json:"cluster,omitempty"`
	Domain          string   `json:"domain,omitempty"`
	ConnectURLs     []string `json:"connect_urls,omitempty"`
	WSConnectURLs   []string `json:"ws_connect_urls,omitempty"`
	LameDuckMode    bool     `json:"ldm,omitempty"`
	ConnectInfo     bool     `json:"connect_info,omitempty"`
	RemoteAccount   string   `json:"remote_account,omitempty"`
	IsSystemAccount bool     `json:"acc_is_sys,omitempty"`
	APILevel        int      `json:"api_lvl,omitempty"`
	XKey            string   `json:"xkey,omitempty"`
}

// ConnectInfo is what a client sends in CONNECT.
type ConnectInfo struct {
	Verbose      bool   `json:"verbose"`
	Pedantic     bool   `json:"pedantic"`
	Echo         bool   `json:"echo"`
	TLSRequired  bool   `json:"tls_required"`
	Nkey         string `json:"nkey,omitempty"`
	JWT          string `json:"jwt,omitempty"`
	Sig          string `json:"sig,omitempty"`
	Token        string `json:"auth_token,omitempty"`
	User         string `json:"user,omitempty"`
	Pass         string `json:"pass,omitempty"`
	Name         string `json:"name"`
	Lang         string `json:"lang"`
	Version      string `json:"version"`
	Protocol     int    `json:"protocol"`
	Account      string `json:"account,omitempty"`
	NewAccount   bool   `json:"new_account,omitempty"`
	Headers      bool   `json:"headers"`
	NoResponders bool   `json:"no_responders"`
}
