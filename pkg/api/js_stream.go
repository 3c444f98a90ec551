package api

import (
	"time"
)

// StreamConfig is a stream's configuration, as $JS.API.STREAM.CREATE takes
// it and STREAM.INFO returns it (nats-server's JSON names and omitempty).
type StreamConfig struct {
	Name                   string                  `json:"name"`
	Description            string                  `json:"description,omitempty"`
	Subjects               []string                `json:"subjects,omitempty"`
	Retention              RetentionPolicy         `json:"retention"`
	MaxConsumers           int                     `json:"max_consumers"`
	MaxMsgs                int64                   `json:"max_msgs"`
	MaxBytes               int64                   `json:"max_bytes"`
	MaxAge                 time.Duration           `json:"max_age"`
	MaxMsgsPer             int64                   `json:"max_msgs_per_subject"`
	MaxMsgSize             int32                   `json:"max_msg_size,omitempty"`
	Discard                DiscardPolicy           `json:"discard"`
	Storage                StorageType             `json:"storage"`
	Replicas               int                     `json:"num_replicas"`
	NoAck                  bool                    `json:"no_ack,omitempty"`
	Template               string                  `json:"template_owner,omitempty"`
	Duplicates             time.Duration           `json:"duplicate_window,omitempty"`
	Placement              *Placement              `json:"placement,omitempty"`
	Mirror                 *StreamSource           `json:"mirror,omitempty"`
	Sources                []*StreamSource         `json:"sources,omitempty"`
	Compression            Compression             `json:"compression"`
	FirstSeq               uint64                  `json:"first_seq,omitempty"`
	SubjectTransform       *SubjectTransformConfig `json:"subject_transform,omitempty"`
	RePublish              *RePublish              `json:"republish,omitempty"`
	AllowDirect            bool                    `json:"allow_direct"`
	MirrorDirect           bool                    `json:"mirror_direct"`
	DiscardNewPer          bool                    `json:"discard_new_per_subject,omitempty"`
	Sealed                 bool                    `json:"sealed"`
	DenyDelete             bool                    `json:"deny_delete"`
	DenyPurge              bool                    `json:"deny_purge"`
	AllowRollup            bool                    `json:"allow_rollup_hdrs"`
	ConsumerLimits         StreamConsumerLimits    `json:"consumer_limits"`
	AllowMsgTTL            bool                    `json:"allow_msg_ttl"`
	SubjectDeleteMarkerTTL time.Duration           `json:"subject_delete_marker_ttl,omitempty"`
	AllowMsgCounter        bool                    `json:"allow_msg_counter,omitempty"`
	AllowAtomicPublish     bool                    `json:"allow_atomic,omitempty"`
	AllowMsgSchedules      bool                    `json:"allow_msg_schedules,omitempty"`
	PersistMode            PersistMode             `json:"persist_mode,omitempty"`
	AllowBatchPublish      bool                    `json:"allow_batched,omitempty"`
	Metadata               map[string]string       `json:"metadata,omitempty"`
}

// Placement asks for a cluster or tagged servers (clustering only).
type Placement struct {
	Cluster   string   `json:"cluster,omitempty"`
	Tags      []string `json:"tags,omitempty"`
	Preferred string   `json:"preferred,omitempty"`
}

// StreamSource names a stream to mirror or source from.
type StreamSource struct {
	Name              string                   `json:"name"`
	OptStartSeq       uint64                   `json:"opt_start_seq,omitempty"`
	OptStartTime      *time.Time               `json:"opt_start_time,omitempty"`
	FilterSubject     string                   `json:"filter_subject,omitempty"`
	SubjectTransforms []SubjectTransformConfig `json:"subject_transforms,omitempty"`
	External          *ExternalStream          `json:"external,omitempty"`
	Consumer          *StreamSourceConsumer    `json:"consumer,omitempty"`
}

// ExternalStream is a source in another domain or account.
type ExternalStream struct {
	ApiPrefix     string `json:"api"`
	DeliverPrefix string `json:"deliver"`
}

// StreamSourceConsumer names the consumer a source uses.
type StreamSourceConsumer struct {
	Name           string `json:"name,omitempty"`
	DeliverSubject string `json:"deliver_subject,omitempty"`
}

// SubjectTransformConfig rewrites subjects from Source to Destination.
type SubjectTransformConfig struct {
	Source      string `json:"src"`
	Destination string `json:"dest"`
}

// RePublish republishes stored messages matching Source to Destination.
type RePublish struct {
	Source      string `json:"src,omitempty"`
	Destination string `json:"dest"`
	HeadersOnly bool   `json:"headers_only,omitempty"`
}

// StreamConsumerLimits are defaults and maximums for a stream's consumers.
type StreamConsumerLimits struct {
	InactiveThreshold time.Duration `json:"inactive_threshold,omitempty"`
	MaxAckPending     int           `json:"max_ack_pending,omitempty"`
}

// StreamInfo is what STREAM.INFO, CREATE and UPDATE return.
type StreamInfo struct {
	Config     StreamConfig        `json:"config"`
	Created    time.Time           `json:"created"`
	State      StreamState         `json:"state"`
	Domain     string              `json:"domain,omitempty"`
	Cluster    *ClusterInfo        `json:"cluster,omitempty"`
	Mirror     *StreamSourceInfo   `json:"mirror,omitempty"`
	Sources    []*StreamSourceInfo `json:"sources,omitempty"`
	Alternates []StreamAlternate   `json:"alternates,omitempty"`
	TimeStamp  time.Time           `json:"ts"`
}

// StreamState is a stream's message figures.
type StreamState struct {
	Msgs        uint64            `json:"messages"`
	Bytes       uint64            `json:"bytes"`
	FirstSeq    uint64            `json:"first_seq"`
	FirstTime   time.Time         `json:"first_ts"`
	LastSeq     uint64            `json:"last_seq"`
	LastTime    time.Time         `json:"last_ts"`
	NumSubjects int               `json:"num_subjects,omitempty"`
	Subjects    map[string]uint64 `json:"subjects,omitempty"`
	NumDeleted  int               `json:"num_deleted,omitempty"`
	Deleted     []uint64          `json:"deleted,omitempty"`
	Lost        *LostStreamData   `json:"lost,omitempty"`
	Consumers   int               `json:"consumer_count"`
}

// LostStreamData lists messages lost to corruption.
type LostStreamData struct {
	Msgs  []uint64 `json:"msgs"`
	Bytes uint64   `json:"bytes"`
}

// ClusterInfo describes the group serving a stream.
type ClusterInfo struct {
	Name        string      `json:"name,omitempty"`
	RaftGroup   string      `json:"raft_group,omitempty"`
	Leader      string      `json:"leader,omitempty"`
	LeaderSince *time.Time  `json:"leader_since,omitempty"`
	Replicas    []*PeerInfo `json:"replicas,omitempty"`
}

// StreamSourceInfo is the state of a mirror or source.
type StreamSourceInfo struct {
	Name              string                   `json:"name"`
	External          *ExternalStream          `json:"external,omitempty"`
	Lag               uint64                   `json:"lag"`
	Seq               uint64                   `json:"seq,omitempty"`
	Active            time.Duration            `json:"active"`
	Error             *ApiError                `json:"error,omitempty"`
	FilterSubject     string                   `json:"filter_subject,omitempty"`
	SubjectTransforms []SubjectTransformConfig `json:"subject_transforms,omitempty"`
}

// StreamAlternate is another copy of a stream (mirrors).
type StreamAlternate struct {
	Name    string `json:"name"`
	Domain  string `json:"domain,omitempty"`
	Cluster string `json:"cluster"`
}

// StoredMsg is a message as STREAM.MSG.GET returns it.
type StoredMsg struct {
	Subject  string    `json:"subject"`
	Sequence uint64    `json:"seq"`
	Header   []byte    `json:"hdrs,omitempty"`
	Data     []byte    `json:"data,omitempty"`
	Time     time.Time `json:"time"`
}

// PubAck is the reply to a publish into a stream.
type PubAck struct {
	Stream    string `json:"stream"`
	Domain    string `json:"domain,omitempty"`
	Sequence  uint64 `json:"seq"`
	Duplicate bool   `json:"duplicate,omitempty"`
	Value     string `json:"val,omitempty"`
	BatchId   string `json:"batch,omitempty"`
	BatchSize int    `json:"count,omitempty"`
}

// PubAckResponse is a pub ack or its error.
type PubAckResponse struct {
	Error *ApiError `json:"error,omitempty"`
	*PubAck
}
