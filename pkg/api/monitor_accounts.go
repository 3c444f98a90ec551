package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Accountz lists accounts, or details one: /accountz.
type Accountz struct {
	ID            string       `json:"server_id"`
	Now           time.Time    `json:"now"`
	SystemAccount string       `json:"system_account,omitempty"`
	Accounts      []string     `json:"accounts,omitempty"`
	Account       *AccountInfo `json:"account_detail,omitempty"`
}

// AccountzOptions name the account to detail; empty lists them all.
type AccountzOptions struct {
	Account string `json:"account"`
}

// AccountInfo details one account.
type AccountInfo struct {
	AccountName string               `json:"account_name"`
	LastUpdate  time.Time            `json:"update_time,omitempty"`
	IsSystem    bool                 `json:"is_system,omitempty"`
	Expired     bool                 `json:"expired"`
	Complete    bool                 `json:"complete"`
	JetStream   bool                 `json:"jetstream_enabled"`
	LeafCnt     int                  `json:"leafnode_connections"`
	ClientCnt   int                  `json:"client_connections"`
	SubCnt      uint32               `json:"subscriptions"`
	Mappings    map[string][]MapDest `json:"mappings,omitempty"`
	Exports     []ExtExport          `json:"exports,omitempty"`
	Imports     []ExtImport          `json:"imports,omitempty"`
	JWT         string               `json:"jwt,omitempty"`
	IssuerKey   string               `json:"issuer_key,omitempty"`
	NameTag     string               `json:"name_tag,omitempty"`
	Tags        []string             `json:"tags,omitempty"`
	Claim       json.RawMessage      `json:"decoded_jwt,omitempty"`
	Vr          []ExtVrIssues        `json:"validation_result_jwt,omitempty"`
	RevokedUser map[string]time.Time `json:"revoked_user,omitempty"`
	Sublist     *SublistStats        `json:"sublist_stats,omitempty"`
	Responses   map[string]ExtImport `json:"responses,omitempty"`
}

// MapDest is one weighted destination of a subject mapping.
type MapDest struct {
	Subject string `json:"subject"`
	Weight  uint8  `json:"weight"`
	Cluster string `json:"cluster,omitempty"`
}

// ExtImport is an account import as /accountz shows it (the JWT import
// fields plus the server's view of it).
type ExtImport struct {
	Name         string          `json:"name,omitempty"`
	Subject      string          `json:"subject,omitempty"`
	Account      string          `json:"account,omitempty"`
	Token        string          `json:"token,omitempty"`
	To           string          `json:"to,omitempty"`
	LocalSubject string          `json:"local_subject,omitempty"`
	Type         string          `json:"type,omitempty"` // "stream" or "service"
	Share        bool            `json:"share"`
	AllowTrace   bool            `json:"allow_trace,omitempty"`
	Invalid      bool            `json:"invalid"`
	Tracking     bool            `json:"tracking"`
	TrackingHdr  http.Header     `json:"tracking_header,omitempty"`
	Latency      *ServiceLatency `json:"latency,omitempty"`
	M1           json.RawMessage `json:"m1,omitempty"`
}

// ExtExport is an account export as /accountz shows it.
type ExtExport struct {
	Name                 string               `json:"name,omitempty"`
	Subject              string               `json:"subject,omitempty"`
	Type                 string               `json:"type,omitempty"` // "stream" or "service"
	TokenReq             bool                 `json:"token_req,omitempty"`
	Revocations          map[string]int64     `json:"revocations,omitempty"`
	ResponseType         string               `json:"response_type,omitempty"`
	ResponseThreshold    time.Duration        `json:"response_threshold,omitempty"`
	Latency              *ServiceLatency      `json:"service_latency,omitempty"`
	AccountTokenPosition uint                 `json:"account_token_position,omitempty"`
	Advertise            bool                 `json:"advertise,omitempty"`
	AllowTrace           bool                 `json:"allow_trace,omitempty"`
	Description          string               `json:"description,omitempty"`
	InfoURL              string               `json:"info_url,omitempty"`
	ApprovedAccounts     []string             `json:"approved_accounts,omitempty"`
	RevokedAct           map[string]time.Time `json:"revoked_activations,omitempty"`
}

// ServiceLatency says how service latency is sampled and where results go.
type ServiceLatency struct {
	Sampling LatencySampling `json:"sampling"`
	Results  string          `json:"results"`
}

// LatencySampling is a percentage 1-100, or 0 for "headers": sample only
// requests that carry tracing headers.
type LatencySampling int

// MarshalJSON writes 0 as "headers" and percentages as numbers.
func (s LatencySampling) MarshalJSON() ([]byte, error) {
	if s == 0 {
		return []byte(`"headers"`), nil
	}
	return strconv.AppendInt(nil, int64(s), 10), nil
}

// UnmarshalJSON accepts "headers", a number, or a number as a string.
func (s *LatencySampling) UnmarshalJSON(b []byte) error {
	var str string
	if json.Unmarshal(b, &str) == nil {
		if str == "headers" {
			*s = 0
			return nil
		}
		b = []byte(str)
	}
	n, err := strconv.Atoi(string(b))
	if err != nil {
		return err
	}
	*s = LatencySampling(n)
	return nil
}

// ExtVrIssues is one problem found validating an account JWT.
type ExtVrIssues struct {
	Description string `json:"description"`
	Blocking    bool   `json:"blocking"`
	Time        bool   `json:"time_check"`
}

// AccountStatz summarises accounts: /accstatz and $SYS STATZ requests.
type AccountStatz struct {
	ID       string         `json:"server_id"`
	Now      time.Time      `json:"now"`
	Accounts []*AccountStat `json:"account_statz"`
}

// AccountStatzOptions pick accounts; unused ones (no connections) are
// left out unless IncludeUnused.
type AccountStatzOptions struct {
	Accounts      []string `json:"accounts"`
	IncludeUnused bool     `json:"include_unused"`
}

// AccountStat is one account's traffic and connection figures.
type AccountStat struct {
	Account       string    `json:"acc"`
	Name          string    `json:"name"`
	Conns         int       `json:"conns"`
	LeafNodes     int       `json:"leafnodes"`
	TotalConns    int       `json:"total_conns"`
	NumSubs       uint32    `json:"num_subscriptions"`
	Sent          DataStats `json:"sent"`
	Received      DataStats `json:"received"`
	SlowConsumers int64     `json:"slow_consumers"`
}

// MsgBytes counts messages and their payload bytes.
type MsgBytes struct {
	Msgs  int64 `json:"msgs"`
	Bytes int64 `json:"bytes"`
}

// DataStats is traffic in one direction, with the share of each link kind.
type DataStats struct {
	MsgBytes
	Gateways *MsgBytes `json:"gateways,omitempty"`
	Routes   *MsgBytes `json:"routes,omitempty"`
	Leafs    *MsgBytes `json:"leafs,omitempty"`
}
