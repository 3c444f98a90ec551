package protocol

import "errors"

// Parser errors. The caller maps them to the server's replies.
var (
	ErrUnknownOp      = errors.New("protocol: unknown protocol operation") // -ERR 'Unknown Protocol Operation', close
	ErrMaxControlLine = errors.New("protocol: maximum control line exceeded")
	ErrMaxPayload     = errors.New("protocol: maximum payload exceeded")
	ErrBadArgs        = errors.New("protocol: malformed arguments") // silent close
)

// Handler receives complete client operations. Slices are valid only for
// the duration of the call. A non-nil error stops parsing and is returned
// from Parse unchanged.
type Handler interface {
	ProcessConnect(arg []byte) error
	ProcessPub(subject, reply, payload []byte) error
	ProcessHPub(subject, reply []byte, hdrLen int, msg []byte) error
	ProcessSub(subject, queue, sid []byte) error
	ProcessUnsub(sid []byte, max int64) error
	ProcessPing() error
	ProcessPong() error
	ProcessInfo(arg []byte) error
	ProcessOK() error
	ProcessErr(arg []byte) error
}

// Parser is the client-protocol state machine for one connection.
type Parser struct {
	MaxControlLine int
	MaxPayload     int
	h              Handler
}

// NewParser returns a parser that calls h.
func NewParser(h Handler, maxControlLine, maxPayload int) *Parser {
	return &Parser{MaxControlLine: maxControlLine, MaxPayload: maxPayload, h: h}
}

// Parse consumes buf. State carries across calls.
func (p *Parser) Parse(buf []byte) error { panic("todo") }
