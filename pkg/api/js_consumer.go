package api

import (
	"strings"
	"time"
)

// Consumer API response types.
const (
	JSApiConsumerCreateType   = JSApiPrefix + "consumer_create_response"
	JSApiConsumerInfoType     = JSApiPrefix + "consumer_info_response"
	JSApiConsumerDeleteType   = JSApiPrefix + "consumer_delete_response"
	JSApiConsumerNamesType    = JSApiPrefix + "consumer_names_response"
	JSApiConsumerListType     = JSApiPrefix + "consumer_list_response"
	JSApiConsumerPauseType    = JSApiPrefix + "consumer_pause_response"
	JSApiConsumerUnpinType    = JSApiPrefix + "consumer_unpin_response"
	JSApiConsumerResetType    = JSApiPrefix + "consumer_reset_response"
	JSApiConsumerStepdownType = JSApiPrefix + "consumer_leader_stepdown_response"
)

// DeliverPolicy says where a consumer starts.
type DeliverPolicy int

// Deliver policies.
const (
	DeliverAll DeliverPolicy = iota
	DeliverLast
	DeliverNew
	DeliverByStartSequence
	DeliverByStartTime
	DeliverLastPerSubject
)

var deliverNames = []string{"all", "last", "new", "by_start_sequence", "by_start_time", "last_per_subject"}

func (p DeliverPolicy) String() string { return deliverNames[p] }

// MarshalJSON writes the policy by name.
func (p DeliverPolicy) MarshalJSON() ([]byte, error) { return enumMarshal(int(p), deliverNames) }

// UnmarshalJSON reads the policy by name ("undefined" and "" mean all).
func (p *DeliverPolicy) UnmarshalJSON(b []byte) error {
	if s := string(b); s == `""` || s == `"undefined"` {
		*p = DeliverAll
		return nil
	}
	v, err := enumUnmarshal(b, deliverNames)
	*p = DeliverPolicy(v)
	return err
}

// AckPolicy says which deliveries need an ack.
type AckPolicy int

// Ack policies.
const (
	AckNone AckPolicy = iota
	AckAll
	AckExplicit
	AckFlowControl
)

var ackNames = []string{"none", "all", "explicit", "flow_control"}

func (p AckPolicy) String() string { return ackNames[p] }

// MarshalJSON writes the policy by name.
func (p AckPolicy) MarshalJSON() ([]byte, error) { return enumMarshal(int(p), ackNames) }

// UnmarshalJSON reads the policy by name.
func (p *AckPolicy) UnmarshalJSON(b []byte) error {
	v, err := enumUnmarshal(b, ackNames)
	*p = AckPolicy(v)
	return err
}

// ReplayPolicy says how fast stored messages are replayed.
type ReplayPolicy int

// Replay policies.
const (
	ReplayInstant ReplayPolicy = iota
	ReplayOriginal
)

var replayNames = []string{"instant", "original"}

// MarshalJSON writes the policy by name.
func (p ReplayPolicy) MarshalJSON() ([]byte, error) { return enumMarshal(int(p), replayNames) }

// UnmarshalJSON reads the policy by name.
func (p *ReplayPolicy) UnmarshalJSON(b []byte) error {
	v, err := enumUnmarshal(b, replayNames)
	*p = ReplayPolicy(v)
	return err
}

// PriorityPolicy chooses how pull requests of priority groups are served.
type PriorityPolicy int

// Priority policies.
const (
	PriorityNone PriorityPolicy = iota
	PriorityOverflow
	PriorityPinnedClient
	PriorityPrioritized
)

var priorityNames = []string{"none", "overflow", "pinned_client", "prioritized"}

// MarshalJSON writes the policy by name.
func (p PriorityPolicy) MarshalJSON() ([]byte, error) { return enumMarshal(int(p), priorityNames) }

// UnmarshalJSON reads the policy by name ("" is none).
func (p *PriorityPolicy) UnmarshalJSON(b []byte) error {
	if string(b) == `""` {
		*p = PriorityNone
		return nil
	}
	v, err := enumUnmarshal([]byte(strings.ToLower(string(b))), priorityNames)
	*p = PriorityPolicy(v)
	return err
}

// ConsumerConfig is a consumer's configuration, field for field as
// nats-server's.
type ConsumerConfig struct {
	Durable            string            `json:"durable_name,omitempty"`
	Name               string            `json:"name,omitempty"`
	Description        string            `json:"description,omitempty"`
	DeliverPolicy      DeliverPolicy     `json:"deliver_policy"`
	OptStartSeq        uint64            `json:"opt_start_seq,omitempty"`
	OptStartTime       *time.Time        `json:"opt_start_time,omitempty"`
	AckPolicy          AckPolicy         `json:"ack_policy"`
	AckWait            time.Duration     `json:"ack_wait,omitempty"`
	MaxDeliver         int               `json:"max_deliver,omitempty"`
	BackOff            []time.Duration   `json:"backoff,omitempty"`
	FilterSubject      string            `json:"filter_subject,omitempty"`
	FilterSubjects     []string          `json:"filter_subjects,omitempty"`
	ReplayPolicy       ReplayPolicy      `json:"replay_policy"`
	RateLimit          uint64            `json:"rate_limit_bps,omitempty"`
	SampleFrequency    string            `json:"sample_freq,omitempty"`
	MaxWaiting         int               `json:"max_waiting,omitempty"`
	MaxAckPending      int               `json:"max_ack_pending,omitempty"`
	FlowControl        bool              `json:"flow_control,omitempty"`
	HeadersOnly        bool              `json:"headers_only,omitempty"`
	MaxRequestBatch    int               `json:"max_batch,omitempty"`
	MaxRequestExpires  time.Duration     `json:"max_expires,omitempty"`
	MaxRequestMaxBytes int               `json:"max_bytes,omitempty"`
	DeliverSubject     string            `json:"deliver_subject,omitempty"`
	DeliverGroup       string            `json:"deliver_group,omitempty"`
	Heartbeat          time.Duration     `json:"idle_heartbeat,omitempty"`
	InactiveThreshold  time.Duration     `json:"inactive_threshold,omitempty"`
	Replicas           int               `json:"num_replicas"`
	MemoryStorage      bool              `json:"mem_storage,omitempty"`
	Direct             bool              `json:"direct,omitempty"`
	Sourcing           bool              `json:"sourcing,omitempty"`
	Metadata           map[string]string `json:"metadata,omitempty"`
	PauseUntil         *time.Time        `json:"pause_until,omitempty"`
	PriorityGroups     []string          `json:"priority_groups,omitempty"`
	PriorityPolicy     PriorityPolicy    `json:"priority_policy,omitempty"`
	PinnedTTL          time.Duration     `json:"priority_timeout,omitempty"`
}

// CreateConsumerRequest is the body of CONSUMER.CREATE and DURABLE.CREATE.
type CreateConsumerRequest struct {
	Stream   string          `json:"stream_name"`
	Config   *ConsumerConfig `json:"config"`
	Action   string          `json:"action"`
	Pedantic bool            `json:"pedantic,omitempty"`
}

// SequenceInfo is a consumer/stream sequence pair with its last activity.
type SequenceInfo struct {
	Consumer uint64     `json:"consumer_seq"`
	Stream   uint64     `json:"stream_seq"`
	Last     *time.Time `json:"last_active,omitempty"`
}

// PriorityGroupState is the state of one priority group.
type PriorityGroupState struct {
	Group          string    `json:"group"`
	PinnedClientID string    `json:"pinned_client_id,omitempty"`
	PinnedTS       time.Time `json:"pinned_ts,omitempty"`
}

// ConsumerInfo describes a consumer and its state.
type ConsumerInfo struct {
	Stream         string               `json:"stream_name"`
	Name           string               `json:"name"`
	Created        time.Time            `json:"created"`
	Config         *ConsumerConfig      `json:"config,omitempty"`
	Delivered      SequenceInfo         `json:"delivered"`
	AckFloor       SequenceInfo         `json:"ack_floor"`
	NumAckPending  int                  `json:"num_ack_pending"`
	NumRedelivered int                  `json:"num_redelivered"`
	NumWaiting     int                  `json:"num_waiting"`
	NumPending     uint64               `json:"num_pending"`
	Cluster        *ClusterInfo         `json:"cluster,omitempty"`
	PushBound      bool                 `json:"push_bound,omitempty"`
	Paused         bool                 `json:"paused,omitempty"`
	PauseRemaining time.Duration        `json:"pause_remaining,omitempty"`
	TimeStamp      time.Time            `json:"ts"`
	PriorityGroups []PriorityGroupState `json:"priority_groups,omitempty"`
}

// JSApiConsumerCreateResponse answers CONSUMER.CREATE.
type JSApiConsumerCreateResponse struct {
	ApiResponse
	*ConsumerInfo
}

// JSApiConsumerInfoResponse answers CONSUMER.INFO.
type JSApiConsumerInfoResponse struct {
	ApiResponse
	*ConsumerInfo
}

// JSApiConsumerNamesResponse answers CONSUMER.NAMES.
type JSApiConsumerNamesResponse struct {
	ApiResponse
	ApiPaged
	Consumers []string `json:"consumers"`
}

// JSApiConsumerListResponse answers CONSUMER.LIST.
type JSApiConsumerListResponse struct {
	ApiResponse
	ApiPaged
	Consumers []*ConsumerInfo   `json:"consumers"`
	Missing   []string          `json:"missing,omitempty"`
	Offline   map[string]string `json:"offline,omitempty"`
}

// JSApiConsumerPauseRequest is the body of CONSUMER.PAUSE.
type JSApiConsumerPauseRequest struct {
	PauseUntil time.Time `json:"pause_until,omitempty"`
}

// JSApiConsumerPauseResponse answers CONSUMER.PAUSE.
type JSApiConsumerPauseResponse struct {
	ApiResponse
	Paused         bool          `json:"paused"`
	PauseUntil     time.Time     `json:"pause_until"`
	PauseRemaining time.Duration `json:"pause_remaining,omitempty"`
}

// JSApiConsumerUnpinRequest is the body of CONSUMER.UNPIN.
type JSApiConsumerUnpinRequest struct {
	Group string `json:"group"`
}

// JSApiConsumerResetRequest is the body of CONSUMER.RESET (empty: back
// to the ack floor).
type JSApiConsumerResetRequest struct {
	Seq uint64 `json:"seq,omitempty"`
}

// JSApiConsumerResetResponse answers CONSUMER.RESET: the consumer's info
// and the sequence it restarts from.
type JSApiConsumerResetResponse struct {
	ApiResponse
	*ConsumerInfo
	ResetSeq uint64 `json:"reset_seq"`
}

// JSConsumerGroupPinnedAdvisory reports a client pinned to a priority group.
type JSConsumerGroupPinnedAdvisory struct {
	TypedEvent
	Account        string `json:"account,omitempty"`
	Stream         string `json:"stream"`
	Consumer       string `json:"consumer"`
	Domain         string `json:"domain,omitempty"`
	Group          string `json:"group"`
	PinnedClientID string `json:"pinned_id"`
}

// JSConsumerGroupUnpinnedAdvisory reports a pin lost ("timeout" or "admin").
type JSConsumerGroupUnpinnedAdvisory struct {
	TypedEvent
	Account  string `json:"account,omitempty"`
	Stream   string `json:"stream"`
	Consumer string `json:"consumer"`
	Domain   string `json:"domain,omitempty"`
	Group    string `json:"group"`
	Reason   string `json:"reason"`
}

// JSApiConsumerGetNextRequest is a pull request (CONSUMER.MSG.NEXT).
type JSApiConsumerGetNextRequest struct {
	Expires       time.Duration `json:"expires,omitempty"`
	Batch         int           `json:"batch,omitempty"`
	MaxBytes      int           `json:"max_bytes,omitempty"`
	NoWait        bool          `json:"no_wait,omitempty"`
	Heartbeat     time.Duration `json:"idle_heartbeat,omitempty"`
	Group         string        `json:"group,omitempty"`
	MinPending    int64         `json:"min_pending,omitempty"`
	MinAckPending int64         `json:"min_ack_pending,omitempty"`
	ID            string        `json:"id,omitempty"`
	Priority      int           `json:"priority,omitempty"`
}

// Consumer advisory and metric types.
const (
	JSConsumerActionAdvisoryType = "io.nats.jetstream.advisory.v1.consumer_action"
	JSConsumerPauseAdvisoryType  = "io.nats.jetstream.advisory.v1.consumer_pause"
	JSMaxDeliverAdvisoryType     = "io.nats.jetstream.advisory.v1.max_deliver"
	JSNakAdvisoryType            = "io.nats.jetstream.advisory.v1.nak"
	JSTerminatedAdvisoryType     = "io.nats.jetstream.advisory.v1.terminated"
	JSAckMetricType              = "io.nats.jetstream.metric.v1.consumer_ack"
	JSPinnedAdvisoryType         = "io.nats.jetstream.advisory.v1.consumer_group_pinned"
	JSUnpinnedAdvisoryType       = "io.nats.jetstream.advisory.v1.consumer_group_unpinned"
)

// JSConsumerActionAdvisory reports a consumer created or deleted.
type JSConsumerActionAdvisory struct {
	TypedEvent
	Stream   string          `json:"stream"`
	Consumer string          `json:"consumer"`
	Action   string          `json:"action"`
	Config   *ConsumerConfig `json:"config,omitempty"`
	Domain   string          `json:"domain,omitempty"`
}

// JSConsumerPauseAdvisory reports a consumer paused or resumed.
type JSConsumerPauseAdvisory struct {
	TypedEvent
	Stream     string    `json:"stream"`
	Consumer   string    `json:"consumer"`
	Paused     bool      `json:"paused"`
	PauseUntil time.Time `json:"pause_until,omitempty"`
	Domain     string    `json:"domain,omitempty"`
}

// JSConsumerDeliveryExceededAdvisory reports a message that reached max_deliver.
type JSConsumerDeliveryExceededAdvisory struct {
	TypedEvent
	Stream     string `json:"stream"`
	Consumer   string `json:"consumer"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
	Domain     string `json:"domain,omitempty"`
}

// JSConsumerDeliveryNakAdvisory reports a NAK.
type JSConsumerDeliveryNakAdvisory struct {
	TypedEvent
	Stream      string `json:"stream"`
	Consumer    string `json:"consumer"`
	ConsumerSeq uint64 `json:"consumer_seq"`
	StreamSeq   uint64 `json:"stream_seq"`
	Deliveries  uint64 `json:"deliveries"`
	Domain      string `json:"domain,omitempty"`
}

// JSConsumerDeliveryTerminatedAdvisory reports a +TERM.
type JSConsumerDeliveryTerminatedAdvisory struct {
	TypedEvent
	Stream      string `json:"stream"`
	Consumer    string `json:"consumer"`
	ConsumerSeq uint64 `json:"consumer_seq"`
	StreamSeq   uint64 `json:"stream_seq"`
	Deliveries  uint64 `json:"deliveries"`
	Reason      string `json:"reason,omitempty"`
	Domain      string `json:"domain,omitempty"`
}

// JSConsumerAckMetric is a sampled ack (sample_freq).
type JSConsumerAckMetric struct {
	TypedEvent
	Stream      string `json:"stream"`
	Consumer    string `json:"consumer"`
	ConsumerSeq uint64 `json:"consumer_seq"`
	StreamSeq   uint64 `json:"stream_seq"`
	Delay       int64  `json:"ack_time"`
	Deliveries  uint64 `json:"deliveries"`
	Domain      string `json:"domain,omitempty"`
}
