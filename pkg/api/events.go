package api

import (
	"encoding/json"
	"time"
)

// Advisory types of the $SYS events, as nats-server names them.
const (
	ConnectEventType     = "io.nats.server.advisory.v1.client_connect"
	DisconnectEventType  = "io.nats.server.advisory.v1.client_disconnect"
	AccountNumConnsType  = "io.nats.server.advisory.v1.account_connections"
	ServerStatsEventType = "io.nats.server.advisory.v1.server_stats" // not sent: STATSZ has no type
)

// EventServer identifies the server in every $SYS event and response.
type EventServer struct {
	Name      string            `json:"name"`
	Host      string            `json:"host"`
	ID        string            `json:"id"`
	Cluster   string            `json:"cluster,omitempty"`
	Domain    string            `json:"domain,omitempty"`
	Version   string            `json:"ver"`
	Tags      []string          `json:"tags,omitempty"`
	Metadata  map[string]string `json:"metadata,omitempty"`
	JetStream bool              `json:"jetstream"`
	Flags     uint64            `json:"flags"`
	Seq       uint64            `json:"seq"`
	Time      time.Time         `json:"time"`
}

// ClientInfo describes a connection in events and user info.
type ClientInfo struct {
	Start      *time.Time    `json:"start,omitempty"`
	Host       string        `json:"host,omitempty"`
	ID         uint64        `json:"id,omitempty"`
	Account    string        `json:"acc,omitempty"`
	Service    string        `json:"svc,omitempty"`
	User       string        `json:"user,omitempty"`
	Name       string        `json:"name,omitempty"`
	Lang       string        `json:"lang,omitempty"`
	Version    string        `json:"ver,omitempty"`
	RTT        time.Duration `json:"rtt,omitempty"`
	Server     string        `json:"server,omitempty"`
	Cluster    string        `json:"cluster,omitempty"`
	Stop       *time.Time    `json:"stop,omitempty"`
	Jwt        string        `json:"jwt,omitempty"`
	IssuerKey  string        `json:"issuer_key,omitempty"`
	NameTag    string        `json:"name_tag,omitempty"`
	Tags       []string      `json:"tags,omitempty"`
	Kind       string        `json:"kind,omitempty"`
	ClientType string        `json:"client_type,omitempty"`
	Nonce      string        `json:"nonce,omitempty"`
	Reply      string        `json:"reply,omitempty"`
}

// ConnectEventMsg is published on $SYS.ACCOUNT.<acc>.CONNECT.
type ConnectEventMsg struct {
	Type   string      `json:"type"`
	ID     string      `json:"id"`
	Time   time.Time   `json:"timestamp"`
	Server EventServer `json:"server"`
	Client ClientInfo  `json:"client"`
}

// DisconnectEventMsg is published on $SYS.ACCOUNT.<acc>.DISCONNECT and,
// for failed logins, on $SYS.SERVER.<id>.CLIENT.AUTH.ERR.
type DisconnectEventMsg struct {
	Type     string      `json:"type"`
	ID       string      `json:"id"`
	Time     time.Time   `json:"timestamp"`
	Server   EventServer `json:"server"`
	Client   ClientInfo  `json:"client"`
	Sent     DataStats   `json:"sent"`
	Received DataStats   `json:"received"`
	Reason   string      `json:"reason"`
}

// AccountNumConns is published when an account's connection count changes.
type AccountNumConns struct {
	Type   string      `json:"type"`
	ID     string      `json:"id"`
	Time   time.Time   `json:"timestamp"`
	Server EventServer `json:"server"`
	AccountStat
}

// ServerStats is the body of STATSZ.
type ServerStats struct {
	Start               time.Time `json:"start"`
	Mem                 int64     `json:"mem"`
	Cores               int       `json:"cores"`
	CPU                 float64   `json:"cpu"`
	Connections         int       `json:"connections"`
	TotalConnections    uint64    `json:"total_connections"`
	ActiveAccounts      int       `json:"active_accounts"`
	NumSubs             uint32    `json:"subscriptions"`
	Sent                DataStats `json:"sent"`
	SentToClients       DataStats `json:"sent_to_clients"`
	Received            DataStats `json:"received"`
	ReceivedFromClients DataStats `json:"received_from_clients"`
	SlowConsumers       int64     `json:"slow_consumers"`
	ActiveServers       int       `json:"active_servers,omitempty"`
	MemLimit            int64     `json:"gomemlimit,omitempty"`
	MaxProcs            int       `json:"gomaxprocs,omitempty"`
}

// ServerStatsMsg is published on $SYS.SERVER.<id>.STATSZ and answers
// $SYS.REQ.SERVER.PING.
type ServerStatsMsg struct {
	Server EventServer `json:"server"`
	Stats  ServerStats `json:"statsz"`
}

// ServerID answers IDZ.
type ServerID struct {
	Name string `json:"name"`
	Host string `json:"host"`
	ID   string `json:"id"`
}

// ServerAPIError is the error of a $SYS request.
type ServerAPIError struct {
	Code        int    `json:"code"`
	Description string `json:"description,omitempty"`
}

// ServerAPIResponse is the envelope of $SYS request answers.
type ServerAPIResponse struct {
	Server *EventServer    `json:"server"`
	Data   any             `json:"data,omitempty"`
	Error  *ServerAPIError `json:"error,omitempty"`
}

// EventFilterOptions narrow which servers answer a PING request.
type EventFilterOptions struct {
	Name    string   `json:"server_name,omitempty"`
	Cluster string   `json:"cluster,omitempty"`
	Host    string   `json:"host,omitempty"`
	Tags    []string `json:"tags,omitempty"`
	Domain  string   `json:"domain,omitempty"`
	Exact   bool     `json:"exact_match,omitempty"`
}

// UserInfo answers $SYS.REQ.USER.INFO.
type UserInfo struct {
	UserID      string          `json:"user"`
	Account     string          `json:"account"`
	AccountName string          `json:"account_name,omitempty"`
	UserName    string          `json:"user_name,omitempty"`
	Permissions json.RawMessage `json:"permissions,omitempty"`
	Expires     time.Duration   `json:"expires,omitempty"`
}

// KickClientReq and LDMClientReq name a connection by id.
type KickClientReq struct {
	CID uint64 `json:"cid"`
}

// LDMClientReq asks one client to move to another server.
type LDMClientReq struct {
	CID uint64 `json:"cid"`
}

// ProfilezStatus answers PROFILEZ.
type ProfilezStatus struct {
	Profile []byte `json:"profile,omitempty"`
	Error   string `json:"error,omitempty"`
}

// ProfilezOptions name the runtime profile PROFILEZ captures (heap,
// goroutine, allocs, ...) and its debug level.
type ProfilezOptions struct {
	Name     string        `json:"name"`
	Debug    int           `json:"debug"`
	Duration time.Duration `json:"duration,omitempty"`
}

// ExpvarzStatus answers EXPVARZ: the expvar memstats and cmdline.
type ExpvarzStatus struct {
	Memstats json.RawMessage `json:"memstats"`
	Cmdline  json.RawMessage `json:"cmdline"`
}

// AccNumConnsReq is the optional body of $SYS.REQ.ACCOUNT.<acc>.CONNS;
// Account must be the subject's.
type AccNumConnsReq struct {
	Server  *EventServer `json:"server,omitempty"`
	Account string       `json:"acc"`
}

// Request bodies of the $SYS.REQ Z services: the endpoint's options and
// the filter that picks which servers answer, in one flat JSON object.
type (
	// StatszEventOptions is the body of STATSZ and $SYS.REQ.SERVER.PING.
	StatszEventOptions struct{ EventFilterOptions }
	// VarzEventOptions is the body of VARZ.
	VarzEventOptions struct {
		VarzOptions
		EventFilterOptions
	}
	// ConnzEventOptions is the body of CONNZ.
	ConnzEventOptions struct {
		ConnzOptions
		EventFilterOptions
	}
	// RoutezEventOptions is the body of ROUTEZ.
	RoutezEventOptions struct {
		RoutezOptions
		EventFilterOptions
	}
	// GatewayzEventOptions is the body of GATEWAYZ.
	GatewayzEventOptions struct {
		GatewayzOptions
		EventFilterOptions
	}
	// LeafzEventOptions is the body of LEAFZ.
	LeafzEventOptions struct {
		LeafzOptions
		EventFilterOptions
	}
	// SubszEventOptions is the body of SUBSZ.
	SubszEventOptions struct {
		SubszOptions
		EventFilterOptions
	}
	// AccountzEventOptions is the body of ACCOUNTZ.
	AccountzEventOptions struct {
		AccountzOptions
		EventFilterOptions
	}
	// AccountStatzEventOptions is the body of account STATZ requests.
	AccountStatzEventOptions struct {
		AccountStatzOptions
		EventFilterOptions
	}
	// JszEventOptions is the body of JSZ.
	JszEventOptions struct {
		JSzOptions
		EventFilterOptions
	}
	// HealthzEventOptions is the body of HEALTHZ.
	HealthzEventOptions struct {
		HealthzOptions
		EventFilterOptions
	}
	// ProfilezEventOptions is the body of PROFILEZ.
	ProfilezEventOptions struct {
		ProfilezOptions
		EventFilterOptions
	}
	// ExpvarzEventOptions is the body of EXPVARZ.
	ExpvarzEventOptions struct{ EventFilterOptions }
)
