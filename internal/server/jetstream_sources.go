package server

import "github.com/sluicehq/sluice/internal/server/subject"

// HasSubscription reports a subscription on exactly subj in account, not
// one on a wildcard covering it: a stream snapshot waits for its
// receiver's own subscription, which comes after the receiver's request
// inbox (a wildcard) already matches.
func (b jsBroker) HasSubscription(account, subj string) bool {
	acc := b.s.accs.lookup(account)
	if acc == nil {
		return false
	}
	r := acc.sl.Match(subj)
	for _, sub := range r.Plain {
		if sub.subject == subj {
			return true
		}
	}
	return false
}

// deliverJS delivers a JetStream message (a consumer's) to the
// subscribers of to in acc, showing subj. A stream import among them
// carries it on into its importer matched on the deliver subject (mapped
// by the import), still showing subj: how a mirror or source in another
// account, or any push consumer across an import, gets its messages.
func (c *client) deliverJS(acc *Account, to string, subj, reply []byte, hdrLen int, msg []byte, depth int) {
	r := acc.sl.Match(to)
	fwd := false
	for _, sub := range r.Plain {
		if _, ok := sub.fwd.(*streamImport); ok {
			fwd = true
			break
		}
	}
	if !fwd || depth > 8 {
		c.deliverAll(r, subj, reply, hdrLen, msg)
		return
	}
	local := subject.Result[*subscription]{Queues: r.Queues, QueueNames: r.QueueNames}
	for _, sub := range r.Plain {
		si, ok := sub.fwd.(*streamImport)
		if !ok {
			local.Plain = append(local.Plain, sub)
			continue
		}
		out := to
		switch {
		case si.tr != nil:
			if m, ok := si.tr.Apply(to); ok {
				out = m
			}
		case si.dest != "":
			out = si.dest
		}
		c.deliverJS(si.to, out, subj, reply, hdrLen, msg, depth+1)
	}
	c.deliverAll(&local, subj, reply, hdrLen, msg)
}
