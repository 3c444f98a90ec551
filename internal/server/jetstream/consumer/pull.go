package consumer

import (
	"bytes"
	"encoding/json"
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
	minPend   int64
	minAck    int64
}

// ProcessPull handles a CONSUMER.MSG.NEXT request whose messages go to
// reply.
func (c *Consumer) ProcessPull(reply string, body []byte) {
	if reply == "" {
		return
	}
	send := func(status string) { c.env.Send(reply, reply, "", statusHdr(status, nil), nil) }
	req, err := parsePull(body)
	if err != "" {
		send("400 Bad Request - " + err)
		return
	}
	c.mu.Lock()
	cfg := &c.mu.cfg
	if cfg.DeliverSubject != "" {
		c.mu.Unlock()
		send("409 Consumer is push based")
		return
	}
	if status := c.checkPullLocked(&req); status != "" {
		c.mu.Unlock()
		send(status)
		return
	}
	now := time.Now()
	r := &pullReq{reply: reply, batch: req.Batch, maxBytes: req.MaxBytes, hasBytes: req.MaxBytes > 0,
		noWait: req.NoWait, hb: req.Heartbeat, lastSent: now, group: req.Group, minPend: req.MinPending, minAck: req.MinAckPending}
	if r.batch <= 0 {
		r.batch = 1
	}
	if req.Expires > 0 {
		r.expires = now.Add(req.Expires)
	}
	if r.noWait && r.expires.IsZero() {
		c.catchUpLocked()
		if c.mu.npending == 0 && len(c.mu.rdq) == 0 && len(c.mu.lps) == 0 {
			c.mu.Unlock()
			send("404 No Messages")
			return
		}
	}
	maxWaiting := cfg.MaxWaiting
	if maxWaiting <= 0 {
		maxWaiting = 512
	}
	if len(c.mu.waiting) >= maxWaiting {
		c.mu.Unlock()
		send("409 Exceeded MaxWaiting")
		return
	}
	c.mu.waiting = append(c.mu.waiting, r)
	c.mu.lastAct = now
	c.mu.Unlock()
	c.Kick()
}

func (c *Consumer) checkPullLocked(req *api.JSApiConsumerGetNextRequest) string {
	cfg := &c.mu.cfg
	if cfg.MaxRequestBatch > 0 && req.Batch > cfg.MaxRequestBatch {
		return "409 Exceeded MaxRequestBatch of " + strconv.Itoa(cfg.MaxRequestBatch)
	}
	if cfg.MaxRequestExpires > 0 && req.Expires > cfg.MaxRequestExpires {
		return "409 Exceeded MaxRequestExpires of " + cfg.MaxRequestExpires.String()
	}
	if cfg.MaxRequestMaxBytes > 0 && req.MaxBytes > cfg.MaxRequestMaxBytes {
		return "409 Exceeded MaxRequestMaxBytes of " + strconv.Itoa(cfg.MaxRequestMaxBytes)
	}
	if req.Heartbeat > 0 && (req.Expires == 0 || req.Heartbeat*2 > req.Expires) {
		return "400 Bad Request - heartbeat value too large"
	}
	if len(cfg.PriorityGroups) > 0 {
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
	}
	if (req.MinPending > 0 || req.MinAckPending > 0) && cfg.PriorityPolicy != api.PriorityOverflow {
		return "400 Bad Request - Not a Overflow Priority consumer"
	}
	if req.ID != "" && cfg.PriorityPolicy != api.PriorityPinnedClient {
		return "400 Bad Request - Not a Pinned Client Priority consumer"
	}
	if req.Priority < 0 || req.Priority > 9 {
		return "400 Bad Request - Priority must be between 0 and 9"
	}
	return ""
}

// parsePull reads the body of a pull request: empty (batch 1), a bare
// number, or JSON.
func parsePull(body []byte) (api.JSApiConsumerGetNextRequest, string) {
	var req api.JSApiConsumerGetNextRequest
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		req.Batch = 1
		return req, ""
	}
	if body[0] != '{' {
		n, err := strconv.Atoi(string(body))
		if err != nil {
			return req, strings.TrimPrefix(err.Error(), "strconv.Atoi: ")
		}
		req.Batch = n
		return req, ""
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return req, err.Error()
	}
	return req, ""
}

// pickRequestLocked is the first waiting request allowed to receive now.
func (c *Consumer) pickRequestLocked() *pullReq {
	for _, r := range c.mu.waiting {
		if r.minPend > 0 || r.minAck > 0 {
			ok := (r.minPend > 0 && int64(c.mu.npending) >= r.minPend) || (r.minAck > 0 && int64(len(c.mu.pending)) >= r.minAck)
			if !ok {
				continue
			}
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
