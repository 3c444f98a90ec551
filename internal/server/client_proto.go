package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/internal/server/protocol"
	"github.com/sluicehq/sluice/internal/server/subject"
	"github.com/sluicehq/sluice/pkg/api"
)

var errEOF = io.EOF

var (
	okLine   = []byte("+OK\r\n")
	pingLine = []byte("PING\r\n")
	pongLine = []byte("PONG\r\n")
)

// firstClientPingInterval is how soon after connecting a client is first
// pinged, as in nats-server (a quick check that the peer is alive).
const firstClientPingInterval = 2 * time.Second

func firstPingInterval(interval time.Duration) time.Duration {
	d := firstClientPingInterval
	if interval < d {
		d = interval
	}
	// Spread the first pings of many simultaneous connections a little.
	return d + time.Duration(pickStart(int(d/5)+1))
}

var _ protocol.Handler = (*client)(nil)

// mustConnectFirst reports (and handles) an operation arriving before
// CONNECT when the server requires authentication.
func (c *client) mustConnectFirst() bool {
	if c.connected.Load() || !c.authOpts().authRequired() {
		return false
	}
	c.authViolation()
	return true
}

// refuseConnect fails a login, keeping what the CONNECT claimed for the
// log and the $SYS events.
func (c *client) refuseConnect(ci api.ConnectInfo) error {
	c.opts = ci
	c.mu.Lock()
	c.mu.name, c.mu.lang, c.mu.version = ci.Name, ci.Lang, ci.Version
	c.mu.claimed = authRawUser(&ci)
	c.mu.Unlock()
	c.srv.accountAuthErrorEvent(c)
	c.authViolation()
	return errConnClosed
}

func (c *client) authViolation() {
	c.srv.log.Errorf("%s - cid:%d - %v - %s", c.hostPort(), c.cid, errAuthFailed, authUserLabel(&c.opts))
	c.srv.authErrorEvent(c)
	c.sendErrAndClose("Authorization Violation", reasonAuthFailure)
}

// authUserLabel names who tried to log in, never with the secret.
func authUserLabel(ci *api.ConnectInfo) string {
	switch {
	case ci.Nkey != "":
		return fmt.Sprintf("Nkey %q", ci.Nkey)
	case ci.User != "":
		return fmt.Sprintf("User %q", ci.User)
	case ci.Token != "":
		return `Token "[REDACTED]"`
	}
	return `User "N/A"`
}

func (c *client) ProcessConnect(arg []byte) error {
	ci := api.ConnectInfo{Verbose: true, Pedantic: true, Echo: true}
	if err := json.Unmarshal(arg, &ci); err != nil {
		c.srv.log.Errorf("%s - cid:%d - Invalid CONNECT: %v", c.hostPort(), c.cid, err)
		c.closeConnection(reasonProtocolViolation)
		return errConnClosed
	}
	if c.srv.getOpts().Trace {
		c.traceOp(traceIn, "CONNECT", redactConnect(arg))
	}
	if ci.Protocol < 0 || ci.Protocol > 1 {
		c.sendErrAndClose("invalid client protocol", reasonBadClientProtocol)
		return errConnClosed
	}
	if ci.NoResponders && !ci.Headers {
		c.sendErrAndClose("no responders requires headers support", reasonNoRespondersNoHdrs)
		return errConnClosed
	}
	if ci.Account != "" || ci.NewAccount {
		return c.refuseConnect(ci)
	}
	c.wsFillCookies(&ci)
	id, err := c.authenticate(&ci, c.connType())
	if err != nil || !c.bindIdentity(id) || c.tlsMapRefused() {
		return c.refuseConnect(ci)
	}
	if c.accountConnsExceeded() {
		c.refuseAccountConn()
		return errConnClosed
	}
	c.parser.MaxPayload = c.maxPayload()
	if c.authT != nil {
		c.authT.Stop()
	}
	if c.srv.getOpts().NoHeaderSupport {
		ci.Headers, ci.NoResponders = false, false
	}
	c.opts = ci
	c.mu.Lock()
	c.mu.headers = ci.Headers
	c.mu.protocol = ci.Protocol
	c.mu.name, c.mu.lang, c.mu.version = ci.Name, ci.Lang, ci.Version
	c.mu.creds = api.ConnectInfo{User: ci.User, Pass: ci.Pass, Token: ci.Token, Nkey: ci.Nkey, Sig: ci.Sig, JWT: ci.JWT}
	c.mu.Unlock()
	// Until a PING measures it, the RTT is estimated as the time from
	// accept to CONNECT, as nats-server does.
	c.rtt.CompareAndSwap(0, max(int64(time.Since(c.start)), 1))
	c.connected.Store(true)
	c.srv.connectEvent(c)
	if ci.Verbose {
		c.sendOK()
	}
	return nil
}

// connectSecrets matches the secret fields of a CONNECT as sent.
var connectSecrets = regexp.MustCompile(`("(?:pass|auth_token|sig|jwt)"\s*:\s*)"(?:[^"\\]|\\.)*"`)

// redactConnect is a CONNECT's JSON as the client sent it, with the
// secrets replaced, for the trace.
func redactConnect(arg []byte) []byte {
	return connectSecrets.ReplaceAll(arg, []byte(`${1}"[REDACTED]"`))
}

func (c *client) ProcessPing() error {
	if c.srv.getOpts().Trace {
		c.traceOp(traceIn, "PING")
	}
	if c.mustConnectFirst() {
		return errConnClosed
	}
	// The first PING after CONNECT from a protocol-1 client gets the
	// connect_info INFO: nats.go learns its account from it. It goes out
	// in the same write as the PONG, or a client that reads the PONG alone
	// takes the late INFO for a topology change.
	var info []byte
	first := !c.sentFirstP.Load() && c.connected.Load()
	if first && c.opts.Protocol >= 1 {
		info = c.srv.infoFor(c, true)
	}
	c.enqueue(pongLine, info)
	if first {
		// Only now: an async INFO queued before this PONG would reach
		// nats.go where it waits for the PONG of its CONNECT.
		c.sentFirstP.Store(true)
	}
	c.traceSent(pongLine)
	return nil
}

func (c *client) ProcessPong() error {
	if c.srv.getOpts().Trace {
		c.traceOp(traceIn, "PONG")
	}
	if c.mustConnectFirst() {
		return errConnClosed
	}
	c.mu.Lock()
	c.mu.pingsOut = 0
	c.mu.Unlock()
	if st := c.rttStart.Swap(0); st != 0 {
		c.rtt.Store(time.Now().UnixNano() - st)
	}
	return nil
}

// sysQueueName is reserved for the server's own queue subscriptions.
const sysQueueName = "_sys_"

// INFO and +OK from a client are ignored, once it may speak at all.
func (c *client) ProcessInfo([]byte) error { return c.ignoredOp() }
func (c *client) ProcessOK() error         { return c.ignoredOp() }

func (c *client) ignoredOp() error {
	if c.mustConnectFirst() {
		return errConnClosed
	}
	return nil
}

func (c *client) ProcessErr(arg []byte) error {
	if c.mustConnectFirst() {
		return errConnClosed
	}
	c.srv.log.Errorf("%s - cid:%d - Client Error %s", c.hostPort(), c.cid, arg)
	c.closeConnection(reasonParseError)
	return errConnClosed
}

func (c *client) ProcessPub(subj, reply, payload []byte) error {
	return c.processPublish(subj, reply, 0, payload)
}

func (c *client) ProcessHPub(subj, reply []byte, hdrLen int, msg []byte) error {
	if !c.opts.Headers {
		c.srv.log.Errorf("%s - cid:%d - HPUB without headers support", c.hostPort(), c.cid)
		c.closeConnection(reasonProtocolViolation)
		return errConnClosed
	}
	return c.processPublish(subj, reply, hdrLen, msg)
}

func (c *client) processPublish(subj, reply []byte, hdrLen int, msg []byte) error {
	if c.mustConnectFirst() {
		return errConnClosed
	}
	c.in.msgs++
	c.in.bytes += int64(len(msg))
	if o := c.srv.getOpts(); o.Trace {
		c.tracePub(o, subj, reply, hdrLen, msg)
	}
	if hdrLen > 0 {
		var skip bool
		if skip, hdrLen, msg = c.startTrace(subj, hdrLen, msg); skip {
			return nil
		}
	}
	c.routePublish(subj, reply, hdrLen, msg)
	if c.trace != nil {
		c.finishTrace()
	}
	return nil
}

// routePublish maps, checks and delivers a message a client published.
func (c *client) routePublish(subj, reply []byte, hdrLen int, msg []byte) {
	if c.opts.Pedantic && !subject.ValidLiteral(string(subj)) {
		// nats-server still routes the message after complaining.
		c.sendErr("Invalid Publish Subject")
	}
	// As nats-server: the mapped subject is the one permissions, interest
	// and no-responders see.
	if ms := c.acc.mappings.Load(); ms != nil {
		orig, drop := subj, false
		subj, drop = c.mapSubject(ms, subj)
		if c.trace != nil && !bytes.Equal(subj, orig) {
			c.trace.Mapped(string(subj))
		}
		if drop {
			// Delivered to nobody, as nats-server does with an empty subject.
			if c.opts.Verbose {
				c.sendOK()
			}
			if len(reply) > 0 && c.opts.NoResponders {
				c.sendNoResponders(orig, reply)
			}
			return
		}
	}
	if isReservedSubject(subj) && (!bytes.HasPrefix(subj, nrgPrefix) || c.acc != c.srv.sysAcc) {
		c.sendErr(c.tracedIngressError(fmt.Sprintf("Permissions Violation for Publish to %q", subj)))
		return
	}
	if len(reply) > 0 && isReservedReply(reply) {
		c.sendErr(c.tracedIngressError(fmt.Sprintf("Permissions Violation for Publish with Reply of %q", reply)))
		return
	}
	if !c.canPublish(subj) {
		c.pubViolation(subj)
		return
	}
	if c.opts.Verbose {
		c.sendOK()
	}
	if !c.publish(subj, reply, hdrLen, msg) && len(reply) > 0 && c.opts.NoResponders {
		c.sendNoResponders(subj, reply)
	}
}

// Subjects clients may not use: gateway-routed replies and RAFT traffic
// (outside the system account), and, as replies, service-import and
// JetStream ack subjects the server generates itself.
var (
	gwReplyPrefix    = []byte("_GR_.")
	oldGWReplyPrefix = []byte("$GR.")
	nrgPrefix        = []byte("$NRG.")
	serviceReplyPre  = []byte("_R_.")
	jsAckPrefix      = []byte("$JS.ACK.")
)

func isReservedSubject(s []byte) bool {
	if len(s) == 0 || (s[0] != '_' && s[0] != '$') {
		return false
	}
	return bytes.HasPrefix(s, gwReplyPrefix) || bytes.HasPrefix(s, oldGWReplyPrefix) || bytes.HasPrefix(s, nrgPrefix)
}

func isReservedReply(r []byte) bool {
	if r[0] != '_' && r[0] != '$' {
		return false
	}
	return bytes.HasPrefix(r, serviceReplyPre) || bytes.HasPrefix(r, jsAckPrefix) ||
		bytes.HasPrefix(r, gwReplyPrefix) || bytes.HasPrefix(r, oldGWReplyPrefix)
}

func (c *client) ProcessSub(subj, queue, sid []byte) error {
	if c.mustConnectFirst() {
		return errConnClosed
	}
	if c.srv.getOpts().Trace {
		c.traceOp(traceIn, "SUB", subj, queue, sid)
	}
	if !subject.ValidSubject(string(subj)) || (len(queue) > 0 && !subject.ValidQueue(string(queue))) {
		c.sendErr("Invalid Subject")
		return nil
	}
	if string(queue) == sysQueueName {
		c.sendErr(fmt.Sprintf("Permissions Violation for Subscription to %q using queue %q", subj, queue))
		return nil
	}
	perms := c.perms.Load()
	if !perms.CanSubscribe(string(subj), string(queue)) {
		c.subViolation(subj, queue)
		return nil
	}
	c.mu.Lock()
	if c.mu.closed {
		c.mu.Unlock()
		return errConnClosed
	}
	// nats-server checks the limit before looking for a duplicate sid.
	if max := c.maxSubs(); max != NoLimit && len(c.mu.subs) >= max {
		c.mu.Unlock()
		c.srv.log.Errorf("%s - cid:%d - Maximum Subscriptions Exceeded", c.hostPort(), c.cid)
		c.sendErr("maximum subscriptions exceeded")
		return nil
	}
	if _, dup := c.mu.subs[string(sid)]; dup {
		c.mu.Unlock()
		if c.opts.Verbose {
			c.sendOK()
		}
		return nil
	}
	sub := &subscription{
		client:  c,
		acc:     c.acc,
		subject: string(subj),
		queue:   string(queue),
		sid:     append([]byte(nil), sid...),
		deny:    denyFilter(perms, string(subj), string(queue)),
	}
	c.mu.subs[string(sid)] = sub
	c.mu.Unlock()
	if err := c.acc.sl.Insert(sub.subject, sub.queue, sub); err != nil {
		c.mu.Lock()
		delete(c.mu.subs, string(sid))
		c.mu.Unlock()
		c.sendErr("Invalid Subject")
		return nil
	}
	c.srv.routeInterest(sub, 1)
	if c.opts.Verbose {
		c.sendOK()
	}
	return nil
}

func (c *client) ProcessUnsub(sid []byte, max int64) error {
	if c.mustConnectFirst() {
		return errConnClosed
	}
	if c.srv.getOpts().Trace {
		var m []byte
		if max > 0 {
			m = strconv.AppendInt(nil, max, 10)
		}
		c.traceOp(traceIn, "UNSUB", sid, m)
	}
	c.mu.Lock()
	sub := c.mu.subs[string(sid)]
	remove := false
	if sub != nil {
		if max > 0 && max > sub.nm {
			sub.max = max
		} else {
			remove = true
			sub.closed = true
			delete(c.mu.subs, string(sid))
		}
	}
	c.mu.Unlock()
	if remove && sub.acc.sl.Remove(sub.subject, sub.queue, sub) == nil {
		c.srv.routeInterest(sub, -1)
	}
	if c.opts.Verbose {
		c.sendOK()
	}
	return nil
}

// pingTick sends a keep-alive PING, or closes a connection whose peer has
// left too many of them unanswered.
func (c *client) pingTick() {
	c.mu.Lock()
	if c.mu.closed {
		c.mu.Unlock()
		return
	}
	if c.mu.pingsOut+1 > c.srv.getOpts().MaxPingsOut {
		c.mu.Unlock()
		c.srv.log.Debugf("%s - cid:%d - Stale Client Connection - Closing", c.hostPort(), c.cid)
		c.srv.stats.staleConns.Add(1)
		c.sendErrAndClose("Stale Connection", reasonStale)
		return
	}
	// A client that has been sending needs no PING to prove it is alive.
	send := !c.activity.Swap(false) || c.mu.pingsOut > 0
	if send {
		c.mu.pingsOut++
		c.mu.out.write(pingLine)
		c.rttStart.CompareAndSwap(0, time.Now().UnixNano())
	}
	c.mu.Unlock()
	if send {
		c.traceSent(pingLine)
		c.signalFlush()
	}
	c.pingT.Reset(c.pingInterval())
}

func (c *client) authTimeout() {
	if c.connected.Load() {
		return
	}
	c.srv.log.Errorf("%s - cid:%d - Authentication Timeout", c.hostPort(), c.cid)
	c.sendErrAndClose("Authentication Timeout", reasonAuthTimeout)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
