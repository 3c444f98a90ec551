package api

import "time"

// Stream snapshot (backup) and restore: $JS.API.STREAM.SNAPSHOT.<stream>
// and $JS.API.STREAM.RESTORE.<stream>.
const (
	JSApiStreamSnapshotType = JSApiPrefix + "stream_snapshot_response"
	JSApiStreamRestoreType  = JSApiPrefix + "stream_restore_response"

	JSSnapshotCreatedAdvisoryType  = "io.nats.jetstream.advisory.v1.snapshot_create"
	JSSnapshotCompleteAdvisoryType = "io.nats.jetstream.advisory.v1.snapshot_complete"
	JSRestoreCreateAdvisoryType    = "io.nats.jetstream.advisory.v1.restore_create"
	JSRestoreCompleteAdvisoryType  = "io.nats.jetstream.advisory.v1.restore_complete"
)

// JSApiStreamSnapshotRequest asks for a stream's archive, sent in chunks
// to DeliverSubject.
type JSApiStreamSnapshotRequest struct {
	DeliverSubject string `json:"deliver_subject"`
	NoConsumers    bool   `json:"no_consumers,omitempty"`
	ChunkSize      int    `json:"chunk_size,omitempty"`
	WindowSize     int    `json:"window_size,omitempty"`
	CheckMsgs      bool   `json:"jsck,omitempty"`
}

// JSApiStreamSnapshotResponse is the config and state the archive holds.
type JSApiStreamSnapshotResponse struct {
	ApiResponse
	Config *StreamConfig `json:"config,omitempty"`
	State  *StreamState  `json:"state,omitempty"`
}

// JSApiStreamRestoreRequest starts a restore (backup.json of a backup).
type JSApiStreamRestoreRequest struct {
	Config StreamConfig `json:"config"`
	State  StreamState  `json:"state"`
}

// JSApiStreamRestoreResponse names the subject to send the chunks to.
type JSApiStreamRestoreResponse struct {
	ApiResponse
	DeliverSubject string `json:"deliver_subject"`
}

// JSSnapshotCreateAdvisory reports a snapshot started.
type JSSnapshotCreateAdvisory struct {
	TypedEvent
	Stream string      `json:"stream"`
	State  StreamState `json:"state"`
	Client *ClientInfo `json:"client"`
	Domain string      `json:"domain,omitempty"`
}

// JSSnapshotCompleteAdvisory reports a snapshot finished (or failed).
type JSSnapshotCompleteAdvisory struct {
	TypedEvent
	Stream string      `json:"stream"`
	Start  time.Time   `json:"start"`
	End    time.Time   `json:"end"`
	Client *ClientInfo `json:"client"`
	Domain string      `json:"domain,omitempty"`
	Error  string      `json:"error,omitempty"`
}

// JSRestoreCreateAdvisory reports a restore started.
type JSRestoreCreateAdvisory struct {
	TypedEvent
	Stream string      `json:"stream"`
	Client *ClientInfo `json:"client"`
	Domain string      `json:"domain,omitempty"`
}

// JSRestoreCompleteAdvisory reports a restore finished.
type JSRestoreCompleteAdvisory struct {
	TypedEvent
	Stream string      `json:"stream"`
	Start  time.Time   `json:"start"`
	End    time.Time   `json:"end"`
	Bytes  int64       `json:"bytes"`
	Client *ClientInfo `json:"client"`
	Domain string      `json:"domain,omitempty"`
}
