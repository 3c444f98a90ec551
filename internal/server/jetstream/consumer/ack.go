package consumer

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/api"
)

// Event kinds reported outside the lock.
const (
	evMaxDeliver = iota + 1
	evNak
	evTerm
	evAckSample
	evPinned   // reason holds the pin id
	evUnpinned // reason: "timeout" or "admin"
)

type event struct {
	kind       int
	sseq, dseq uint64
	dc         uint64
	reason     string
	group      string
	ackTime    int64
}

// ProcessAck handles a message published to one of the consumer's ack
// subjects ($JS.ACK.<stream>.<consumer>.<dc>.<sseq>.<dseq>.<ts>.<pending>).
// reply, when set (AckSync), gets an empty message once the ack is stored.
func (c *Consumer) ProcessAck(subj, reply string, body []byte) {
	if !strings.HasPrefix(subj, c.ackPfx) {
		return
	}
	var nums [3]uint64
	rest := subj[len(c.ackPfx):]
	for i := range nums {
		tok, more, ok := strings.Cut(rest, ".")
		if !ok {
			return // fewer than five tokens
		}
		n, err := strconv.ParseUint(tok, 10, 64)
		if err != nil {
			return
		}
		nums[i], rest = n, more
	}
	if !strings.Contains(rest, ".") {
		return
	}
	dc, sseq, dseq := nums[0], nums[1], nums[2]
	body = bytes.TrimSpace(body)
	var events []event
	var acked []uint64
	var next []byte
	isNext := false
	c.mu.Lock()
	if c.mu.closed {
		c.mu.Unlock()
		return
	}
	switch {
	case len(body) == 0 || string(body) == "+ACK" || string(body) == "+OK":
		acked, events = c.ackLocked(sseq, dseq, dc)
	case bytes.HasPrefix(body, []byte("+NXT")):
		acked, events = c.ackLocked(sseq, dseq, dc)
		next, isNext = bytes.TrimSpace(body[4:]), true
	case bytes.HasPrefix(body, []byte("-NAK")):
		events = c.nakLocked(sseq, dseq, dc, parseDelay(body[4:]))
	case string(body) == "+WPI":
		if p := c.mu.pending[sseq]; p != nil && !c.mu.inRdq[sseq] {
			c.setDeadlineLocked(sseq, time.Now().UnixNano()+int64(c.ackWait(dc)))
		}
	case bytes.HasPrefix(body, []byte("+TERM")):
		if _, ok := c.mu.pending[sseq]; ok {
			c.forgetLocked(sseq)
			acked = append(acked, sseq)
			events = append(events, event{kind: evTerm, sseq: sseq, dseq: dseq, dc: dc, reason: string(bytes.TrimSpace(body[5:]))})
		}
	default:
		c.mu.Unlock()
		return
	}
	wantKick := false
	direct := false
	if reply != "" && !isNext {
		if c.env.Journal != nil {
			direct = true
		} else {
			c.mu.syncWant = append(c.mu.syncWant, reply)
			wantKick = true
		}
	}
	wantKick = wantKick || len(acked) > 0 || len(events) > 0
	c.mu.Unlock()
	if direct {
		// The journal holds the ack (it survives the process) before the
		// client hears of it.
		ok := true
		for _, s := range acked {
			if err := c.env.Journal.Append(s); err != nil {
				ok = false
				if c.env.Log != nil {
					c.env.Log.Errorf("JetStream consumer '%s > %s' ack journal: %v", c.env.Stream, c.env.Name, err)
				}
			}
		}
		if ok {
			c.env.Send(reply, reply, "", nil, nil)
		}
	}
	if c.env.Acked != nil {
		for _, s := range acked {
			c.env.Acked(s)
		}
	}
	c.emit(events)
	if isNext && reply != "" {
		c.ProcessPull(reply, next)
	} else if wantKick {
		c.Kick()
	}
}

func (c *Consumer) ackLocked(sseq, dseq, dc uint64) ([]uint64, []event) {
	cfg := &c.mu.cfg
	var acked []uint64
	var events []event
	switch cfg.AckPolicy {
	case api.AckNone:
		return nil, nil
	case api.AckAll, api.AckFlowControl:
		for s := range c.mu.pending {
			if s <= sseq {
				delete(c.mu.pending, s)
				delete(c.mu.rdc, s)
				acked = append(acked, s)
			}
		}
		sortU64(acked)
	default:
		p, ok := c.mu.pending[sseq]
		if !ok {
			return nil, nil
		}
		if c.mu.sampleN > 0 && (c.mu.sampleN >= 100 || int(sseq%100) < c.mu.sampleN) {
			events = append(events, event{kind: evAckSample, sseq: sseq, dseq: dseq, dc: dc, ackTime: time.Now().UnixNano() - p.ts})
		}
		delete(c.mu.pending, sseq)
		delete(c.mu.rdc, sseq)
		acked = append(acked, sseq)
	}
	if len(acked) > 0 {
		c.mu.dirty = true
		c.advanceFloorLocked()
	}
	return acked, events
}

func (c *Consumer) nakLocked(sseq, dseq, dc uint64, delay time.Duration) []event {
	if _, ok := c.mu.pending[sseq]; !ok || c.mu.inRdq[sseq] {
		return nil
	}
	events := []event{{kind: evNak, sseq: sseq, dseq: dseq, dc: dc}}
	if delay > 0 {
		c.setDeadlineLocked(sseq, time.Now().Add(delay).UnixNano())
		return events
	}
	if ev, ok := c.redeliverLocked(sseq); !ok {
		events = append(events, ev)
	}
	return events
}

// parseDelay reads what follows -NAK: ` {"delay": ns}` or a duration.
func parseDelay(b []byte) time.Duration {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return 0
	}
	if b[0] == '{' {
		var d struct {
			Delay time.Duration `json:"delay"`
		}
		if json.Unmarshal(b, &d) == nil {
			return d.Delay
		}
		return 0
	}
	d, err := time.ParseDuration(string(b))
	if err != nil {
		return 0
	}
	return d
}

// emit publishes advisories for events.
func (c *Consumer) emit(events []event) {
	if c.env.Event == nil {
		return
	}
	for _, e := range events {
		te := api.TypedEvent{ID: eventID(), Time: time.Now().UTC()}
		sc := c.env.Stream + "." + c.env.Name
		switch e.kind {
		case evMaxDeliver:
			te.Type = api.JSMaxDeliverAdvisoryType
			c.env.Event("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES."+sc, api.JSConsumerDeliveryExceededAdvisory{
				TypedEvent: te, Stream: c.env.Stream, Consumer: c.env.Name, StreamSeq: e.sseq, Deliveries: e.dc, Domain: c.env.Domain})
		case evNak:
			te.Type = api.JSNakAdvisoryType
			c.env.Event("$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED."+sc, api.JSConsumerDeliveryNakAdvisory{
				TypedEvent: te, Stream: c.env.Stream, Consumer: c.env.Name, ConsumerSeq: e.dseq, StreamSeq: e.sseq, Deliveries: e.dc, Domain: c.env.Domain})
		case evTerm:
			te.Type = api.JSTerminatedAdvisoryType
			c.env.Event("$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED."+sc, api.JSConsumerDeliveryTerminatedAdvisory{
				TypedEvent: te, Stream: c.env.Stream, Consumer: c.env.Name, ConsumerSeq: e.dseq, StreamSeq: e.sseq, Deliveries: e.dc, Reason: e.reason, Domain: c.env.Domain})
		case evPinned:
			te.Type = api.JSPinnedAdvisoryType
			c.env.Event("$JS.EVENT.ADVISORY.CONSUMER.PINNED."+sc, api.JSConsumerGroupPinnedAdvisory{
				TypedEvent: te, Account: c.env.Account, Stream: c.env.Stream, Consumer: c.env.Name, Domain: c.env.Domain, Group: e.group, PinnedClientID: e.reason})
		case evUnpinned:
			te.Type = api.JSUnpinnedAdvisoryType
			c.env.Event("$JS.EVENT.ADVISORY.CONSUMER.UNPINNED."+sc, api.JSConsumerGroupUnpinnedAdvisory{
				TypedEvent: te, Account: c.env.Account, Stream: c.env.Stream, Consumer: c.env.Name, Domain: c.env.Domain, Group: e.group, Reason: e.reason})
		case evAckSample:
			te.Type = api.JSAckMetricType
			c.env.Event("$JS.EVENT.METRIC.CONSUMER.ACK."+sc, api.JSConsumerAckMetric{
				TypedEvent: te, Stream: c.env.Stream, Consumer: c.env.Name, ConsumerSeq: e.dseq, StreamSeq: e.sseq, Delay: e.ackTime, Deliveries: e.dc, Domain: c.env.Domain})
		}
	}
}

func eventID() string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 22)
	for i := range b {
		b[i] = alphabet[randN(len(alphabet))]
	}
	return string(b)
}
