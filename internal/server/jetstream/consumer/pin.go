package consumer

import (
	"time"

	"github.com/sluicehq/sluice/pkg/api"
)

// Pinned-client priority groups: the first request of a group without a
// pin id gets a new pin; from then on only requests carrying that id are
// served (others wait, stale ids get 423) until the pinned client stays
// silent for priority_timeout or an admin unpins it.

// assignPinLocked pins r's client.
func (c *Consumer) assignPinLocked(r *pullReq, events *[]event) {
	if r.group == "" {
		return
	}
	now := time.Now()
	c.mu.pinID = eventID()
	c.mu.pinTS = now.UTC()
	c.mu.pinGroup = r.group
	c.mu.pinExp = now.Add(c.mu.cfg.PinnedTTL)
	r.pinID = c.mu.pinID
	*events = append(*events, event{kind: evPinned, group: r.group, reason: c.mu.pinID})
}

func (c *Consumer) unassignPinLocked() {
	c.mu.pinID, c.mu.pinGroup = "", ""
	c.mu.pinTS, c.mu.pinExp = time.Time{}, time.Time{}
}

// Unpin releases group's pin (CONSUMER.UNPIN) and reports it.
func (c *Consumer) Unpin(group string) {
	c.mu.Lock()
	c.unassignPinLocked()
	c.mu.Unlock()
	c.emit([]event{{kind: evUnpinned, group: group, reason: "admin"}})
	c.Kick()
}

// priorityGroupsLocked is what ConsumerInfo shows: nats-server reports the
// first group only, with its pin.
func (c *Consumer) priorityGroupsLocked() []api.PriorityGroupState {
	if len(c.mu.cfg.PriorityGroups) == 0 {
		return nil
	}
	return []api.PriorityGroupState{{Group: c.mu.cfg.PriorityGroups[0], PinnedClientID: c.mu.pinID, PinnedTS: c.mu.pinTS}}
}

// endOfStreamLocked ends the no_wait requests that got what there was
// (404 No Messages), as nats-server does when nothing is left to send.
func (c *Consumer) endOfStreamLocked(msgs []out) []out {
	kept := c.mu.waiting[:0]
	for _, r := range c.mu.waiting {
		if r.noWait && (r.expires.IsZero() || r.delivered > 0) {
			msgs = append(msgs, out{To: r.reply, Subj: r.reply, Hdr: statusHdr("404 No Messages", nil)})
			continue
		}
		kept = append(kept, r)
	}
	clearTail(c.mu.waiting, len(kept))
	c.mu.waiting = kept
	return msgs
}
