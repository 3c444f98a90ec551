package api

import "time"

// JetStream advisory types.
const (
	JSStreamActionAdvisoryType = "io.nats.jetstream.advisory.v1.stream_action"
	JSAPIAuditType             = "io.nats.jetstream.advisory.v1.api_audit"
)

// TypedEvent is the common head of JetStream advisories.
type TypedEvent struct {
	Type string    `json:"type"`
	ID   string    `json:"id"`
	Time time.Time `json:"timestamp"`
}

// JSStreamActionAdvisory reports a stream created, updated or deleted.
type JSStreamActionAdvisory struct {
	TypedEvent
	Stream   string `json:"stream"`
	Action   string `json:"action"`
	Template string `json:"template,omitempty"`
	Domain   string `json:"domain,omitempty"`
}

// JSAPIAudit reports one $JS.API request and its response.
type JSAPIAudit struct {
	TypedEvent
	Server   string     `json:"server"`
	Client   ClientInfo `json:"client"`
	Subject  string     `json:"subject"`
	Request  string     `json:"request,omitempty"`
	Response string     `json:"response"`
	Domain   string     `json:"domain,omitempty"`
}
