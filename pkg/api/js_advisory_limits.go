package api

// JSAdvisoryAPILimitReached is where a server reports API requests it
// dropped at request_queue_limit (in the system account).
const (
	JSAdvisoryAPILimitReached     = "$JS.EVENT.ADVISORY.API.LIMIT_REACHED"
	JSAPILimitReachedAdvisoryType = "io.nats.jetstream.advisory.v1.api_limit_reached"
)

// JSAPILimitReachedAdvisory reports API requests dropped because the
// server's API queue reached its limit.
type JSAPILimitReachedAdvisory struct {
	TypedEvent
	Server  string `json:"server"`
	Domain  string `json:"domain,omitempty"`
	Dropped int64  `json:"dropped"`
}
