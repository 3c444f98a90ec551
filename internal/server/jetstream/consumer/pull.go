package consumer

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/api"
)

// pullReq is one waiting pull request.
type pullReq struct {
	reply     string
	batch     int // messages still wanted
	maxBytes  int // bytes still allowed (when hasBytes)
	hasBytes  bool
	expires   time.Time
	noWait    bool
	hb        time.Duration
	lastSent  time.Time
	delivered int
	group     string
	pinID     string
	priority  int // prioritized policy: lower goes first (MaxInt32 without a group)
	minPend   int64
	minAck    int64
	// interest checks the requester's interest when the request came
	// through a service import (nil: the reply's, in this account).
	interest func() bool
}

// pullBody is a pull request body as nats-server reads it.
type pullBody struct {
	req      api.JSApiConsumerGetNextRequest
	hasGroup bool // a JSON request: its priority group fields count
}

// ProcessPull handles a CONSUMER.MSG.NEXT request whose messages go to
// reply.
func (c *Consumer) ProcessPull(reply string, body []byte) {
	if reply == "" {
		return
	}
	send := func(status string) { c.env.Send(reply, reply, "", statusHdr(status, nil), nil) }
	var track func() bool
	if c.env.ReplyInterest != nil && strings.HasPrefix(reply, "_R_.") {
		track = c.env.ReplyInterest(reply)
	}
	c.mu.Lock()
	cfg := &c.mu.cfg
	if cfg.DeliverSubject != "" {
		c.mu.Unlock()
		send("409 Consumer is push based")
		return
	}
	pb, perr := parsePull(body)
	if perr != "" {
		c.mu.Unlock()
		send("400 Bad Request - " + perr)
		return
	}
	req := &pb.req
	if status := c.checkPullLocked(&pb); status != "" {
		c.mu.Unlock()
		send(status)
		return
	}
	now := time.Now()
	r := &pullReq{reply: reply, batch: req.Batch, maxBytes: req.MaxBytes, hasBytes: req.MaxBytes > 0,
		noWait: req.NoWait, hb: req.Heartbeat, lastSent: now, priority: math.MaxInt32, interest: track}
	if pb.hasGroup {
		r.group, r.pinID, r.minPend, r.minAck = req.Group, req.ID, req.MinPending, req.MinAckPending
		r.priority = req.Priority
	}
	if r.batch <= 0 {
		r.batch = 1
	}
	if req.Expires > 0 {
		r.expires = now.Add(req.Expires)
	}
	var expired []out
	if r.noWait {
		c.catchUpLocked()
		avail := c.mu.npending + uint64(len(c.mu.rdq))
		if avail == 0 && r.expires.IsZero() {
			c.mu.lastAct = now
			c.mu.Unlock()
			send("404 No Messages")
			return
		}
		if avail > 0 {
			// Counted over the live requests only, as nats-server
			// (expired and gone ones are dropped first).
			expired = c.expireWaitingLocked(now)
			var asked uint64
			for _, w := range c.mu.waiting {
				asked += uint64(max(w.batch, 0))
			}
			if avail < asked {
				c.mu.lastAct = now
				c.mu.Unlock()
				c.sendAll(expired)
				send("408 Requests Pending")
				return
			}
		}
	}
	maxWaiting := cfg.MaxWaiting
	if maxWaiting <= 0 {
		maxWaiting = DefaultMaxWaiting
	}
	if len(c.mu.waiting) >= maxWaiting {
		expired = append(expired, c.expireWaitingLocked(now)...)
	}
	if len(c.mu.waiting) >= maxWaiting {
		c.mu.Unlock()
		c.sendAll(expired)
		// A client sending heartbeats waits for them instead of re-asking
		// in a hot loop, so it hears nothing.
		if r.hb == 0 {
			send("409 Exceeded MaxWaiting")
		}
		return
	}
	if cfg.PriorityPolicy == api.PriorityPrioritized {
		c.insertByPriorityLocked(r)
	} else {
		c.mu.waiting = append(c.mu.waiting, r)
	}
	c.mu.lastAct = now
	c.mu.Unlock()
	c.sendAll(expired)
	c.Kick()
}

// expireWaitingLocked drops requests past their expiry or whose client is
// gone and returns the 408s to send to the expired ones.
func (c *Consumer) expireWaitingLocked(now time.Time) []out {
	var msgs []out
	kept := c.mu.waiting[:0]
	for _, r := range c.mu.waiting {
		if !r.expires.IsZero() && !now.Before(r.expires) {
			msgs = append(msgs, out{To: r.reply, Subj: r.reply, Hdr: statusHdr("408 Request Timeout", r)})
			continue
		}
		if !c.interestLocked(r) {
			continue
		}
		kept = append(kept, r)
	}
	clearTail(c.mu.waiting, len(kept))
	c.mu.waiting = kept
	return msgs
}

// dropUninterestedLocked forgets, silently, the requests whose client
// stopped listening: nats-server's check each time its delivery loop
// goes back to waiting.
func (c *Consumer) dropUninterestedLocked() {
	kept := c.mu.waiting[:0]
	for _, r := range c.mu.waiting {
		if c.interestLocked(r) {
			kept = append(kept, r)
		}
	}
	clearTail(c.mu.waiting, len(kept))
	c.mu.waiting = kept
}

func (c *Consumer) sendAll(msgs []out) {
	for i := range msgs {
		m := &msgs[i]
		c.env.Send(m.To, m.Subj, m.Reply, m.Hdr, m.Data)
	}
}

// interestLocked reports whether anyone still listens for a request's
// replies: in the requester's account for one that came through service
// imports.
func (c *Consumer) interestLocked(r *pullReq) bool {
	if r.interest != nil {
		return r.interest()
	}
	if c.env.HasInterest == nil {
		return true
	}
	return c.env.HasInterest(r.reply)
}

// checkPullLocked returns the status refusing a request, in nats-server's
// order, or "".
func (c *Consumer) checkPullLocked(pb *pullBody) string {
	cfg := &c.mu.cfg
	req := &pb.req
	if cfg.MaxRequestBatch > 0 && req.Batch > cfg.MaxRequestBatch {
		return "409 Exceeded MaxRequestBatch of " + strconv.Itoa(cfg.MaxRequestBatch)
	}
	if cfg.MaxRequestExpires > 0 && req.Expires > cfg.MaxRequestExpires {
		return "409 Exceeded MaxRequestExpires of " + cfg.MaxRequestExpires.String()
	}
	if req.MaxBytes > 0 && cfg.MaxRequestMaxBytes > 0 && req.MaxBytes > cfg.MaxRequestMaxBytes {
		return "409 Exceeded MaxRequestMaxBytes of " + strconv.Itoa(cfg.MaxRequestMaxBytes)
	}
	if !pb.hasGroup {
		return ""
	}
	if (req.MinPending != 0 || req.MinAckPending != 0) && cfg.PriorityPolicy != api.PriorityOverflow {
		return "400 Bad Request - Not a Overflow Priority consumer"
	}
	if req.ID != "" && cfg.PriorityPolicy != api.PriorityPinnedClient {
		return "400 Bad Request - Not a Pinned Client Priority consumer"
	}
	if req.Priority < 0 || req.Priority > 9 {
		return "400 Bad Request - Priority must be between 0 and 9"
	}
	if cfg.PriorityPolicy == api.PriorityNone {
		return ""
	}
	if req.Group == "" {
		return "400 Bad Request - Priority Group missing"
	}
	found := false
	for _, g := range cfg.PriorityGroups {
		found = found || g == req.Group
	}
	if !found {
		return "400 Bad Request - Invalid Priority Group"
	}
	if c.mu.pinID != "" {
		if req.ID == c.mu.pinID {
			c.mu.pinExp = time.Now().Add(cfg.PinnedTTL)
		} else if req.ID != "" {
			return "423 Nats-Pin-Id mismatch"
		}
	}
	return ""
}

// parsePull reads the body of a pull request: empty (batch 1), a bare
// number, or JSON. Anything else is a request for one message, as in
// nats-server.
func parsePull(body []byte) (pullBody, string) {
	var pb pullBody
	body = bytes.TrimSpace(body)
	pb.req.Batch = 1
	if len(body) == 0 {
		return pb, ""
	}
	if body[0] != '{' {
		if n, err := strconv.Atoi(string(body)); err == nil {
			pb.req.Batch = n
		}
		return pb, ""
	}
	pb.req.Batch = 0
	if err := json.Unmarshal(body, &pb.req); err != nil {
		return pb, err.Error()
	}
	if pb.req.Heartbeat > 0 && pb.req.Heartbeat*2 > pb.req.Expires {
		return pb, "heartbeat value too large"
	}
	pb.hasGroup = true
	return pb, ""
}

// insertByPriorityLocked queues r after every request of the same or a
// more urgent priority (prioritized policy).
func (c *Consumer) insertByPriorityLocked(r *pullReq) {
	i := len(c.mu.waiting)
	for i > 0 && c.mu.waiting[i-1].priority > r.priority {
		i--
	}
	c.mu.waiting = append(c.mu.waiting, nil)
	copy(c.mu.waiting[i+1:], c.mu.waiting[i:])
	c.mu.waiting[i] = r
}

// requeueLocked moves r, which still wants messages, behind the others
// (of its priority, for the prioritized policy) so requests take turns.
func (c *Consumer) requeueLocked(r *pullReq) {
	if len(c.mu.waiting) < 2 {
		return
	}
	c.dropRequestLocked(r)
	if c.mu.cfg.PriorityPolicy == api.PriorityPrioritized {
		c.insertByPriorityLocked(r)
		return
	}
	c.mu.waiting = append(c.mu.waiting, r)
}

// pickRequestLocked is the first waiting request allowed to receive a
// message of size bytes now. Requests refused on the way (a stale pin, a
// message too large) get their status in *msgs.
func (c *Consumer) pickRequestLocked(size int, msgs *[]out, events *[]event) *pullReq {
	cfg := &c.mu.cfg
	pinned := cfg.PriorityPolicy == api.PriorityPinnedClient
	for i := 0; i < len(c.mu.waiting); {
		r := c.mu.waiting[i]
		assigned := false
		if pinned {
			switch {
			case c.mu.pinID == "" && r.pinID == "":
				c.assignPinLocked(r, events)
				assigned = true
			case c.mu.pinID != "" && r.pinID == c.mu.pinID:
			case c.mu.pinID != "" && r.pinID == "":
				i++ // waits until the pin is released
				continue
			default:
				c.dropRequestLocked(r)
				*msgs = append(*msgs, out{To: r.reply, Subj: r.reply, Hdr: statusHdr("423 Nats-Wrong-Pin-Id", r)})
				continue
			}
		}
		if cfg.PriorityPolicy == api.PriorityOverflow && (r.minPend > 0 || r.minAck > 0) &&
			!((r.minPend > 0 && int64(c.mu.npending) >= r.minPend) || (r.minAck > 0 && int64(len(c.mu.pending)) >= r.minAck)) {
			i++
			continue
		}
		if r.hasBytes && size > r.maxBytes {
			c.dropRequestLocked(r)
			*msgs = append(*msgs, out{To: r.reply, Subj: r.reply, Hdr: statusHdr("409 Message Size Exceeds MaxBytes", r)})
			if assigned {
				c.unassignPinLocked()
			}
			continue
		}
		// As nats-server: a request whose client stopped listening is
		// dropped before a message goes to it (keeping a pin it just
		// got); one that came through an import hears 408 Interest
		// Expired, counting the message against its max_bytes.
		if !c.interestLocked(r) {
			c.dropRequestLocked(r)
			if r.interest != nil {
				pn, pb := r.batch, r.maxBytes
				if r.hasBytes {
					if pb -= size; pb == 0 {
						pn = 1
					}
				}
				*msgs = append(*msgs, out{To: r.reply, Subj: r.reply, Hdr: pendingHdr("408 Interest Expired", pn, pb)})
			}
			continue
		}
		return r
	}
	return nil
}

func (c *Consumer) dropRequestLocked(r *pullReq) {
	for i, w := range c.mu.waiting {
		if w == r {
			copy(c.mu.waiting[i:], c.mu.waiting[i+1:])
			c.mu.waiting[len(c.mu.waiting)-1] = nil
			c.mu.waiting = c.mu.waiting[:len(c.mu.waiting)-1]
			return
		}
	}
}
