package server

import "strings"

// Deliver gives msg to the subscribers of to in account, with subj in the
// MSG line: how JetStream consumers deliver (the client sees the stored
// message's subject, not the inbox it subscribed).
func (b jsBroker) Deliver(account, to, subj, reply string, hdr, msg []byte) {
	acc := b.s.accs.lookup(account)
	if acc == nil {
		return
	}
	s := b.s
	s.ipub.Lock()
	defer s.ipub.Unlock()
	c := s.ipub.c
	if c == nil {
		c = &client{srv: s, opts: defaultInternalOpts}
		s.ipub.c = c
	}
	if c.acc != acc {
		c.acc, c.cache.m = acc, nil
	}
	full := msg
	if len(hdr) > 0 {
		full = make([]byte, 0, len(hdr)+len(msg))
		full = append(append(full, hdr...), msg...)
	}
	acc, to = throughImports(acc, to)
	if acc != nil {
		c.deliverJS(acc, to, []byte(subj), []byte(reply), len(hdr), full, 0)
	}
	c.endBatch()
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
	acc := b.s.accs.lookup(account)
	if acc == nil {
		return
	}
	s := b.s
	s.ipub.Lock()
	defer s.ipub.Unlock()
	c := s.ipub.c
	if c == nil {
		c = &client{srv: s, opts: defaultInternalOpts}
		s.ipub.c = c
	}
	if c.acc != acc {
		c.acc, c.cache.m = acc, nil
	}
	var buf []byte
	for i := 0; i < n; i++ {
		to, subj, reply, hdr, msg := at(i)
		full := msg
		if len(hdr) > 0 {
			buf = append(append(buf[:0], hdr...), msg...)
			full = buf
		}
		if dacc, dto := throughImports(acc, to); dacc != nil {
			c.deliverJS(dacc, dto, []byte(subj), []byte(reply), len(hdr), full, 0)
		}
	}
	c.endBatch()
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
