package api

import (
	"encoding/json"
	"fmt"
	"time"
)

// JSzOptions select what /jsz reports.
type JSzOptions struct {
	Account          string `json:"account,omitempty"`
	Accounts         bool   `json:"accounts,omitempty"`
	Streams          bool   `json:"streams,omitempty"`
	Consumer         bool   `json:"consumer,omitempty"`
	DirectConsumer   bool   `json:"direct_consumer,omitempty"`
	Config           bool   `json:"config,omitempty"`
	LeaderOnly       bool   `json:"leader_only,omitempty"`
	Offset           int    `json:"offset,omitempty"`
	Limit            int    `json:"limit,omitempty"`
	RaftGroups       bool   `json:"raft,omitempty"`
	StreamLeaderOnly bool   `json:"stream_leader_only,omitempty"`
}

// JSInfo is the JetStream report of /jsz. With JetStream off it carries
// only zeros, server_id, now and "disabled": true.
type JSInfo struct {
	JetStreamStats
	ID              string           `json:"server_id"`
	Now             time.Time        `json:"now"`
	Disabled        bool             `json:"disabled,omitempty"`
	Config          JetStreamConfig  `json:"config,omitempty"`
	Limits          *JSLimitOpts     `json:"limits,omitempty"`
	Streams         int              `json:"streams"`
	StreamsLeader   int              `json:"streams_leader,omitempty"`
	Consumers       int              `json:"consumers"`
	ConsumersLeader int              `json:"consumers_leader,omitempty"`
	Messages        uint64           `json:"messages"`
	Bytes           uint64           `json:"bytes"`
	Meta            *MetaClusterInfo `json:"meta_cluster,omitempty"`
	AccountDetails  []*AccountDetail `json:"account_details,omitempty"`
	Total           int              `json:"total"`
}

// JetStreamConfig is the server's JetStream configuration.
type JetStreamConfig struct {
	MaxMemory    int64         `json:"max_memory"`
	MaxStore     int64         `json:"max_storage"`
	StoreDir     string        `json:"store_dir,omitempty"`
	SyncInterval time.Duration `json:"sync_interval,omitempty"`
	SyncAlways   bool          `json:"sync_always,omitempty"`
	Domain       string        `json:"domain,omitempty"`
	CompressOK   bool          `json:"compress_ok,omitempty"`
	UniqueTag    string        `json:"unique_tag,omitempty"`
	Strict       bool          `json:"strict,omitempty"`
}

// JetStreamStats is the server's JetStream usage.
type JetStreamStats struct {
	Memory         uint64            `json:"memory"`
	Store          uint64            `json:"storage"`
	ReservedMemory uint64            `json:"reserved_memory"`
	ReservedStore  uint64            `json:"reserved_storage"`
	Accounts       int               `json:"accounts"`
	HAAssets       int               `json:"ha_assets"`
	API            JetStreamAPIStats `json:"api"`
}

// JetStreamAPIStats counts $JS.API requests.
type JetStreamAPIStats struct {
	Level    int    `json:"level"`
	Total    uint64 `json:"total"`
	Errors   uint64 `json:"errors"`
	Inflight uint64 `json:"inflight,omitempty"`
}

// JSLimitOpts are server-wide JetStream limits.
type JSLimitOpts struct {
	MaxRequestBatch           int           `json:"max_request_batch,omitempty"`
	MaxAckPending             int           `json:"max_ack_pending,omitempty"`
	MaxHAAssets               int           `json:"max_ha_assets,omitempty"`
	Duplicates                time.Duration `json:"max_duplicate_window,omitempty"`
	MaxBatchInflightPerStream int           `json:"max_batch_inflight_per_stream,omitempty"`
	MaxBatchInflightTotal     int           `json:"max_batch_inflight_total,omitempty"`
	MaxBatchSize              int           `json:"max_batch_size,omitempty"`
	MaxBatchTimeout           time.Duration `json:"max_batch_timeout,omitempty"`
	DefaultMaxConsumers       int           `json:"default_max_consumers,omitempty"`
}

// MetaClusterInfo describes the JetStream meta group.
type MetaClusterInfo struct {
	Name            string             `json:"name,omitempty"`
	Leader          string             `json:"leader,omitempty"`
	Peer            string             `json:"peer,omitempty"`
	Replicas        []*PeerInfo        `json:"replicas,omitempty"`
	Size            int                `json:"cluster_size"`
	QuorumNeeded    int                `json:"quorum_needed"`
	Rescue          bool               `json:"rescue,omitempty"`
	Pending         int                `json:"pending"`
	PendingRequests int                `json:"pending_requests"`
	PendingInfos    int                `json:"pending_infos"`
	Snapshot        *MetaSnapshotStats `json:"snapshot"`
}

// MetaSnapshotStats describes the meta group's snapshots.
type MetaSnapshotStats struct {
	PendingEntries uint64        `json:"pending_entries"`
	PendingSize    uint64        `json:"pending_size"`
	LastTime       time.Time     `json:"last_time,omitempty"`
	LastDuration   time.Duration `json:"last_duration,omitempty"`
}

// PeerInfo is one member of a RAFT group.
type PeerInfo struct {
	Name    string        `json:"name"`
	Current bool          `json:"current"`
	Offline bool          `json:"offline,omitempty"`
	Active  time.Duration `json:"active"`
	Lag     uint64        `json:"lag,omitempty"`
	Peer    string        `json:"peer"`
	Pending bool          `json:"pending,omitempty"`
}

// AccountDetail is one account's JetStream usage in /jsz.
type AccountDetail struct {
	Name string `json:"name"`
	ID   string `json:"id"`
	JetStreamStats
	Streams []StreamDetail `json:"stream_detail,omitempty"`
}

// StreamDetail is one stream in /jsz?streams=1. The stream and consumer
// structures belong to the JetStream API and are kept raw here until
// those types exist.
type StreamDetail struct {
	Name               string             `json:"name"`
	Created            time.Time          `json:"created"`
	Cluster            json.RawMessage    `json:"cluster,omitempty"`
	Config             json.RawMessage    `json:"config,omitempty"`
	State              json.RawMessage    `json:"state,omitempty"`
	Consumer           []json.RawMessage  `json:"consumer_detail,omitempty"`
	DirectConsumer     []json.RawMessage  `json:"direct_consumer_detail,omitempty"`
	Mirror             json.RawMessage    `json:"mirror,omitempty"`
	Sources            []json.RawMessage  `json:"sources,omitempty"`
	RaftGroup          string             `json:"stream_raft_group,omitempty"`
	ConsumerRaftGroups []*RaftGroupDetail `json:"consumer_raft_groups,omitempty"`
}

// RaftGroupDetail names a RAFT group.
type RaftGroupDetail struct {
	Name      string `json:"name"`
	RaftGroup string `json:"raft_group,omitempty"`
}

// HealthzOptions select the health checks. JSEnabled is the deprecated
// spelling of JSEnabledOnly.
type HealthzOptions struct {
	JSEnabled     bool   `json:"js-enabled,omitempty"`
	JSEnabledOnly bool   `json:"js-enabled-only,omitempty"`
	JSServerOnly  bool   `json:"js-server-only,omitempty"`
	JSMetaOnly    bool   `json:"js-meta-only,omitempty"`
	Account       string `json:"account,omitempty"`
	Stream        string `json:"stream,omitempty"`
	Consumer      string `json:"consumer,omitempty"`
	Details       bool   `json:"details,omitempty"`
}

// HealthStatus is the /healthz answer. Over HTTP the status code is the
// response's and StatusCode is left out.
type HealthStatus struct {
	Status     string         `json:"status"`
	StatusCode int            `json:"status_code,omitempty"`
	Error      string         `json:"error,omitempty"`
	Errors     []HealthzError `json:"errors,omitempty"`
}

// HealthzError is one failed check, listed with details=true.
type HealthzError struct {
	Type     HealthzErrorType `json:"type"`
	Account  string           `json:"account,omitempty"`
	Stream   string           `json:"stream,omitempty"`
	Consumer string           `json:"consumer,omitempty"`
	Error    string           `json:"error,omitempty"`
}

// HealthzErrorType says what a failed health check was about.
type HealthzErrorType int

// Health check error types.
const (
	HealthzErrorConn HealthzErrorType = iota
	HealthzErrorBadRequest
	HealthzErrorJetStream
	HealthzErrorAccount
	HealthzErrorStream
	HealthzErrorConsumer
)

var healthzErrorNames = [...]string{"CONNECTION", "BAD_REQUEST", "JETSTREAM", "ACCOUNT", "STREAM", "CONSUMER"}

func (t HealthzErrorType) String() string {
	if t >= 0 && int(t) < len(healthzErrorNames) {
		return healthzErrorNames[t]
	}
	return "unknown"
}

// MarshalJSON writes the type by name.
func (t HealthzErrorType) MarshalJSON() ([]byte, error) { return json.Marshal(t.String()) }

// UnmarshalJSON reads the type by name.
func (t *HealthzErrorType) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	for i, n := range healthzErrorNames {
		if n == s {
			*t = HealthzErrorType(i)
			return nil
		}
	}
	return fmt.Errorf("unknown healthz error type %q", s)
}
