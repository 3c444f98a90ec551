package websocket

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/flate"

	"github.com/sluicehq/sluice/internal/server/sockio"
)

// ProtocolError is a violation of RFC 6455 by the client. A close frame
// with status 1002 and the same text has been sent when Read returns it.
type ProtocolError struct{ Msg string }

func (e *ProtocolError) Error() string { return "websocket protocol error: " + e.Msg }

// ErrMessageTooBig: a compressed message, or what it inflates to, is
// over the limit; a close frame with status 1009 has been sent.
var ErrMessageTooBig = errors.New("websocket message too big")

// Cookies are the values of the configured cookies the upgrade request
// carried; empty when absent.
type Cookies struct{ JWT, Username, Password, Token string }

// Conn is an upgraded WebSocket connection seen as a byte stream. Read is
// for one goroutine (the read loop); Write/WriteBuffers for one other (the
// writer); Close and SetCloseReason for any.
type Conn struct {
	raw  net.Conn // what frames travel on: TLS or TCP
	sock net.Conn // the TCP socket, closed without TLS close_notify
	// Without TLS: the socket read and written with raw syscalls
	// (package sockio); nil otherwise, and raw is used.
	srd io.Reader
	swr *sockio.Writer

	cookies  Cookies
	tls      *tls.ConnectionState
	remote   net.Addr
	compress bool // permessage-deflate negotiated
	browser  bool // frames limited to browserFrameSize
	noFrag   bool // compressed messages go out in one frame (Safari)
	masked   bool // client frames must be masked
	maxMsg   int  // limit of a message after inflating (max_payload)

	rd reader

	wmu       sync.Mutex // serializes frames on raw: data from the writer, control replies from the reader
	whdr      []byte     // header scratch, under wmu
	closeSent bool       // under wmu
	closed    atomic.Bool
	reason    atomic.Pointer[string]
}

// reader is the decoding state, owned by the goroutine calling Read.
type reader struct {
	hdr      [maxHeaderSize]byte
	hn       int // header bytes gathered
	inFrame  bool
	op       byte
	fin      bool
	rem      uint64
	key      [4]byte
	kpos     int
	masked   bool
	msgOpen  bool // a data message awaits its final frame
	msgComp  bool // the open message is compressed
	ctrl     []byte
	cbuf     []byte // compressed message gathered so far
	inf      io.ReadCloser
	infN     int
	pend     []byte // raw bytes read but not decoded yet
	eof      bool   // the peer sent a close frame
	err      error  // sticky
	readErr  error  // the socket's error, held until decoded data is handed out
	cbufSize int
}

var inflaters sync.Pool

// the tail RFC 7692 section 7.2.2 says to append before inflating, plus an
// empty final block so the inflater reports the end.
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// Read returns client protocol bytes from the client's data frames.
func (c *Conn) Read(p []byte) (int, error) {
	r := &c.rd
	for {
		if c.closed.Load() {
			return 0, c.drain(p)
		}
		if r.err != nil {
			return 0, r.err
		}
		if r.inf != nil {
			n, err := c.readInflated(p)
			if n > 0 || err != nil {
				return n, err
			}
			continue
		}
		if r.eof {
			return 0, io.EOF
		}
		var n int
		switch {
		case len(r.pend) > 0:
			n = copy(p, r.pend)
			r.pend = r.pend[n:]
			if len(r.pend) == 0 {
				r.pend = nil
			}
		case r.readErr != nil:
			r.err = r.readErr
			continue
		default:
			var err error
			if c.srd != nil {
				n, err = c.srd.Read(p)
			} else {
				n, err = c.raw.Read(p)
			}
			r.readErr = err
			if c.closed.Load() {
				return 0, c.drain(p)
			}
		}
		if n == 0 {
			continue
		}
		w, err := c.decode(p, n)
		if err != nil {
			r.err = err
		}
		if w > 0 {
			return w, nil
		}
	}
}

func (c *Conn) readInflated(p []byte) (int, error) {
	r := &c.rd
	n, err := r.inf.Read(p)
	r.infN += n
	if r.infN > c.maxMsg {
		c.sendClose(StatusMessageTooBig, "Maximum Message Payload Exceeded")
		r.err = ErrMessageTooBig
		c.endInflate()
		return 0, r.err
	}
	if err == io.EOF {
		c.endInflate()
		err = nil
	} else if err != nil {
		c.endInflate()
		r.err = &ProtocolError{Msg: "invalid compressed data: " + err.Error()}
		c.sendClose(StatusProtocolError, "invalid compressed data")
		return 0, r.err
	}
	return n, err
}

func (c *Conn) endInflate() {
	r := &c.rd
	inflaters.Put(r.inf)
	r.inf, r.infN = nil, 0
	if cap(r.cbuf) > 64*1024 {
		r.cbuf = nil // do not keep a big buffer for an idle connection
	} else {
		r.cbuf = r.cbuf[:0]
	}
}

// decode turns the n raw bytes at the start of p into payload, in place,
// and returns how many payload bytes now start p. It stops after a
// compressed message or a close frame, keeping what follows for later.
func (c *Conn) decode(p []byte, n int) (int, error) {
	r := &c.rd
	w, i := 0, 0
	for i < n {
		if !r.inFrame {
			i += c.gatherHeader(p[i:n])
			if !r.inFrame {
				if r.err != nil {
					return w, r.err
				}
				continue
			}
			if err := c.startFrame(); err != nil {
				return w, err
			}
			if r.rem > 0 {
				continue
			}
		} else {
			k := int(min(r.rem, uint64(n-i)))
			chunk := p[i : i+k]
			i += k
			r.rem -= uint64(k)
			switch {
			case r.op < opClose && !r.msgComp:
				// Payload moves over the headers before it, unmasked on the way.
				if r.masked {
					r.kpos = unmaskTo(p[w:], chunk, r.key, r.kpos)
				} else {
					copy(p[w:], chunk)
				}
				w += k
				if r.rem > 0 {
					continue
				}
			case r.masked:
				r.kpos = unmask(chunk, r.key, r.kpos)
			}
			switch {
			case r.op >= opClose:
				r.ctrl = append(r.ctrl, chunk...)
			case r.msgComp:
				if len(r.cbuf)+k > r.cbufSize {
					c.sendClose(StatusMessageTooBig, "Maximum Message Payload Exceeded")
					return w, ErrMessageTooBig
				}
				r.cbuf = append(r.cbuf, chunk...)
			}
			if r.rem > 0 {
				continue
			}
		}
		// The frame is complete.
		r.inFrame = false
		stop, err := c.endFrame()
		if err != nil {
			return w, err
		}
		if stop {
			if i < n {
				r.pend = append(r.pend[:0:0], p[i:n]...)
			}
			return w, nil
		}
	}
	return w, nil
}

// gatherHeader collects header bytes from b; it returns how many it took
// and sets inFrame once the header is whole.
func (c *Conn) gatherHeader(b []byte) int {
	r := &c.rd
	used := 0
	for used < len(b) {
		need := 2
		if r.hn >= 2 {
			need = headerLen(r.hdr[1])
		}
		if r.hn == need {
			break
		}
		k := copy(r.hdr[r.hn:need], b[used:])
		r.hn += k
		used += k
	}
	if r.hn >= 2 && r.hn == headerLen(r.hdr[1]) {
		r.inFrame = true
	}
	return used
}

func headerLen(b1 byte) int {
	n := 2
	switch b1 & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&bitMask != 0 {
		n += 4
	}
	return n
}

// startFrame checks a complete header the way nats-server does.
func (c *Conn) startFrame() error {
	r := &c.rd
	h := r.hdr[:r.hn]
	r.hn = 0
	b0, b1 := h[0], h[1]
	op := b0 & 0x0f
	fin := b0&bitFinal != 0
	comp := b0&bitRsv1 != 0
	switch {
	case b0&bitRsv23 != 0:
		return c.protoError("RSV2 and RSV3 must be clear")
	case comp && !c.compress:
		return c.protoError("compressed frame received without negotiated permessage-deflate")
	case c.masked && b1&bitMask == 0:
		return c.protoError("mask bit missing")
	}
	size := uint64(b1 & 0x7f)
	k := 2
	switch size {
	case 126:
		size = uint64(binary.BigEndian.Uint16(h[2:]))
		k = 4
	case 127:
		size = binary.BigEndian.Uint64(h[2:])
		k = 10
		if size&(1<<63) != 0 {
			return c.protoError("invalid 64-bit payload length")
		}
	}
	switch op {
	case opClose, opPing, opPong:
		switch {
		case size > maxControlPayload:
			return c.protoError("control frame length bigger than maximum allowed of 125 bytes")
		case !fin:
			return c.protoError("control frame does not have final bit set")
		case comp:
			return c.protoError("control frame must not be compressed")
		}
		r.ctrl = r.ctrl[:0]
	case opText, opBinary:
		if r.msgOpen {
			return c.protoError("new message started before final frame for previous message was received")
		}
		r.msgOpen, r.msgComp = !fin, comp
	case opContinuation:
		if !r.msgOpen || comp {
			return c.protoError("invalid continuation frame")
		}
		r.msgOpen = !fin
	default:
		return c.protoError("unknown opcode " + itoa(int(op)))
	}
	r.op, r.fin, r.rem = op, fin, size
	r.masked = b1&bitMask != 0
	if r.masked {
		copy(r.key[:], h[k:k+4])
		r.kpos = 0
	}
	return nil
}

// endFrame acts on a frame whose payload has all arrived. stop says the
// decoder must hand out what it has before going on.
func (c *Conn) endFrame() (stop bool, err error) {
	r := &c.rd
	switch r.op {
	case opPing:
		c.writeControl(opPong, r.ctrl)
		return false, nil
	case opPong:
		return false, nil
	case opClose:
		reply, perr := closeReply(r.ctrl)
		if perr != "" {
			return true, c.protoError(perr)
		}
		c.wmu.Lock()
		if !c.closeSent {
			c.closeSent = true
			c.writeFrameLocked(opClose, reply)
		}
		c.wmu.Unlock()
		r.eof = true
		return true, nil
	}
	if r.msgOpen || !r.msgComp {
		return false, nil
	}
	// A compressed message is complete: inflate it before anything after it.
	r.msgComp = false
	r.cbuf = append(r.cbuf, deflateTail...)
	src := bytes.NewReader(r.cbuf)
	if f, ok := inflaters.Get().(io.ReadCloser); ok {
		f.(flate.Resetter).Reset(src, nil)
		r.inf = f
	} else {
		r.inf = flate.NewReader(src)
	}
	return true, nil
}

// protoError sends a close frame saying what the client did wrong.
func (c *Conn) protoError(msg string) error {
	c.sendClose(StatusProtocolError, msg)
	return &ProtocolError{Msg: msg}
}

func (c *Conn) sendClose(status int, text string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return
	}
	c.closeSent = true
	c.raw.SetWriteDeadline(time.Now().Add(time.Second))
	c.writeFrameLocked(opClose, closePayload(status, text))
}

func (c *Conn) writeControl(op byte, payload []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return
	}
	c.writeFrameLocked(op, payload)
}

func (c *Conn) writeFrameLocked(op byte, payload []byte) error {
	b := appendHeader(c.whdr[:0], true, true, false, op, len(payload))
	b = append(b, payload...)
	c.whdr = b[:0]
	_, err := c.raw.Write(b)
	return err
}

// Write sends b as binary messages.
func (c *Conn) Write(b []byte) (int, error) {
	n, err := c.WriteBuffers(net.Buffers{b})
	return int(n), err
}

var deflaters sync.Pool

// Frame size limits of what the server writes. nats.go refuses frames
// with a 64-bit length over 8 times max_payload, so frames stay under
// 64 KiB (16-bit length); a compressed message takes at most
// maxDeflateInput bytes so that it fits one such frame.
const (
	maxFrameSize    = 1<<16 - 1
	maxDeflateInput = 32 * 1024
)

// WriteBuffers sends the buffers as binary messages (compressed when
// negotiated and worth it), in frames every client accepts. It returns
// the payload bytes sent.
func (c *Conn) WriteBuffers(bufs net.Buffers) (int64, error) {
	total := 0
	for _, b := range bufs {
		total += len(b)
	}
	if total == 0 {
		return 0, nil
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return 0, net.ErrClosed
	}
	var out net.Buffers
	hdrs := c.whdr[:0] // headers of this write; earlier writes are out
	if c.compress && total > compressThreshold {
		for len(bufs) > 0 {
			var seg net.Buffers
			var n int
			seg, bufs, n = cut(bufs, maxDeflateInput)
			z, err := deflate(seg, n)
			if err != nil {
				return 0, err
			}
			defer z.release()
			out, hdrs = c.frames(out, hdrs, net.Buffers{z.data()}, len(z.data()), true, !c.noFrag)
		}
	} else {
		out, hdrs = c.frames(out, hdrs, bufs, total, false, false)
	}
	c.whdr = hdrs[:0]
	var err error
	if c.swr != nil {
		_, err = c.swr.WriteBuffers(out)
	} else {
		_, err = out.WriteTo(c.raw)
	}
	if err != nil {
		return 0, err
	}
	return int64(total), nil
}

// cut splits off the first n bytes of bufs (or all of them) without
// copying; it returns them, the rest and their size.
func cut(bufs net.Buffers, n int) (head, rest net.Buffers, size int) {
	for i, b := range bufs {
		if size+len(b) <= n {
			size += len(b)
			continue
		}
		k := n - size
		head = append(append(net.Buffers(nil), bufs[:i]...), b[:k])
		rest = append(net.Buffers{b[k:]}, bufs[i+1:]...)
		return head, rest, n
	}
	return bufs, nil, size
}

// frames appends bufs to out with headers (kept in hdrs): one frame when
// it fits, else frames of browserFrameSize for a browser (or
// maxFrameSize), as continuation frames of one message when fragment is
// set and as messages of their own otherwise. A header slice stays valid
// when hdrs grows: appending never rewrites bytes already there.
func (c *Conn) frames(out net.Buffers, hdrs []byte, bufs net.Buffers, total int, compressed, fragment bool) (net.Buffers, []byte) {
	limit := maxFrameSize
	if c.browser {
		limit = browserFrameSize
	}
	if total <= limit || (compressed && !fragment) {
		start := len(hdrs)
		hdrs = appendHeader(hdrs, true, true, compressed, opBinary, total)
		out = append(out, hdrs[start:len(hdrs):len(hdrs)])
		return append(out, bufs...), hdrs
	}
	for first := true; len(bufs) > 0; first = false {
		var seg net.Buffers
		var size int
		seg, bufs, size = cut(bufs, limit)
		total -= size
		start := len(hdrs)
		if fragment {
			hdrs = appendHeader(hdrs, first, total == 0, compressed && first, opBinary, size)
		} else {
			hdrs = appendHeader(hdrs, true, true, compressed, opBinary, size)
		}
		out = append(out, hdrs[start:len(hdrs):len(hdrs)])
		out = append(out, seg...)
	}
	return out, hdrs
}

type deflated struct {
	buf *bytes.Buffer
	w   *flate.Writer
}

var deflateBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// deflate compresses one message with no context kept between messages
// (server_no_context_takeover), without the trailing 00 00 ff ff.
func deflate(bufs net.Buffers, total int) (*deflated, error) {
	buf := deflateBufs.Get().(*bytes.Buffer)
	buf.Reset()
	buf.Grow(total/2 + 64)
	w, _ := deflaters.Get().(*flate.Writer)
	if w == nil {
		w, _ = flate.NewWriter(buf, flate.BestSpeed)
	} else {
		w.Reset(buf)
	}
	z := &deflated{buf: buf, w: w}
	for _, b := range bufs {
		if _, err := w.Write(b); err != nil {
			z.release()
			return nil, err
		}
	}
	if err := w.Flush(); err != nil {
		z.release()
		return nil, err
	}
	return z, nil
}

func (z *deflated) data() []byte {
	b := z.buf.Bytes()
	return b[:len(b)-4]
}

func (z *deflated) release() {
	z.w.Reset(io.Discard)
	deflaters.Put(z.w)
	if z.buf.Cap() <= 256*1024 {
		deflateBufs.Put(z.buf)
	}
}

// SetCloseReason says why the server closes the connection, in
// nats-server's words; Close sends it in the close frame.
func (c *Conn) SetCloseReason(reason string) { c.reason.Store(&reason) }

// Close sends a close frame, unless one was sent or a write is stuck
// (a slow consumer being cut), and closes the socket.
func (c *Conn) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	if c.wmu.TryLock() {
		if !c.closeSent {
			c.closeSent = true
			status, text := StatusGoingAway, "Server Shutdown"
			if r := c.reason.Load(); r != nil {
				status, text = StatusFor(*r), *r
			}
			c.raw.SetWriteDeadline(time.Now().Add(time.Second))
			if c.writeFrameLocked(opClose, closePayload(status, text)) == nil && c.lingerClose() {
				c.wmu.Unlock()
				return nil
			}
		}
		c.wmu.Unlock()
	}
	return c.sock.Close()
}

// drain discards what arrives on a closed connection until the socket
// ends: nothing read after Close reaches the server.
func (c *Conn) drain(p []byte) error {
	for {
		if _, err := c.raw.Read(p); err != nil {
			return err
		}
	}
}

// closeLinger is how long a closed plain connection still takes what the
// client sent before it read the close frame.
const closeLinger = 250 * time.Millisecond

// lingerClose half-closes a plain TCP connection after the close frame and
// closes it for good a little later. Closing at once would answer data
// still in flight from the client (nats.go writes CONNECT and PING
// apart) with a reset, which can destroy the -ERR and close frame before
// the client reads them. The read loop keeps reading meanwhile.
func (c *Conn) lingerClose() bool {
	tc, ok := c.sock.(*net.TCPConn)
	if !ok || c.raw != c.sock || tc.CloseWrite() != nil {
		return false
	}
	time.AfterFunc(closeLinger, func() { c.sock.Close() })
	return true
}

// LocalAddr is the listener's address.
func (c *Conn) LocalAddr() net.Addr { return c.sock.LocalAddr() }

// RemoteAddr is the client's address; a valid X-Forwarded-For IP in the
// upgrade request replaces the peer's IP, as in nats-server.
func (c *Conn) RemoteAddr() net.Addr { return c.remote }

func (c *Conn) SetDeadline(t time.Time) error      { return c.raw.SetDeadline(t) }
func (c *Conn) SetReadDeadline(t time.Time) error  { return c.raw.SetReadDeadline(t) }
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.raw.SetWriteDeadline(t) }

// Cookies are the configured cookies the upgrade request carried.
func (c *Conn) Cookies() Cookies { return c.cookies }

// TLSState is the TLS connection state; nil for ws://.
func (c *Conn) TLSState() *tls.ConnectionState { return c.tls }

// Compressed reports whether permessage-deflate was negotiated.
func (c *Conn) Compressed() bool { return c.compress }

var _ net.Conn = (*Conn)(nil)
