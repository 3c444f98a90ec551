package route

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/s2"
)

const (
	// stallMark: past this much pending output a publisher waits briefly
	// (at most stallMax) for the writer, so a burst slows the producer
	// instead of cutting a route that is merely behind (as nats-server's
	// fast producer stall does).
	stallMark = 8 * 1024 * 1024
	stallMax  = time.Millisecond

	readBufSize    = 32 * 1024
	maxControlLine = 64 * 1024
	// maxPending is how much unsent output a route may hold before it is
	// cut as a slow route (nats-server's max_pending default).
	maxPending = 64 * 1024 * 1024
)

// Conn is one route connection to a peer: a pool member or the
// connection of a pinned account.
type Conn struct {
	m         *Manager
	nc        net.Conn // raw, or the TLS connection over it once startTLS succeeded
	raw       net.Conn // the TCP connection, for its addresses (nc changes under the timers)
	cid       uint64
	start     time.Time
	solicited bool
	explicit  bool
	url       *url.URL
	// account is set on a pinned account's connection: its protocols
	// carry no account name.
	account string
	accB    []byte

	// Set while the handshake runs in the read loop, read-only once
	// registered.
	remoteID   string
	remoteName string
	info       Info // the peer's first INFO
	reg        bool // placed in its peer's pool; guarded by Manager.mu
	dead       bool // closed; guarded by Manager.mu
	poolIdx    int
	headers    bool
	peer       Peer
	perms      *permCheck // the peer's import/export as it announced them

	flushCh chan struct{}
	doneCh  chan struct{}
	// wmu orders socket writes across the switch to compression.
	wmu sync.Mutex
	// Read-loop owned: compression handshake state. compression is set
	// before registration; after it, only a reload changes it, under mu.
	negotiated  bool
	switchRead  bool
	compression string
	wireOut     atomic.Int64 // bytes written to the socket
	pingT       *time.Timer
	authT       *time.Timer

	inMsgs, inBytes, outMsgs, outBytes atomic.Int64
	rtt                                atomic.Int64
	rttStart                           atomic.Int64
	lastActivity                       atomic.Int64

	mu struct {
		sync.Mutex
		out        outbound
		spare      net.Buffers
		drained    chan struct{} // closed when the writer has written; nil when nobody waits
		cw         *s2.Writer    // compresses output once negotiated
		closed     bool
		registered bool
		duplicate  bool // closed because the peer was already connected
		noRedial   bool
		pingsOut   int
		gotConnect bool
		user, pass string // from CONNECT: reload checks them again
		subs       int    // remote interest entries held for this route
	}
}

func newConn(m *Manager, nc net.Conn, solicited bool, u *url.URL, explicit bool, account string) *Conn {
	c := &Conn{
		m: m, nc: nc, raw: nc, cid: m.cids.Add(1), start: time.Now(), solicited: solicited, url: u,
		explicit: explicit, account: account, accB: []byte(account), poolIdx: -1,
		flushCh: make(chan struct{}, 1), doneCh: make(chan struct{}),
	}
	return c
}

// RemoteID is the peer's server ID, RemoteName its name.
func (c *Conn) RemoteID() string   { return c.remoteID }
func (c *Conn) RemoteName() string { return c.remoteName }

// RemoteProto is the server-to-server protocol level the peer announced.
func (c *Conn) RemoteProto() int { return c.info.Proto }

// Account is the pinned account of this connection, "" for a pool member.
func (c *Conn) Account() string { return c.account }

// CID is the connection's id, unique in this server's route manager.
func (c *Conn) CID() uint64 { return c.cid }

func (c *Conn) String() string {
	return fmt.Sprintf("%s - rid:%d", c.raw.RemoteAddr(), c.cid)
}

// enqueue appends raw protocol bytes and wakes the writer.
func (c *Conn) enqueue(b []byte) {
	c.mu.Lock()
	if c.mu.closed {
		c.mu.Unlock()
		return
	}
	c.mu.out.write(b)
	c.mu.Unlock()
	c.signal()
}

func (c *Conn) signal() {
	select {
	case c.flushCh <- struct{}{}:
	default:
	}
}

// SendMsg forwards one message to the peer. qs holds the queue groups the
// peer should pick a member of, each followed by a space. It never blocks:
// a route that falls too far behind is closed.
func (c *Conn) SendMsg(account string, subj, reply, qs []byte, hdrLen int, msg []byte) bool {
	if c.account != "" {
		account = ""
	}
	if hdrLen > 0 && !c.headers {
		msg, hdrLen = msg[hdrLen:], 0
	}
	c.mu.Lock()
	if c.mu.closed {
		c.mu.Unlock()
		return false
	}
	if c.mu.out.size > stallMark {
		c.stallLocked()
	}
	if c.mu.out.size > maxPending {
		c.mu.Unlock()
		c.m.log.Errorf("%s - Slow route: %d bytes pending, closing", c, maxPending)
		c.close("Slow Consumer (Pending Bytes)", false)
		return false
	}
	need := len(subj) + len(reply) + len(qs) + len(account) + len(msg) + 40
	b := c.mu.out.reserve(need)
	b = appendMsgHeader(b, account, subj, reply, qs, hdrLen, len(msg))
	b = append(b, msg...)
	c.mu.out.commit(append(b, '\r', '\n'))
	c.mu.Unlock()
	c.outMsgs.Add(1)
	c.outBytes.Add(int64(len(msg)))
	c.signal()
	return true
}

// writeLoop hands pending output to the socket, one write per wake-up,
// under the write deadline: a peer that stops reading is cut, it never
// holds up publishers.
func (c *Conn) writeLoop() {
	defer c.m.wg.Done()
	wd := c.m.conf().WriteDeadline
	var wb net.Buffers
	for {
		select {
		case <-c.flushCh:
		case <-c.doneCh:
			c.flushFinal()
			return
		}
		for {
			c.wmu.Lock()
			c.mu.Lock()
			if c.mu.out.size == 0 {
				c.mu.Unlock()
				c.wmu.Unlock()
				break
			}
			bufs := c.mu.out.take(c.mu.spare)
			c.mu.spare = nil
			cw := c.mu.cw
			c.mu.Unlock()
			c.nc.SetWriteDeadline(time.Now().Add(wd))
			var err error
			if cw != nil {
				for _, b := range bufs {
					if _, err = cw.Write(b); err != nil {
						break
					}
				}
				if err == nil {
					err = cw.Flush()
				}
			} else {
				// WriteTo consumes the slice it is given: write from a
				// copy of the headers so the chunks can be recycled whole.
				wb = append(wb[:0], bufs...)
				var n int64
				n, err = wb.WriteTo(c.nc)
				c.wireOut.Add(n)
			}
			c.wmu.Unlock()
			recycle(bufs)
			c.mu.Lock()
			c.mu.spare = bufs[:0]
			if c.mu.drained != nil {
				close(c.mu.drained)
				c.mu.drained = nil
			}
			c.mu.Unlock()
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					c.m.log.Errorf("%s - Slow route: write deadline exceeded, closing", c)
					c.close("Slow Consumer (Write Deadline)", false)
				} else {
					c.close("Write Error", false)
				}
				return
			}
		}
	}
}

func (c *Conn) flushFinal() {
	c.wmu.Lock()
	c.mu.Lock()
	bufs := c.mu.out.take(nil)
	cw := c.mu.cw
	c.mu.Unlock()
	if len(bufs) > 0 {
		c.nc.SetWriteDeadline(time.Now().Add(time.Second))
		if cw != nil {
			for _, b := range bufs {
				cw.Write(b)
			}
			cw.Flush()
		} else {
			bufs.WriteTo(c.nc)
		}
	}
	c.wmu.Unlock()
	c.nc.Close()
}

// close ends the connection once; the manager forgets it and may redial.
func (c *Conn) close(reason string, flush bool) {
	c.mu.Lock()
	if c.mu.closed {
		c.mu.Unlock()
		return
	}
	c.mu.closed = true
	if !flush {
		c.mu.out.take(nil)
	}
	if c.mu.drained != nil {
		close(c.mu.drained)
		c.mu.drained = nil
	}
	nc := c.nc // startTLS may be switching it (the auth timer, Shutdown)
	c.mu.Unlock()
	if c.pingT != nil {
		c.pingT.Stop()
	}
	if c.authT != nil {
		c.authT.Stop()
	}
	close(c.doneCh)
	if !flush {
		nc.Close()
	}
	c.m.connClosed(c, reason)
}

func (c *Conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.closed
}

// sendErr sends -ERR with text and closes.
func (c *Conn) sendErrAndClose(text, reason string) {
	c.enqueue([]byte("-ERR '" + text + "'\r\n"))
	c.close(reason, true)
}

func (c *Conn) sendJSON(op string, v any) { c.enqueue(jsonLine(op, v)) }

func jsonLine(op string, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs: cannot fail
	}
	line := make([]byte, 0, len(b)+len(op)+3)
	line = append(append(append(line, op...), ' '), b...)
	return append(line, '\r', '\n')
}

// pingTick sends a PING, or closes a route whose peer left too many
// unanswered.
func (c *Conn) pingTick() {
	c.m.mu.Lock()
	reg := c.reg
	c.m.mu.Unlock()
	if !reg {
		// No PING before the handshake (and its switch to compression)
		// is done; the handshake timeout guards that phase.
		c.pingT.Reset(c.m.pingInterval())
		return
	}
	c.mu.Lock()
	if c.mu.closed {
		c.mu.Unlock()
		return
	}
	idle := time.Since(time.Unix(0, c.lastActivity.Load()))
	if c.mu.pingsOut+1 > c.m.conf().MaxPingsOut && idle > c.m.pingInterval() {
		c.mu.Unlock()
		c.m.log.Debugf("%s - Stale Route Connection - Closing", c)
		c.sendErrAndClose("Stale Connection", "Stale Connection")
		return
	}
	c.mu.pingsOut++
	c.mu.Unlock()
	c.rttStart.Store(time.Now().UnixNano())
	c.enqueue([]byte("PING\r\n"))
	c.pingT.Reset(c.m.pingInterval())
}

// readLoop reads and dispatches protocol until the connection ends.
func (c *Conn) readLoop() {
	defer c.m.wg.Done()
	buf := make([]byte, 0, readBufSize)
	var r reader2
	var src io.Reader = c.nc
	for {
		if len(buf) == cap(buf) {
			nb := make([]byte, len(buf), 2*cap(buf))
			copy(nb, buf)
			buf = nb
		}
		n, err := src.Read(buf[len(buf):cap(buf)])
		if n > 0 {
			c.lastActivity.Store(time.Now().UnixNano())
			buf = buf[:len(buf)+n]
			used, need, perr := c.process(&r, buf)
			if c.peer != nil {
				c.peer.EndBatch()
			}
			if perr != nil {
				if !c.isClosed() {
					c.m.log.Errorf("%s - Route parser ERROR: %v", c, perr)
					c.sendErrAndClose("Protocol Violation", "Parse Error")
				}
				return
			}
			if c.switchRead {
				c.switchRead = false
				src = compressedReader(buf[used:], c.nc)
				buf = buf[:0]
				continue
			}
			rest := copy(buf, buf[used:])
			buf = buf[:rest]
			if need > cap(buf) {
				nb := make([]byte, rest, need)
				copy(nb, buf)
				buf = nb
			}
		}
		if err != nil {
			c.close("Read Error", false)
			return
		}
		if c.isClosed() {
			return
		}
	}
}

// reader2 holds the parser's scratch space.
type reader2 struct {
	args [32][]byte
	pa   msgArgs
	sa   subArgs
}

// process handles every complete operation in buf and returns how many
// bytes it used and, when a message is incomplete, how big the buffer
// must be to hold it.
func (c *Conn) process(r *reader2, buf []byte) (used, need int, err error) {
	pos := 0
	for pos < len(buf) {
		nl := bytes.IndexByte(buf[pos:], '\n')
		if nl < 0 {
			if len(buf)-pos > maxControlLine {
				return pos, 0, errors.New("maximum control line exceeded")
			}
			return pos, 0, nil
		}
		line := trimCR(buf[pos : pos+nl])
		next := pos + nl + 1
		op, arg := line, []byte(nil)
		if i := bytes.IndexAny(line, " \t"); i >= 0 {
			op, arg = line[:i], bytes.TrimLeft(line[i+1:], " \t")
		}
		switch {
		case eqOp(op, "RMSG"), eqOp(op, "HMSG"), eqOp(op, "LMSG"):
			if c.peer == nil {
				return pos, 0, fmt.Errorf("message before the route was registered")
			}
			hdr := op[0] != 'R' && op[0] != 'r'
			origin := op[0] == 'L' || op[0] == 'l'
			if err := parseMsgArgs(&r.pa, r.args[:], arg, c.accB, hdr, origin); err != nil {
				return pos, 0, err
			}
			end := next + r.pa.size + 2
			if end > len(buf) {
				return pos, end - pos, nil
			}
			if !bytes.Equal(buf[end-2:end], crlf) {
				return pos, 0, errors.New("message payload not followed by CRLF")
			}
			msg := buf[next : end-2]
			hl := r.pa.hdr
			if hl < 0 {
				hl = 0
			}
			c.inMsgs.Add(1)
			c.inBytes.Add(int64(len(msg)))
			c.peer.Deliver(r.pa.account, r.pa.subject, r.pa.reply, r.pa.queues, hl, msg)
			pos = end
			continue
		case eqOp(op, "RS+"), eqOp(op, "LS+"):
			if c.peer == nil {
				return pos, 0, fmt.Errorf("subscription before the route was registered")
			}
			if err := parseSubArgs(&r.sa, r.args[:], arg, c.accB, true, op[0] == 'L' || op[0] == 'l'); err != nil {
				return pos, 0, err
			}
			if c.exportAllowed(r.sa.subject) && !c.ignorePooled(r.sa.account) {
				c.peer.RemoteSub(r.sa.account, r.sa.subject, r.sa.queue, r.sa.weight)
			}
		case eqOp(op, "RS-"), eqOp(op, "LS-"):
			if c.peer == nil {
				return pos, 0, fmt.Errorf("unsubscribe before the route was registered")
			}
			origin := (op[0] == 'L' || op[0] == 'l') && c.info.LN
			if err := parseSubArgs(&r.sa, r.args[:], arg, c.accB, false, origin); err != nil {
				return pos, 0, err
			}
			c.peer.RemoteUnsub(r.sa.account, r.sa.subject, r.sa.queue)
		case eqOp(op, "PING"):
			c.enqueue([]byte("PONG\r\n"))
		case eqOp(op, "PONG"):
			c.mu.Lock()
			c.mu.pingsOut = 0
			c.mu.Unlock()
			if st := c.rttStart.Load(); st > 0 {
				c.rtt.Store(time.Now().UnixNano() - st)
			}
		case eqOp(op, "INFO"):
			var info Info
			if err := json.Unmarshal(arg, &info); err != nil {
				return pos, 0, fmt.Errorf("bad INFO: %v", err)
			}
			c.m.processInfo(c, &info)
			if c.switchRead {
				return next, 0, nil // what follows is compressed
			}
		case eqOp(op, "CONNECT"):
			if err := c.m.processConnect(c, arg); err != nil {
				return next, 0, nil // the connection is closed
			}
		case eqOp(op, "-ERR"):
			c.m.log.Errorf("%s - Route Error %s", c, arg)
		case eqOp(op, "+OK"), eqOp(op, "A+"), eqOp(op, "A-"):
		case len(op) == 0:
		default:
			return pos, 0, fmt.Errorf("unknown protocol operation %q", op)
		}
		if c.isClosed() {
			return next, 0, nil
		}
		pos = next
	}
	return pos, 0, nil
}

func eqOp(op []byte, want string) bool {
	if len(op) != len(want) {
		return false
	}
	for i := 0; i < len(op); i++ {
		b := op[i]
		if b >= 'a' && b <= 'z' {
			b -= 'a' - 'A'
		}
		if b != want[i] {
			return false
		}
	}
	return true
}

// startTLS runs the TLS handshake first, as routes do (no INFO before).
func (c *Conn) startTLS(cfg *tls.Config, timeout time.Duration) error {
	var tc *tls.Conn
	if c.solicited {
		cc := cfg.Clone()
		if cc.ServerName == "" && c.url != nil {
			cc.ServerName = c.url.Hostname()
		}
		if cc.RootCAs == nil && cc.ClientCAs != nil {
			cc.RootCAs = cc.ClientCAs // ca_file vouches for peers both ways
		}
		tc = tls.Client(c.nc, cc)
	} else {
		tc = tls.Server(c.nc, cfg)
	}
	tc.SetDeadline(time.Now().Add(timeout))
	if err := tc.Handshake(); err != nil {
		return err
	}
	tc.SetDeadline(time.Time{})
	// A timer or Shutdown may close the connection meanwhile: the switch
	// is made under c.mu, where close reads which one to close.
	c.mu.Lock()
	closed := c.mu.closed
	if !closed {
		c.nc = tc
	}
	c.mu.Unlock()
	if closed {
		return net.ErrClosed
	}
	return nil
}

// stallLocked waits, with c.mu held on entry and return, until the writer
// has written once or stallMax passed.
func (c *Conn) stallLocked() {
	if c.mu.drained == nil {
		c.mu.drained = make(chan struct{})
	}
	ch := c.mu.drained
	c.mu.Unlock()
	c.signal()
	t := time.NewTimer(stallMax)
	select {
	case <-ch:
	case <-t.C:
	}
	t.Stop()
	c.mu.Lock()
}
