package server

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
	c.deliverJS(acc, to, []byte(subj), []byte(reply), len(hdr), full, 0)
	c.endBatch()
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
		c.deliverJS(acc, to, []byte(subj), []byte(reply), len(hdr), full, 0)
	}
	c.endBatch()
}

// HasInterest reports whether anything subscribes to subj in account.
func (b jsBroker) HasInterest(account, subj string) bool {
	acc := b.s.accs.lookup(account)
	return acc != nil && acc.sl.HasInterest(subj)
}
