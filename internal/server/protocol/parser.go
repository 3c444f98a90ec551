package protocol

import (
	"bytes"
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

// state is where the parser stands in the byte stream; it survives
// between Parse calls.
type state uint8

const (
	stOpStart   state = iota // expecting the first byte of an operation
	stOpP                    // after 'P': PUB, PING or PONG
	stOpName                 // matching the rest of opNames[op]
	stOpSep                  // a blank must follow the name
	stOpBlanks               // skipping blanks before the arguments
	stArg                    // reading the arguments up to '\n'
	stLineEnd                // PING, PONG, +OK: ignoring the rest of the line
	stPayload                // copying a split payload into msgBuf
	stPayloadCR              // expecting '\r' after the payload
	stPayloadLF              // expecting '\n' after the payload
)

type opcode uint8

const (
	opConnect opcode = iota
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

// opNames are lower case; the first byte is matched in stOpStart, the
// rest by folding the input byte with 0x20 (only letters follow).
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

// afterName is the state entered once an operation's name is complete.
// Like nats-server, CONNECT and INFO need no blank before their argument
// and PING, PONG and +OK ignore anything up to the newline.
var afterName = [...]state{
	opConnect: stOpBlanks,
	opPub:     stOpSep,
	opHPub:    stOpSep,
	opSub:     stOpSep,
	opUnsub:   stOpSep,
	opPing:    stLineEnd,
	opPong:    stLineEnd,
	opInfo:    stOpBlanks,
	opOK:      stLineEnd,
	opErr:     stOpSep,
}

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
	n     int // name bytes matched, or bytes skipped in stLineEnd

	// argBuf holds a control line split across calls, and then the
	// subject and reply of a message whose payload is split.
	argBuf []byte
	// msgBuf holds a payload split across calls.
	msgBuf []byte

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
		b := buf[i]
		switch p.state {
		case stOpStart:
			if p.AwaitConnect && b != 'C' && b != 'c' {
				return ErrConnectRequired
			}
			switch b {
			case 'P', 'p':
				p.state = stOpP
			case 'H', 'h':
				p.startName(opHPub)
			case 'S', 's':
				p.startName(opSub)
			case 'U', 'u':
				p.startName(opUnsub)
			case 'C', 'c':
				p.startName(opConnect)
			case 'I', 'i':
				p.startName(opInfo)
			case '+':
				p.startName(opOK)
			case '-':
				p.startName(opErr)
			default:
				return ErrUnknownOp
			}
			i++

		case stOpP:
			switch b {
			case 'U', 'u':
				p.op = opPub
			case 'I', 'i':
				p.op = opPing
			case 'O', 'o':
				p.op = opPong
			default:
				return ErrUnknownOp
			}
			p.n, p.state = 2, stOpName
			i++

		case stOpName:
			name := opNames[p.op]
			if b|0x20 != name[p.n] {
				return ErrUnknownOp
			}
			p.n++
			if p.n == len(name) {
				p.n, p.state = 0, afterName[p.op]
			}
			i++

		case stOpSep:
			if b != ' ' && b != '\t' {
				return ErrUnknownOp
			}
			p.state = stOpBlanks
			i++

		case stOpBlanks:
			if b == ' ' || b == '\t' {
				i++
				continue
			}
			p.state = stArg

		case stArg:
			rest := buf[i:]
			j := bytes.IndexByte(rest, '\n')
			if j < 0 {
				// Keep what we have; the line ends in a later read.
				p.argBuf = append(p.argBuf, rest...)
				if p.overControlLine(len(trimCR(p.argBuf))) {
					return ErrMaxControlLine
				}
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
			i++
			switch b {
			case '\n':
				p.n, p.state = 0, stOpStart
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
			case '\r':
			default:
				// nats-server ignores trailing bytes here ("PINGX" is a
				// PING); bound them so they cannot run on forever.
				p.n++
				if p.overControlLine(p.n) {
					return ErrMaxControlLine
				}
			}

		case stPayload:
			n := min(p.size-len(p.msgBuf), len(buf)-i)
			p.msgBuf = append(p.msgBuf, buf[i:i+n]...)
			i += n
			if len(p.msgBuf) == p.size {
				p.state = stPayloadCR
			}

		case stPayloadCR:
			if b != '\r' {
				return ErrUnknownOp
			}
			p.state = stPayloadLF
			i++

		case stPayloadLF:
			if b != '\n' {
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

func (p *Parser) startName(op opcode) {
	p.op, p.n, p.state = op, 1, stOpName
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

// reset returns to the start of an operation, keeping modest scratch
// buffers for reuse.
func (p *Parser) reset() {
	p.state = stOpStart
	p.subject, p.reply = nil, nil
	p.argBuf = recycle(p.argBuf)
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

// splitArgs splits line at blanks into a and returns the count, or
// maxArgs+1 when there are more. '\r' counts as a blank so a stray one
// never lands inside a subject, sid or size.
func splitArgs(line []byte, a *[maxArgs][]byte) int {
	n, start := 0, -1
	for i, b := range line {
		if b == ' ' || b == '\t' || b == '\r' {
			if start >= 0 {
				if n == maxArgs {
					return maxArgs + 1
				}
				a[n], n, start = line[start:i], n+1, -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		if n == maxArgs {
			return maxArgs + 1
		}
		a[n], n = line[start:], n+1
	}
	return n
}

// parseSize reads a non-negative decimal of at most maxSizeDigits digits,
// or returns -1.
func parseSize(d []byte) int {
	if len(d) == 0 || len(d) > maxSizeDigits {
		return -1
	}
	n := 0
	for _, c := range d {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}
