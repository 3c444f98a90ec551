package server

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/server/auth"
	"github.com/sluicehq/sluice/internal/server/msgtrace"
	"github.com/sluicehq/sluice/internal/server/protocol"
	"github.com/sluicehq/sluice/internal/server/sockio"
	"github.com/sluicehq/sluice/internal/server/subject"
	"github.com/sluicehq/sluice/internal/server/websocket"
	"github.com/sluicehq/sluice/pkg/api"
)

// Read buffer sizing: small for idle connections, grown for busy ones.
const (
	startReadBufSize = 512
	maxReadBufSize   = 64 * 1024
	// Per-connection subject match cache size.
	maxResultCache = 256
	// readSlack: a WebSocket connection hands back a little less than it
	// read (frame headers), so a read this close to full counts as full.
	readSlack = 32
	// closeFlushDeadline bounds the final flush of a closing connection.
	closeFlushDeadline = time.Second
)

// closeReason says why a connection ended; the texts are nats-server's.
type closeReason string

const (
	reasonClientClosed       closeReason = "Client Closed"
	reasonAuthTimeout        closeReason = "Authentication Timeout"
	reasonAuthFailure        closeReason = "Authentication Failure"
	reasonSlowConsumerBytes  closeReason = "Slow Consumer (Pending Bytes)"
	reasonSlowConsumerWrite  closeReason = "Slow Consumer (Write Deadline)"
	reasonWriteError         closeReason = "Write Error"
	reasonReadError          closeReason = "Read Error"
	reasonParseError         closeReason = "Parse Error"
	reasonStale              closeReason = "Stale Connection"
	reasonProtocolViolation  closeReason = "Protocol Violation"
	reasonBadClientProtocol  closeReason = "Bad Client Protocol Version"
	reasonMaxConnections     closeReason = "Maximum Connections Exceeded"
	reasonMaxPayload         closeReason = "Maximum Message Payload Exceeded"
	reasonMaxControlLine     closeReason = "Maximum Control Line Exceeded"
	reasonServerShutdown     closeReason = "Server Shutdown"
	reasonNoRespondersNoHdrs closeReason = "No Responders Requires Headers"
	reasonKicked             closeReason = "Kicked"
)

// errConnClosed stops the parser once the connection has been closed by a
// handler; it is never shown to anyone.
var errConnClosed = errors.New("connection closed")

type client struct {
	srv   *Server
	cid   uint64
	nc    net.Conn
	host  string
	port  int
	start time.Time

	// Set before the read and write loops start, read-only afterwards.
	tlsState *tls.ConnectionState // verified peer chain; nil without TLS
	tlsFirst bool                 // the TLS handshake came before INFO
	ws       *websocket.Conn      // nc, for a WebSocket client
	pre      []byte               // read while telling TLS from plain text

	// Owned by the read loop (acc is also written under mu so that other
	// goroutines may read it under mu).
	acc        *Account
	parser     *protocol.Parser
	optsGen    uint64 // options generation the parser limits come from
	opts       api.ConnectInfo
	calloutAcc *Account    // the callout account asked about this login, if any
	connected  atomic.Bool // a valid CONNECT was processed
	sentFirstP atomic.Bool // the first PONG after CONNECT is queued: async INFO may follow
	cache      struct {
		gen     uint64
		m       map[string]*subject.Result[*subscription]
		scratch subject.Result[*subscription] // see match
		tail    tailMatch
	}
	pcd     []*client // connections this read batch wrote to
	pcdSet  map[*client]struct{}
	in      struct{ msgs, bytes int64 } // counted per batch
	outAgg  struct{ msgs, bytes int64 } // deliveries this batch, for server stats
	stalled time.Duration               // time this batch spent stalled on slow readers
	// stable is set on the internal publisher while it delivers stored
	// messages, whose payloads never change: large ones are queued to
	// their receivers without a copy (outbound.borrow).
	stable bool
	// ingestStuck is set when a stream took nothing for ingestWaitMax
	// while this read waited for room in its queue (deliverOwning).
	ingestStuck bool
	mapped      []byte  // scratch: the published subject after mapping
	routing     routing // routes a delivery goes to (routes.go)
	stats       struct{ inMsgs, inBytes atomic.Int64 }

	mu struct {
		sync.Mutex
		out      outbound      // pending output not yet handed to the writer
		spare    net.Buffers   // recycled chunk list for out
		inflight int           // bytes being written right now
		stall    chan struct{} // closed when pending output drains below the stall mark
		closed   bool
		reason   closeReason
		flushOut bool // on close: flush what is pending before closing the socket
		subs     map[string]*subscription
		pingsOut int
		headers  bool // client accepts HMSG
		protocol int  // CONNECT protocol: 1 = accepts async INFO
		outMsgs  int64
		outBytes int64
		name     string
		lang     string
		version  string
		creds    api.ConnectInfo // credentials presented, re-checked on reload
		user     string          // who CONNECT authenticated as
		claimed  string          // who a refused CONNECT claimed to be
		callout  bool            // an auth callout service admitted it
		// The user JWT a callout service issued: key and issue time, for
		// the account's revocations.
		calloutUser string
		calloutIat  int64
		jwt         *jwtLogin // the JWT login, for user info; nil otherwise
		// Permissions: resp is set when the user may answer requests it
		// received (allow_responses); replies are those it may answer.
		resp    *auth.ResponsePermission
		replies map[string]*replyGrant
	}
	perms  atomic.Pointer[auth.Checker] // nil: everything allowed
	pcache permCache                    // owned by the read loop
	nonce  []byte                       // signed by nkey users
	// importDepth counts nested deliveries through account imports.
	importDepth int
	// svcHops counts the service imports a request is passing through;
	// svcShared is set once one of them shares the requester's details.
	svcHops   int
	svcShared bool
	// streamed is set while a message is delivered through a stream import.
	streamed bool
	// trace is the event of the message being published when it is traced
	// (Nats-Trace-Dest); nil otherwise.
	trace    *msgtrace.Trace
	flushCh  chan struct{}
	activity atomic.Bool // client sent something since the last ping tick
	pingT    *time.Timer
	authT    *time.Timer
	expT     *time.Timer                  // JWT expiry (jwt.go); set under mu
	lim      atomic.Pointer[clientLimits] // a user JWT's own limits; nil: none

	// For monitoring (monitor_connz.go): unix nanoseconds of the last
	// activity, the last round trip and the PING it is timed from, and how
	// often publishers stalled waiting for this connection.
	last, rtt, rttStart atomic.Int64
	stalls              atomic.Int64
}

// subscription is one SUB of a client, or an internal subscription with a
// callback (client == nil).
type subscription struct {
	client  *client
	acc     *Account
	subject string
	queue   string
	sid     []byte
	icb     MsgHandler
	inline  bool             // icb runs on the publisher's read loop (SubscribeInternalInline)
	ocb     OwningMsgHandler // icb's owning form, when it has one
	fwd     forwarder        // import subscription: re-publishes into another account
	rt      *routeRef        // a route peer's interest (routes.go)
	// deny filters deliveries on a wildcard subscription whose user is
	// denied some subjects under it (guarded by client.mu).
	deny *auth.Checker

	// guarded by client.mu (or by the internal queue for icb subs)
	nm, max int64
	closed  bool
}

func (s *Server) createClient(conn net.Conn) {
	c := s.newClient(conn)
	if o := s.getOpts(); o.TLSConfig != nil {
		s.wg.Add(1)
		go c.startTLS(conn, o) // the handshake must not hold up accepting
		return
	}
	c.run(false)
}

func (s *Server) newClient(conn net.Conn) *client {
	c := &client{
		srv:     s,
		cid:     s.gcid.Add(1),
		nc:      conn,
		start:   time.Now(),
		acc:     s.GlobalAccount(),
		flushCh: make(chan struct{}, 1),
	}
	if addr, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
		c.host, c.port = addr.IP.String(), addr.Port
	}
	// Before CONNECT a client gets nats-server's defaults.
	c.opts = api.ConnectInfo{Verbose: true, Pedantic: true, Echo: true}
	c.optsGen = s.optsGen.Load()
	o := s.getOpts()
	c.parser = protocol.NewParser(c, int(o.MaxControlLine), int(o.MaxPayload))
	c.mu.subs = make(map[string]*subscription)
	if o.needsNonce() {
		c.nonce = newNonce()
	}
	s.stats.totalConns.Add(1)
	return c
}

// run registers c and starts its reader and writer. infoSent says INFO
// already went out, in plain text ahead of a TLS handshake.
func (c *client) run(infoSent bool) {
	s := c.srv
	if !s.addClient(c) {
		c.nc.Close()
		return
	}
	c.acc.numClients.Add(1)
	if ao := c.authOpts(); ao.authRequired() {
		c.authT = time.AfterFunc(ao.AuthTimeout, c.authTimeout)
	}
	c.pingT = time.AfterFunc(firstPingInterval(c.pingInterval()), c.pingTick)
	s.wg.Add(2)
	go c.writeLoop()

	if !infoSent {
		c.enqueue(s.infoFor(c, false))
	}
	if s.getOpts().MaxConn < 0 || s.NumClients() > s.getOpts().MaxConn {
		c.sendErrAndClose("maximum connections exceeded", reasonMaxConnections)
		s.log.Errorf("%s - cid:%d - Maximum Connections Exceeded", c.hostPort(), c.cid)
		go c.readLoop() // reaps the socket once the writer closed it
		return
	}
	if s.getOpts().Debug {
		s.log.Debugf("%s - cid:%d - Client connection created", c.hostPort(), c.cid)
	}
	go c.readLoop()
}

func (c *client) hostPort() string {
	return net.JoinHostPort(c.host, itoa(int64(c.port)))
}

func (c *client) readLoop() {
	defer c.srv.wg.Done()
	buf := make([]byte, startReadBufSize)
	shortReads := 0
	var rd io.Reader = c.nc
	if len(c.pre) > 0 {
		rd = io.MultiReader(bytes.NewReader(c.pre), c.nc)
	} else if sr := sockio.NewReader(c.nc); sr != nil {
		rd = sr
	}
	afterDirect := false
	for {
		if space := c.parser.PayloadSpace(); len(space) >= directReadMin {
			// The rest of a large payload: read it where it goes.
			n, err := rd.Read(space)
			if n > 0 {
				c.activity.Store(true)
				c.parser.PayloadRead(n)
			}
			if err != nil {
				c.closeReadFailed(err)
				return
			}
			afterDirect = true
			continue
		}
		rb := buf
		if afterDirect {
			// Large messages in a row: a short read takes the next
			// one's control line, and its payload is read directly.
			rb, afterDirect = buf[:min(len(buf), 4096)], false
		}
		n, err := rd.Read(rb)
		if n > 0 {
			if g := c.srv.optsGen.Load(); g != c.optsGen {
				c.optsGen = g
				o := c.srv.getOpts()
				c.parser.MaxPayload, c.parser.MaxControlLine = c.maxPayload(), int(o.MaxControlLine)
			}
			c.activity.Store(true)
			c.stalled, c.ingestStuck = 0, false
			perr := c.parser.Parse(rb[:n])
			c.endBatch()
			if perr != nil {
				c.parseFailed(perr)
				return
			}
		}
		if err != nil {
			c.closeReadFailed(err)
			return
		}
		if len(rb) < len(buf) {
			continue // a short read by choice says nothing of the load
		}
		// Grow when reads fill the buffer, shrink when a busy spell is over.
		switch {
		case (n == len(buf) || c.ws != nil && n > len(buf)-readSlack) && len(buf) < maxReadBufSize:
			buf = make([]byte, len(buf)*2)
			shortReads = 0
		case n < len(buf)/2 && len(buf) > startReadBufSize:
			if shortReads++; shortReads > 16 {
				buf = make([]byte, len(buf)/2)
				shortReads = 0
			}
		default:
			shortReads = 0
		}
	}
}

// closeReadFailed closes the connection after a read error.
func (c *client) closeReadFailed(err error) {
	reason := reasonClientClosed
	if !isClosedConnErr(err) {
		reason = reasonReadError
	}
	c.closeConnection(reason)
}

// directReadMin is the least payload left to read that is read straight
// into the message's buffer rather than through the read buffer.
const directReadMin = 16 << 10

func isClosedConnErr(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, errEOF)
}

// endBatch publishes the batch's counters and wakes every writer this
// read batch gave something to send.
func (c *client) endBatch() {
	now := time.Now().UnixNano()
	c.last.Store(now)
	if c.in.msgs > 0 {
		c.stats.inMsgs.Add(c.in.msgs)
		c.stats.inBytes.Add(c.in.bytes)
		c.srv.stats.inMsgs.Add(c.in.msgs)
		c.srv.stats.inBytes.Add(c.in.bytes)
		c.acc.stats.inMsgs.Add(c.in.msgs)
		c.acc.stats.inBytes.Add(c.in.bytes)
		c.in.msgs, c.in.bytes = 0, 0
	}
	if c.outAgg.msgs > 0 {
		c.srv.stats.outMsgs.Add(c.outAgg.msgs)
		c.srv.stats.outBytes.Add(c.outAgg.bytes)
		// Deliveries stay inside the publisher's account (no imports yet).
		c.acc.stats.outMsgs.Add(c.outAgg.msgs)
		c.acc.stats.outBytes.Add(c.outAgg.bytes)
		c.outAgg.msgs, c.outAgg.bytes = 0, 0
	}
	for i, dst := range c.pcd {
		dst.last.Store(now)
		dst.signalFlush()
		c.pcd[i] = nil
	}
	c.pcd = c.pcd[:0]
	if c.pcdSet != nil {
		clear(c.pcdSet)
	}
}

// addPCD remembers that dst has output to flush at the end of the batch.
func (c *client) addPCD(dst *client) {
	n := len(c.pcd)
	if n > 0 && c.pcd[n-1] == dst {
		return
	}
	if n < 8 {
		for _, x := range c.pcd {
			if x == dst {
				return
			}
		}
		c.pcd = append(c.pcd, dst)
		return
	}
	if c.pcdSet == nil {
		c.pcdSet = make(map[*client]struct{}, 16)
	}
	if len(c.pcdSet) == 0 {
		for _, x := range c.pcd {
			c.pcdSet[x] = struct{}{}
		}
	}
	if _, ok := c.pcdSet[dst]; ok {
		return
	}
	c.pcdSet[dst] = struct{}{}
	c.pcd = append(c.pcd, dst)
}

func (c *client) signalFlush() {
	select {
	case c.flushCh <- struct{}{}:
	default:
	}
}

// enqueue appends protocol lines to the output and wakes the writer;
// lines given in one call reach the socket in one write.
func (c *client) enqueue(bs ...[]byte) {
	c.mu.Lock()
	if !c.mu.closed {
		for _, b := range bs {
			c.mu.out.write(b)
		}
	}
	c.mu.Unlock()
	c.signalFlush()
}

func (c *client) writeLoop() {
	defer c.srv.wg.Done()
	wd := c.srv.getOpts().WriteDeadline
	var wbufs net.Buffers // WriteTo consumes (and nils) its receiver's elements
	var sw *sockio.Writer // plain TCP: writev without waking the runtime's sysmon
	if c.ws == nil {
		sw = sockio.NewWriter(c.nc)
	}
	for range c.flushCh {
		c.mu.Lock()
		closed := c.mu.closed
		if closed && !c.mu.flushOut {
			c.mu.out.drop()
		}
		chunks, size := c.mu.out.take(c.mu.spare)
		c.mu.spare = nil
		c.mu.inflight = size
		c.mu.Unlock()

		var err error
		if size > 0 {
			d := wd
			if closed && d > closeFlushDeadline {
				d = closeFlushDeadline
			}
			c.nc.SetWriteDeadline(time.Now().Add(d))
			wbufs = append(wbufs[:0], chunks...)
			if c.ws != nil {
				_, err = c.ws.WriteBuffers(wbufs) // one message per wake-up
			} else if sw != nil {
				_, err = sw.WriteBuffers(wbufs)
				clear(wbufs)
			} else {
				_, err = wbufs.WriteTo(c.nc)
			}
		}
		releaseChunks(chunks)

		c.mu.Lock()
		c.mu.inflight = 0
		c.mu.spare = chunks[:0]
		if c.mu.stall != nil && (c.mu.closed || int64(c.mu.out.size) < stallMark(c.srv.getOpts().MaxPending)) {
			close(c.mu.stall)
			c.mu.stall = nil
		}
		closed = c.mu.closed
		more := c.mu.out.size > 0 && c.mu.flushOut
		c.mu.Unlock()

		if err != nil && !closed {
			reason := reasonWriteError
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				reason = reasonSlowConsumerWrite
				c.noteSlowConsumer()
				c.srv.log.Noticef("%s - cid:%d - Slow Consumer Detected: WriteDeadline of %v exceeded with %d chunks of %d total bytes.",
					c.hostPort(), c.cid, wd, len(chunks), size)
			}
			c.closeConnection(reason)
			closed = true
		}
		if closed {
			if more && err == nil {
				c.signalFlush()
				continue
			}
			c.nc.Close()
			return
		}
	}
}

// sendErrAndClose queues -ERR text, then closes once it is flushed.
func (c *client) sendErrAndClose(text string, reason closeReason) {
	c.sendErr(text)
	c.closeConnectionFlush(reason, true)
}

func (c *client) sendErr(text string) {
	line := protocol.AppendErr(nil, text)
	c.enqueue(line)
	c.traceSent(line)
}

// sendOK answers a verbose client.
func (c *client) sendOK() {
	c.enqueue(okLine)
	c.traceSent(okLine)
}

// closeConnection ends the connection, dropping unsent output.
func (c *client) closeConnection(reason closeReason) {
	c.closeConnectionFlush(reason, reason != reasonSlowConsumerBytes && reason != reasonSlowConsumerWrite)
}

func (c *client) closeConnectionFlush(reason closeReason, flush bool) {
	c.mu.Lock()
	if c.mu.closed {
		c.mu.Unlock()
		return
	}
	c.mu.closed = true
	c.mu.reason = reason
	if c.ws != nil {
		c.ws.SetCloseReason(string(reason))
	}
	c.mu.flushOut = flush
	if !flush {
		c.mu.out.drop()
	}
	subs := make([]*subscription, 0, len(c.mu.subs))
	for _, sub := range c.mu.subs {
		sub.closed = true
		subs = append(subs, sub)
	}
	clear(c.mu.subs)
	if c.mu.stall != nil {
		close(c.mu.stall)
		c.mu.stall = nil
	}
	acc := c.acc
	expT := c.expT
	c.mu.Unlock()

	if expT != nil {
		expT.Stop()
	}
	c.pingT.Stop()
	if c.authT != nil {
		c.authT.Stop()
	}
	for _, sub := range subs {
		if sub.acc.sl.Remove(sub.subject, sub.queue, sub) == nil {
			c.srv.routeInterest(sub, -1)
		}
	}
	c.srv.removeClient(c)
	acc.numClients.Add(-1)
	c.srv.saveClosed(c, reason, subs)
	if !flush {
		// A slow consumer's writer may be stuck in Write: unblock it.
		c.nc.Close()
	}
	c.signalFlush()
	if c.srv.getOpts().Debug {
		c.srv.log.Debugf("%s - cid:%d - Client connection closed: %s", c.hostPort(), c.cid, reason)
	}
	c.srv.disconnectEvent(c, reason)
}

func (c *client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.closed
}

// parseFailed answers a parser error the way nats-server does.
func (c *client) parseFailed(err error) {
	switch {
	case errors.Is(err, errConnClosed):
	case errors.Is(err, protocol.ErrUnknownOp):
		c.srv.log.Errorf("%s - cid:%d - Client parser ERROR", c.hostPort(), c.cid)
		c.sendErrAndClose("Unknown Protocol Operation", reasonParseError)
	case errors.Is(err, protocol.ErrMaxControlLine):
		c.srv.log.Errorf("%s - cid:%d - maximum control line exceeded", c.hostPort(), c.cid)
		c.sendErrAndClose("maximum control line exceeded", reasonMaxControlLine)
	case errors.Is(err, protocol.ErrMaxPayload):
		c.srv.log.Errorf("%s - cid:%d - Maximum Payload Violation", c.hostPort(), c.cid)
		c.sendErrAndClose("Maximum Payload Violation", reasonMaxPayload)
	default:
		c.srv.log.Errorf("%s - cid:%d - Client parser ERROR: %v", c.hostPort(), c.cid, err)
		c.closeConnection(reasonProtocolViolation)
	}
}

// pickQueueMember starts at a random member so load spreads evenly.
func pickStart(n int) int {
	if n == 1 {
		return 0
	}
	return rand.IntN(n)
}
