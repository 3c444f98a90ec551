package server

import (
	"strings"

	"github.com/sluicehq/sluice/internal/server/subject"
)

// Deliver gives msg to the subscribers of to in account, with subj in the
// MSG line: how JetStream consumers deliver (the client sees the stored
// message's subject, not the inbox it subscribed).
func (b jsBroker) Deliver(account, to, subj, reply string, hdr, msg []byte) {
	b.internalBatch(account, func(c *client, acc *Account) {
		var buf []byte
		deliverThroughImports(c, acc, to, subj, reply, len(hdr), joinHeaders(&buf, hdr, msg))
	})
}

// deliverThroughImports delivers a consumer's message to to in acc. A
// reply made by a service import (_R_.) reaches the exporter's own
// subscribers of it, as when nats-server publishes it there, and goes
// back through the import; a status (subj == to) then shows the
// requester's reply subject, a message its stored subject.
func deliverThroughImports(c *client, acc *Account, to, subj, reply string, hdrLen int, full []byte) {
	if !strings.HasPrefix(to, "_R_.") {
		c.deliverJS(acc, to, []byte(subj), []byte(reply), hdrLen, full, 0)
		return
	}
	deliverBesideRouter(c, acc, to, []byte(subj), []byte(reply), hdrLen, full)
	status := subj == to
	if acc, to = throughImports(acc, to); acc != nil {
		if status {
			subj = to
		}
		c.deliverJS(acc, to, []byte(subj), []byte(reply), hdrLen, full, 0)
	}
}

// deliverBesideRouter gives a message for an import's reply subject to
// the exporter's subscribers of it other than the reply router.
func deliverBesideRouter(c *client, acc *Account, to string, subj, reply []byte, hdrLen int, full []byte) {
	r := acc.sl.Match(to)
	if len(r.Plain) <= 1 && len(r.Queues) == 0 {
		if len(r.Plain) == 0 {
			return
		}
		if _, ok := r.Plain[0].fwd.(*responseRouter); ok {
			return
		}
	}
	local := subject.Result[*subscription]{Queues: r.Queues, QueueNames: r.QueueNames}
	for _, sub := range r.Plain {
		if _, ok := sub.fwd.(*responseRouter); !ok {
			local.Plain = append(local.Plain, sub)
		}
	}
	c.deliverAll(&local, subj, reply, hdrLen, full)
}

// throughImports follows a reply subject made by service imports
// (_R_.<tag>.<random>) back to the requester's account and reply, so a
// consumer's pull responses keep their stored subject (the response
// router would show the reply instead). nil: the request is gone.
func throughImports(acc *Account, to string) (*Account, string) {
	for depth := 0; depth < maxImportDepth && strings.HasPrefix(to, "_R_."); depth++ {
		e := acc.responses().take(to)
		if e == nil {
			return nil, ""
		}
		dest, drop := mapImported(e.to, []byte(e.reply))
		if drop {
			return nil, ""
		}
		acc, to = e.to, string(dest)
	}
	return acc, to
}

// DeliverBatch is Deliver for n messages with one flush at the end.
func (b jsBroker) DeliverBatch(account string, n int, at func(i int) (to, subj, reply string, hdr, msg []byte)) {
	b.internalBatch(account, func(c *client, acc *Account) {
		var buf []byte
		for i := 0; i < n; i++ {
			to, subj, reply, hdr, msg := at(i)
			// Stored payloads never change (store.Msg); one joined to its
			// headers is in buf, which the next message reuses.
			c.stable = len(hdr) == 0
			deliverThroughImports(c, acc, to, subj, reply, len(hdr), joinHeaders(&buf, hdr, msg))
		}
		c.stable = false
	})
}

// HasInterest reports whether anything subscribes to subj in account.
func (b jsBroker) HasInterest(account, subj string) bool {
	acc := b.s.accs.lookup(account)
	return acc != nil && acc.sl.HasInterest(subj)
}

// MaxPayload is the largest payload a client of account may publish: the
// account's limit when set, else the server's.
func (b jsBroker) MaxPayload(account string) int {
	n := int(b.s.getOpts().MaxPayload)
	if acc := b.s.accs.lookup(account); acc != nil {
		if l := acc.Limits().MaxPayload; l > 0 {
			n = int(l)
		}
	}
	return n
}

// ReplyInterest follows a reply made by service imports (_R_.) back to
// the requester's account and reply, as nats-server does when a pull
// request is queued, and returns a check of interest there; nil when the
// reply did not come through an import.
func (b jsBroker) ReplyInterest(account, reply string) func() bool {
	acc := b.s.accs.lookup(account)
	if acc == nil {
		return nil
	}
	to := reply
	for depth := 0; depth < maxImportDepth && strings.HasPrefix(to, "_R_."); depth++ {
		acc.imu.Lock()
		rm := acc.resp
		acc.imu.Unlock()
		if rm == nil {
			break
		}
		rm.mu.Lock()
		e := rm.m[to]
		rm.mu.Unlock()
		if e == nil {
			break
		}
		acc, to = e.to, e.reply
	}
	if to == reply {
		return nil
	}
	return func() bool { return acc.sl.HasInterest(to) }
}
