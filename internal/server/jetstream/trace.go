package jetstream

// TraceStream names the stream whose subject subscription is the one is
// matches, for message tracing (nats-server's "js" step); ok is false
// for every other subscription (API, direct get, consumers).
func (js *JetStream) TraceStream(account string, is func(Subscription) bool) (name string, ok bool) {
	a := js.account(account)
	if a == nil {
		return "", false
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	for _, s := range a.mu.streams {
		s.mu.RLock()
		for _, sub := range s.mu.subs {
			if is(sub) {
				name, ok = s.name, true
				break
			}
		}
		s.mu.RUnlock()
		if ok {
			return name, true
		}
	}
	return "", false
}
