package consumer

import (
	"time"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/pkg/api"
)

// rateBurst is how many bytes a rate-limited consumer may send at once
// when Env.RateBurst is not set.
const rateBurst = 1 << 20

// startPaceLocked sets up replay_policy original (replaying what is stored
// now with the gaps it was stored with) and rate_limit_bps.
func (c *Consumer) startPaceLocked() {
	if c.mu.cfg.ReplayPolicy == api.ReplayOriginal {
		c.mu.replayTo = c.env.Store.State().LastSeq
	}
	c.mu.rlBurst = rateBurst
	if c.env.RateBurst > 0 {
		c.mu.rlBurst = float64(c.env.RateBurst)
	}
	c.mu.rlTokens = c.mu.rlBurst
	c.mu.rlAt = time.Now()
}

// replayReadyLocked reports whether m may go now under replay original;
// if not, holdUntil says when.
func (c *Consumer) replayReadyLocked(m *store.Msg, now time.Time) bool {
	if c.mu.replayTo == 0 || c.mu.replayLts == 0 {
		return true
	}
	if m.Seq > c.mu.replayTo {
		c.mu.replayTo = 0 // caught up: instant from here on
		return true
	}
	d := time.Duration(m.Time - c.mu.replayLts)
	if d <= time.Millisecond {
		return true
	}
	if c.mu.replayAt.IsZero() {
		c.mu.replayAt = now.Add(d)
	}
	if now.Before(c.mu.replayAt) {
		c.holdLocked(c.mu.replayAt)
		return false
	}
	return true
}

func (c *Consumer) replaySentLocked(m *store.Msg) {
	if c.mu.replayTo != 0 {
		c.mu.replayLts = m.Time
		c.mu.replayAt = time.Time{}
	}
}

// rateReadyLocked takes size bytes from the rate_limit_bps bucket, or
// says (holdUntil) when there will be enough. nats-server counts the
// stored subject, the ack subject, header (with the pin id) and payload.
func (c *Consumer) rateReadyLocked(size int, now time.Time) bool {
	bps := c.mu.cfg.RateLimit
	if bps == 0 {
		return true
	}
	rate := float64(bps) / 8 // bytes per second
	c.mu.rlTokens = min(c.mu.rlBurst, c.mu.rlTokens+now.Sub(c.mu.rlAt).Seconds()*rate)
	c.mu.rlAt = now
	need := float64(size)
	// A message larger than the burst goes once the bucket is full
	// (nats-server's limiter would hold it for ever).
	if c.mu.rlTokens >= need || c.mu.rlTokens >= c.mu.rlBurst {
		c.mu.rlTokens -= need
		return true
	}
	c.holdLocked(now.Add(time.Duration((need - c.mu.rlTokens) / rate * float64(time.Second))))
	return false
}

func (c *Consumer) holdLocked(t time.Time) {
	if c.mu.holdUntil.IsZero() || t.Before(c.mu.holdUntil) {
		c.mu.holdUntil = t
	}
}

// flowControlDueLocked counts a delivery of size bytes against the flow
// control window and returns a flow control request when one is due, as
// nats-server decides: past half the window, or (ack_policy
// flow_control) at max_ack_pending; while one is outstanding, deliveries
// beyond a full window join what it covers.
func (c *Consumer) flowControlDueLocked(size int) (out, bool) {
	c.mu.fcBytes += size
	if c.mu.fcOut == "" {
		mp := c.mu.cfg.MaxAckPending
		if c.mu.fcBytes > c.mu.fcMax/2 || c.mu.cfg.AckPolicy == api.AckFlowControl && mp > 0 && len(c.mu.pending) >= mp {
			return c.flowControlLocked(), true
		}
	} else if c.mu.fcBytes-c.mu.fcSz >= c.mu.fcMax {
		c.mu.fcSz += size
	}
	return out{}, false
}

// flowControlLocked makes a flow control request for the push subscriber,
// covering everything delivered so far.
func (c *Consumer) flowControlLocked() out {
	c.mu.fcSz = c.mu.fcBytes
	c.mu.fcOut = "$JS.FC." + c.env.Stream + "." + c.env.Name + "." + randToken()
	ds := c.mu.cfg.DeliverSubject
	return out{To: ds, Subj: ds, Reply: c.mu.fcOut, Hdr: []byte("NATS/1.0 100 FlowControl Request\r\n\r\n")}
}
