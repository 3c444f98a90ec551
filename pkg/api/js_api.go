package api

import "time"

// JetStream API response types (the "type" field of every response).
const (
	JSApiPrefix                  = "io.nats.jetstream.api.v1."
	JSApiAccountInfoResponseType = JSApiPrefix + "account_info_response"
	JSApiStreamCreateType        = JSApiPrefix + "stream_create_response"
	JSApiStreamUpdateType        = JSApiPrefix + "stream_update_response"
	JSApiStreamDeleteType        = JSApiPrefix + "stream_delete_response"
	JSApiStreamInfoType          = JSApiPrefix + "stream_info_response"
	JSApiStreamNamesType         = JSApiPrefix + "stream_names_response"
	JSApiStreamListType          = JSApiPrefix + "stream_list_response"
	JSApiStreamPurgeType         = JSApiPrefix + "stream_purge_response"
	JSApiMsgGetType              = JSApiPrefix + "stream_msg_get_response"
	JSApiMsgDeleteType           = JSApiPrefix + "stream_msg_delete_response"
	JSApiStreamStepdownType      = JSApiPrefix + "stream_leader_stepdown_response"
	JSApiStreamRemovePeerType    = JSApiPrefix + "stream_remove_peer_response"
)

// ApiResponse is the envelope every JetStream API response shares.
type ApiResponse struct {
	Type  string    `json:"type"`
	Error *ApiError `json:"error,omitempty"`
}

// ApiPaged are the paging fields of list responses.
type ApiPaged struct {
	Total  int `json:"total"`
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
}

// ApiPagedRequest asks for a page of a list.
type ApiPagedRequest struct {
	Offset int `json:"offset"`
}

// JetStreamAccountLimits are an account's (or tier's) JetStream limits.
type JetStreamAccountLimits struct {
	MaxMemory            int64 `json:"max_memory"`
	MaxStore             int64 `json:"max_storage"`
	MaxStreams           int   `json:"max_streams"`
	MaxConsumers         int   `json:"max_consumers"`
	MaxAckPending        int   `json:"max_ack_pending"`
	MemoryMaxStreamBytes int64 `json:"memory_max_stream_bytes"`
	StoreMaxStreamBytes  int64 `json:"storage_max_stream_bytes"`
	MaxBytesRequired     bool  `json:"max_bytes_required"`
}

// JetStreamTier is an account's usage and limits for one tier.
type JetStreamTier struct {
	Memory         uint64                 `json:"memory"`
	Store          uint64                 `json:"storage"`
	ReservedMemory uint64                 `json:"reserved_memory"`
	ReservedStore  uint64                 `json:"reserved_storage"`
	Streams        int                    `json:"streams"`
	Consumers      int                    `json:"consumers"`
	Limits         JetStreamAccountLimits `json:"limits"`
}

// JetStreamAccountStats is the body of $JS.API.INFO.
type JetStreamAccountStats struct {
	JetStreamTier
	Domain string                   `json:"domain,omitempty"`
	API    JetStreamAPIStats        `json:"api"`
	Tiers  map[string]JetStreamTier `json:"tiers,omitempty"`
}

// JSApiAccountInfoResponse answers $JS.API.INFO.
type JSApiAccountInfoResponse struct {
	ApiResponse
	*JetStreamAccountStats
}

// JSApiStreamCreateResponse answers STREAM.CREATE and STREAM.UPDATE.
type JSApiStreamCreateResponse struct {
	ApiResponse
	*StreamInfo
	DidCreate bool `json:"did_create,omitempty"`
}

// JSApiStreamInfoRequest refines STREAM.INFO.
type JSApiStreamInfoRequest struct {
	ApiPagedRequest
	DeletedDetails bool   `json:"deleted_details,omitempty"`
	SubjectsFilter string `json:"subjects_filter,omitempty"`
}

// JSApiStreamInfoResponse answers STREAM.INFO.
type JSApiStreamInfoResponse struct {
	ApiResponse
	ApiPaged
	*StreamInfo
}

// JSApiSuccessResponse answers DELETE, MSG.DELETE and stepdowns.
type JSApiSuccessResponse struct {
	ApiResponse
	Success bool `json:"success,omitempty"`
}

// JSApiStreamNamesRequest filters STREAM.NAMES and STREAM.LIST.
type JSApiStreamNamesRequest struct {
	ApiPagedRequest
	Subject string `json:"subject,omitempty"`
}

// JSApiStreamNamesResponse answers STREAM.NAMES.
type JSApiStreamNamesResponse struct {
	ApiResponse
	ApiPaged
	Streams []string `json:"streams"`
}

// JSApiStreamListResponse answers STREAM.LIST.
type JSApiStreamListResponse struct {
	ApiResponse
	ApiPaged
	Streams []*StreamInfo     `json:"streams"`
	Missing []string          `json:"missing,omitempty"`
	Offline map[string]string `json:"offline,omitempty"`
}

// JSApiStreamPurgeRequest narrows STREAM.PURGE.
type JSApiStreamPurgeRequest struct {
	Sequence uint64 `json:"seq,omitempty"`
	Subject  string `json:"filter,omitempty"`
	Keep     uint64 `json:"keep,omitempty"`
}

// JSApiStreamPurgeResponse answers STREAM.PURGE.
type JSApiStreamPurgeResponse struct {
	ApiResponse
	Success bool   `json:"success,omitempty"`
	Purged  uint64 `json:"purged"`
}

// JSApiMsgDeleteRequest is the body of STREAM.MSG.DELETE.
type JSApiMsgDeleteRequest struct {
	Seq     uint64 `json:"seq"`
	NoErase bool   `json:"no_erase,omitempty"`
}

// JSApiMsgGetRequest is the body of STREAM.MSG.GET and DIRECT.GET.
type JSApiMsgGetRequest struct {
	Seq          uint64     `json:"seq,omitempty"`
	LastFor      string     `json:"last_by_subj,omitempty"`
	NextFor      string     `json:"next_by_subj,omitempty"`
	Batch        int        `json:"batch,omitempty"`
	MaxBytes     int        `json:"max_bytes,omitempty"`
	StartTime    *time.Time `json:"start_time,omitempty"`
	MultiLastFor []string   `json:"multi_last,omitempty"`
	UpToSeq      uint64     `json:"up_to_seq,omitempty"`
	UpToTime     *time.Time `json:"up_to_time,omitempty"`
	NoHeaders    bool       `json:"no_hdr,omitempty"`
}

// JSApiMsgGetResponse answers STREAM.MSG.GET.
type JSApiMsgGetResponse struct {
	ApiResponse
	Message *StoredMsg `json:"message,omitempty"`
}
