package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// Parser errors. The caller maps them to the server's replies.
var (
	ErrUnknownOp      = errors.New("protocol: unknown protocol operation") // -ERR 'Unknown Protocol Operation', close
	ErrMaxControlLine = errors.New("protocol: maximum control line exceeded")
	ErrMaxPayload     = errors.New("protocol: maximum payload exceeded")
	ErrBadArgs        = errors.New("protocol: malformed arguments") // silent close

	// ErrConnectRequired is returned when AwaitConnect is set and an
	// operation other than CONNECT begins; the server answers
	// -ERR 'Authorization Violation' and closes.
	ErrConnectRequired = errors.New("protocol: first operation must be CONNECT")
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

// OversizeObserver is told of an HPUB refused for its size, with as much
// of its header block as had arrived, before the parser fails with
// ErrMaxPayload: a traced message is reported even then.
type OversizeObserver interface {
	OversizeHPub(subject []byte, size int, hdr []byte)
}

// state is where the parser stands in the byte stream; it survives
// between Parse calls.
type state uint8

const (
	stOp        state = iota // reading an operation name; p.n bytes matched
	stOpBlank                // after the name; p.n is 1 once a blank was seen
	stArg                    // reading the arguments up to '\n'
	stLineEnd                // PING, PONG, +OK: ignoring the rest of the line
	stPayload                // copying a split payload into msgBuf
	stPayloadCR              // expecting '\r' after the payload
	stPayloadLF              // expecting '\n' after the payload
)

type opcode uint8

const (
	opNone opcode = iota
	opConnect
	opPub
	opHPub
	opSub
	opUnsub
	opPing
	opPong
	opInfo
	opOK
	opErr
)

// opNames are lower case. Bytes after the first are matched by folding
// the input with 0x20, which maps only letters onto letters.
var opNames = [...]string{
	opConnect: "connect",
	opPub:     "pub",
	opHPub:    "hpub",
	opSub:     "sub",
	opUnsub:   "unsub",
	opPing:    "ping",
	opPong:    "pong",
	opInfo:    "info",
	opOK:      "+ok",
	opErr:     "-err",
}

// firstByte picks the operation from its first byte; 'P' starts PUB and
// is corrected to PING or PONG by the second.
var firstByte = [256]opcode{
	'C': opConnect, 'c': opConnect,
	'P': opPub, 'p': opPub,
	'H': opHPub, 'h': opHPub,
	'S': opSub, 's': opSub,
	'U': opUnsub, 'u': opUnsub,
	'I': opInfo, 'i': opInfo,
	'+': opOK,
	'-': opErr,
}

// afterName is the state entered once an operation's name is complete.
// Like nats-server, CONNECT and INFO need no blank before their argument
// (they enter stOpBlank as if one was seen) and PING, PONG and +OK
// ignore anything up to the newline.
var afterName = [...]struct {
	state state
	n     int
}{
	opConnect: {stOpBlank, 1},
	opPub:     {stOpBlank, 0},
	opHPub:    {stOpBlank, 0},
	opSub:     {stOpBlank, 0},
	opUnsub:   {stOpBlank, 0},
	opPing:    {stLineEnd, 0},
	opPong:    {stLineEnd, 0},
	opInfo:    {stOpBlank, 1},
	opOK:      {stLineEnd, 0},
	opErr:     {stOpBlank, 0},
}

// Four-byte prefixes of the common operations as little-endian words,
// for the fast path in Parse.
const (
	wordPubSp = 'p' | 'u'<<8 | 'b'<<16 | ' '<<24
	wordSubSp = 's' | 'u'<<8 | 'b'<<16 | ' '<<24
	wordHPub  = 'h' | 'p'<<8 | 'u'<<16 | 'b'<<24
	wordPing  = 'p' | 'i'<<8 | 'n'<<16 | 'g'<<24
	wordPong  = 'p' | 'o'<<8 | 'n'<<16 | 'g'<<24
)

const (
	// maxArgs is the most arguments any client operation takes (HPUB).
	maxArgs = 4
	// maxSizeDigits bounds size fields as nats-server does (999,999,999).
	maxSizeDigits = 9
	// maxKeptScratch is the largest scratch buffer kept after use, so one
	// huge split message does not pin memory for the connection's life.
	maxKeptScratch = 64 << 10
)

// Parser is the client-protocol state machine for one connection. It is
// not safe for concurrent use; one read loop owns it.
type Parser struct {
	// MaxControlLine bounds the argument part of a control line; <= 0
	// means no limit.
	MaxControlLine int
	// MaxPayload bounds the size announced by PUB and HPUB; <= 0 means no
	// limit.
	MaxPayload int
	// AwaitConnect, when set, makes any operation other than CONNECT fail
	// with ErrConnectRequired. The owner sets it while authentication is
	// required and clears it once a CONNECT has been accepted.
	AwaitConnect bool

	h     Handler
	state state
	op    opcode
	n     int // per state: name bytes matched, blank seen, bytes skipped

	// argBuf holds a control line split across calls, and then the
	// subject and reply of a message whose payload is split.
	argBuf []byte
	// msgBuf holds a payload split across calls.
	msgBuf []byte
	// given: msgBuf was handed over by TakePayload.
	given bool

	// The message being assembled in the payload states; subject and
	// reply point into argBuf.
	subject, reply []byte
	hdr, size      int
}

// NewParser returns a parser that calls h.
func NewParser(h Handler, maxControlLine, maxPayload int) *Parser {
	return &Parser{MaxControlLine: maxControlLine, MaxPayload: maxPayload, h: h}
}

// Parse consumes buf, calling the handler for each complete operation.
// State carries across calls, so an operation may be split anywhere. The
// parser keeps no reference to buf after returning.
func (p *Parser) Parse(buf []byte) error {
	i := 0
	for i < len(buf) {
		switch p.state {
		case stOp:
			// Fast path: the common operations by their first four bytes
			// (letters folded to lower case, the blank after PUB/SUB not).
			if p.n == 0 && len(buf)-i >= 4 && !p.AwaitConnect {
				w := binary.LittleEndian.Uint32(buf[i:])
				op, n := opNone, 0
				switch w | 0x00202020 {
				case wordPubSp:
					op, n = opPub, 1
				case wordSubSp:
					op, n = opSub, 1
				}
				switch w | 0x20202020 {
				case wordHPub:
					op = opHPub
				case wordPing:
					op = opPing
				case wordPong:
					op = opPong
				}
				if op != opNone {
					p.op, p.state, p.n = op, afterName[op].state, n
					i += 4
					continue
				}
			}
			// Match the name as far as buf goes, without going round the
			// outer loop per byte.
			for i < len(buf) {
				if err := p.nameByte(buf[i]); err != nil {
					return err
				}
				i++
				p.n++
				if p.n == len(opNames[p.op]) {
					next := afterName[p.op]
					p.state, p.n = next.state, next.n
					break
				}
			}

		case stOpBlank:
			if p.n == 0 {
				if b := buf[i]; b != ' ' && b != '\t' {
					return ErrUnknownOp
				}
				p.n = 1
				i++
			}
			for i < len(buf) && (buf[i] == ' ' || buf[i] == '\t') {
				i++
			}
			if i < len(buf) {
				p.state, p.n = stArg, 0
			}

		case stArg:
			rest := buf[i:]
			j := bytes.IndexByte(rest, '\n')
			if j < 0 {
				// The line ends in a later read; keep what we have unless
				// it is already too long (a final CR does not count).
				if p.overControlLine(len(p.argBuf) + len(trimCR(rest))) {
					return ErrMaxControlLine
				}
				p.argBuf = append(p.argBuf, rest...)
				return nil
			}
			line, held := rest[:j], false
			if len(p.argBuf) > 0 {
				p.argBuf = append(p.argBuf, line...)
				line, held = p.argBuf, true
			}
			line = trimCR(line)
			if p.overControlLine(len(line)) {
				return ErrMaxControlLine
			}
			var err error
			if i, err = p.processLine(line, held, buf, i+j+1); err != nil {
				return err
			}

		case stLineEnd:
			// nats-server ignores whatever follows PING, PONG and +OK up to
			// the newline ("PINGX" is a PING), however long: nothing is kept.
			j := bytes.IndexByte(buf[i:], '\n')
			if j < 0 {
				return nil
			}
			i += j + 1
			p.state, p.n = stOp, 0
			var err error
			switch p.op {
			case opPing:
				err = p.h.ProcessPing()
			case opPong:
				err = p.h.ProcessPong()
			default:
				err = p.h.ProcessOK()
			}
			if err != nil {
				return err
			}

		case stPayload:
			n := min(p.size-len(p.msgBuf), len(buf)-i)
			p.msgBuf = append(p.msgBuf, buf[i:i+n]...)
			i += n
			if len(p.msgBuf) == p.size {
				p.state = stPayloadCR
			}

		case stPayloadCR:
			if buf[i] != '\r' {
				return ErrUnknownOp
			}
			p.state = stPayloadLF
			i++

		case stPayloadLF:
			if buf[i] != '\n' {
				return ErrUnknownOp
			}
			i++
			err := p.deliver(p.subject, p.reply, p.hdr, p.msgBuf)
			p.reset()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// nameByte matches byte p.n of an operation name.
func (p *Parser) nameByte(b byte) error {
	if p.n == 0 {
		if p.AwaitConnect && b != 'C' && b != 'c' {
			return ErrConnectRequired
		}
		if p.op = firstByte[b]; p.op == opNone {
			return ErrUnknownOp
		}
		return nil
	}
	if b|0x20 == opNames[p.op][p.n] {
		return nil
	}
	if p.n == 1 && p.op == opPub {
		switch b | 0x20 {
		case 'i':
			p.op = opPing
			return nil
		case 'o':
			p.op = opPong
			return nil
		}
	}
	return ErrUnknownOp
}

// overControlLine reports whether an argument part of n bytes breaks
// MaxControlLine.
func (p *Parser) overControlLine(n int) bool {
	return p.MaxControlLine > 0 && n > p.MaxControlLine
}

// processLine handles a complete control line (without "\r\n"). held says
// line lives in argBuf rather than buf; next indexes buf after the '\n'.
// It returns where parsing continues in buf.
func (p *Parser) processLine(line []byte, held bool, buf []byte, next int) (int, error) {
	var err error
	switch p.op {
	case opPub, opHPub:
		return p.processMsgLine(line, held, buf, next)
	case opSub:
		var a [maxArgs][]byte
		switch splitArgs(line, &a) {
		case 2:
			err = p.h.ProcessSub(a[0], nil, a[1])
		case 3:
			err = p.h.ProcessSub(a[0], a[1], a[2])
		default:
			err = ErrBadArgs
		}
	case opUnsub:
		var a [maxArgs][]byte
		switch splitArgs(line, &a) {
		case 1:
			err = p.h.ProcessUnsub(a[0], 0)
		case 2:
			// nats-server treats an unreadable max as "remove now".
			err = p.h.ProcessUnsub(a[0], int64(max(parseSize(a[1]), 0)))
		default:
			err = ErrBadArgs
		}
	case opConnect:
		err = p.h.ProcessConnect(line)
	case opInfo:
		err = p.h.ProcessInfo(line)
	case opErr:
		err = p.h.ProcessErr(line)
	}
	p.reset()
	return next, err
}

// processMsgLine reads the arguments of PUB or HPUB and delivers the
// message at once when buf holds all of it; otherwise it keeps subject
// and reply in argBuf and switches to the payload states.
func (p *Parser) processMsgLine(line []byte, held bool, buf []byte, next int) (int, error) {
	var a [maxArgs][]byte
	var subject, reply []byte
	hdr, size := 0, 0
	n := splitArgs(line, &a)
	if p.op == opPub {
		switch n {
		case 2:
			subject, size = a[0], parseSize(a[1])
		case 3:
			subject, reply, size = a[0], a[1], parseSize(a[2])
		default:
			return next, ErrBadArgs
		}
	} else {
		switch n {
		case 3:
			subject, hdr, size = a[0], parseSize(a[1]), parseSize(a[2])
		case 4:
			subject, reply, hdr, size = a[0], a[1], parseSize(a[2]), parseSize(a[3])
		default:
			return next, ErrBadArgs
		}
		if hdr < 0 || hdr > size {
			return next, ErrBadArgs
		}
	}
	if size < 0 {
		return next, ErrBadArgs
	}
	if p.MaxPayload > 0 && size > p.MaxPayload {
		if o, ok := p.h.(OversizeObserver); ok && hdr > 0 && next < len(buf) {
			o.OversizeHPub(subject, size, buf[next:min(len(buf), next+hdr)])
		}
		return next, ErrMaxPayload
	}

	if len(buf)-next >= size+2 {
		end := next + size
		if buf[end] != '\r' || buf[end+1] != '\n' {
			return next, ErrUnknownOp
		}
		err := p.deliver(subject, reply, hdr, buf[next:end])
		p.reset()
		return end + 2, err
	}

	// The payload continues in a later read: nothing may point into buf.
	if !held {
		p.argBuf = append(p.argBuf[:0], subject...)
		p.argBuf = append(p.argBuf, reply...)
		subject = p.argBuf[:len(subject)]
		if reply != nil {
			reply = p.argBuf[len(subject):]
		}
	}
	p.subject, p.reply, p.hdr, p.size = subject, reply, hdr, size
	if cap(p.msgBuf) < size {
		p.msgBuf = make([]byte, 0, size)
	} else {
		p.msgBuf = p.msgBuf[:0]
	}
	p.state = stPayload
	if size == 0 {
		p.state = stPayloadCR
	}
	return next, nil
}

func (p *Parser) deliver(subject, reply []byte, hdr int, msg []byte) error {
	if p.op == opHPub {
		return p.h.ProcessHPub(subject, reply, hdr, msg)
	}
	return p.h.ProcessPub(subject, reply, msg)
}

// PayloadSpace is where the rest of a large payload split across reads
// goes (nil when none is being assembled): a reader may fill it directly
// and call PayloadRead, which saves copying it from its read buffer.
func (p *Parser) PayloadSpace() []byte {
	if p.state != stPayload || cap(p.msgBuf) <= maxKeptScratch {
		return nil
	}
	return p.msgBuf[len(p.msgBuf):p.size]
}

// PayloadRead records that n bytes were read into PayloadSpace.
func (p *Parser) PayloadRead(n int) {
	p.msgBuf = p.msgBuf[:len(p.msgBuf)+n]
	if len(p.msgBuf) == p.size {
		p.state = stPayloadCR
	}
}

// TakePayload reports whether msg, the message being delivered, is a
// buffer the parser will not use again (a payload too big to keep as
// scratch), and hands it over: the caller may keep it instead of copying
// it. It says yes once per message; later takers must copy.
func (p *Parser) TakePayload(msg []byte) bool {
	if p.given || p.state != stPayloadLF || cap(p.msgBuf) <= maxKeptScratch ||
		len(msg) != len(p.msgBuf) || len(msg) == 0 || &msg[0] != &p.msgBuf[0] {
		return false
	}
	p.given = true
	return true
}

// reset returns to the start of an operation, keeping modest scratch
// buffers for reuse.
func (p *Parser) reset() {
	p.state, p.n = stOp, 0
	p.subject, p.reply = nil, nil
	p.argBuf = recycle(p.argBuf)
	if p.given {
		p.msgBuf, p.given = nil, false
	}
	p.msgBuf = recycle(p.msgBuf)
}

func recycle(b []byte) []byte {
	if cap(b) > maxKeptScratch {
		return nil
	}
	return b[:0]
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}
