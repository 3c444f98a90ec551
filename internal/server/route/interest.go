package route

// Interest records that local interest in subject (and queue group) of
// account appeared (delta > 0) or went (delta < 0), and tells the peers
// when that changes what they must know: the first and last plain
// subscriber, and every change of a queue group's weight.
func (m *Manager) Interest(account, subject, queue string, delta int32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.mu.interest[account]
	if t == nil {
		if delta <= 0 {
			return
		}
		t = map[ikey]int32{}
		m.mu.interest[account] = t
	}
	k := ikey{subject, queue}
	old := t[k]
	n := old + delta
	if n <= 0 {
		n = 0
		delete(t, k)
		if len(t) == 0 {
			delete(m.mu.interest, account)
		}
	} else {
		t[k] = n
	}
	if old == n || (queue == "" && old > 0 && n > 0) {
		return
	}
	if !m.perms.Load().canImport(subject) {
		return
	}
	add := n > 0
	var buf [256]byte
	for _, r := range m.mu.remotes {
		c := m.connForLocked(r, account)
		if c == nil {
			continue
		}
		c.enqueue(appendSub(buf[:0], add, c.protoAccount(account), subject, queue, n))
	}
}

// protoAccount is the account name as the protocol carries it on c:
// nothing on a pinned account's connection.
func (c *Conn) protoAccount(account string) string {
	if c.account != "" {
		return ""
	}
	return account
}

// connForLocked is the connection of r that carries account's traffic.
func (m *Manager) connForLocked(r *remote, account string) *Conn {
	if c := r.pinned[account]; c != nil {
		return c
	}
	if r.noPool {
		return r.conns[0]
	}
	if m.pinnedLocked(account) || r.peerPinned[account] {
		return nil // it waits for its own connection
	}
	i := PoolIndex(m.poolSize(), account)
	if i >= len(r.conns) {
		return nil
	}
	return r.conns[i]
}

// sendInterestLocked sends c all local interest of the accounts it
// carries, in one write.
func (m *Manager) sendInterestLocked(c *Conn, r *remote) {
	var b []byte
	for acc, t := range m.mu.interest {
		if m.connForLocked(r, acc) != c {
			continue
		}
		pa := c.protoAccount(acc)
		for k, n := range t {
			if m.perms.Load().canImport(k.subject) {
				b = appendSub(b, true, pa, k.subject, k.queue, n)
			}
		}
	}
	if len(b) > 0 {
		c.enqueue(b)
	}
}
