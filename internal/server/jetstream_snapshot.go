package server

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
