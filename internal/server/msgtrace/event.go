package msgtrace

import (
	"time"

	"github.com/sluicehq/sluice/pkg/api"
)

// Header names, as nats-server spells them.
const (
	DestHeader          = "Nats-Trace-Dest"
	OnlyHeader          = "Nats-Trace-Only"
	HopHeader           = "Nats-Trace-Hop"
	OriginAccountHeader = "Nats-Trace-Origin-Account"
	TraceParentHeader   = "traceparent"
	AcceptEncoding      = "Accept-Encoding"
	ContentEncoding     = "Content-Encoding"
	// DestDisabled replaces the destination where tracing must stop (an
	// import that does not allow it); it is not a valid subject, so nothing
	// downstream traces the message again.
	DestDisabled = "trace disabled"
)

// Step types in Event.Events.
const (
	TypeIngress        = "in"
	TypeSubjectMapping = "sm"
	TypeStreamExport   = "se"
	TypeServiceImport  = "si"
	TypeJetStream      = "js"
	TypeEgress         = "eg"
)

// Connection kinds, as nats-server numbers them.
const (
	KindClient = 0
	KindRouter = 1
)

// Reasons an egress did not deliver, in nats-server's words.
const (
	ErrNoEcho          = "Not delivered because of no echo"
	ErrPubViolation    = "Not delivered because publish denied for this subject"
	ErrSubDeny         = "Not delivered because subscription denies this subject"
	ErrSubClosed       = "Not delivered because subscription is closed"
	ErrClientClosed    = "Not delivered because client is closed"
	ErrAutoSubExceeded = "Not delivered because auto-unsubscribe exceeded"
	ErrSlowConsumer    = "Not delivered because fast producer not stalled and consumer is slow"
	ErrOnlyNoSupport   = "Not delivered because remote does not support message tracing"
	ErrNoSupport       = "Message delivered but remote does not support message tracing so no trace event generated from there"
)

// Event is the document published to the trace destination.
type Event struct {
	Server  api.EventServer `json:"server"`
	Request Request         `json:"request"`
	Hops    int             `json:"hops,omitempty"`
	Events  []any           `json:"events"`
}

// Request describes the traced message: its headers, names in the case
// the publisher used, and its size.
type Request struct {
	Header  map[string][]string `json:"header,omitempty"`
	MsgSize int                 `json:"msgsize,omitempty"`
}

// Base is what every step has.
type Base struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"ts"`
}

// Ingress is the first step: where the message came in.
type Ingress struct {
	Base
	Kind    int    `json:"kind"`
	CID     uint64 `json:"cid"`
	Name    string `json:"name,omitempty"`
	Account string `json:"acc"`
	Subject string `json:"subj"`
	Error   string `json:"error,omitempty"`
}

// SubjectMapping records the subject an account mapping chose.
type SubjectMapping struct {
	Base
	MappedTo string `json:"to"`
}

// StreamExport records the message entering an importing account.
type StreamExport struct {
	Base
	Account string `json:"acc"`
	To      string `json:"to"`
}

// ServiceImport records a request entering the exporting account.
type ServiceImport struct {
	Base
	Account string `json:"acc"`
	From    string `json:"from"`
	To      string `json:"to"`
}

// JetStream records a stream taking (or, trace-only, not taking) it.
type JetStream struct {
	Base
	Stream     string `json:"stream"`
	Subject    string `json:"subject,omitempty"`
	NoInterest bool   `json:"nointerest,omitempty"`
	Error      string `json:"error,omitempty"`
}

// Egress records one delivery, or why it did not happen.
type Egress struct {
	Base
	Kind         int    `json:"kind"`
	CID          uint64 `json:"cid"`
	Name         string `json:"name,omitempty"`
	Hop          string `json:"hop,omitempty"`
	Account      string `json:"acc,omitempty"`
	Subscription string `json:"sub,omitempty"`
	Queue        string `json:"queue,omitempty"`
	Error        string `json:"error,omitempty"`
}
