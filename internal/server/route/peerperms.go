package route

import "reflect"

// peerPerms acts on the import/export permissions a peer announces in a
// later INFO (after a reload of its cluster permissions), as nats-server
// does: a peer ignores interest in subjects it may not export, so when
// its export permission widens, the local interest it may now export
// (and that this server may import) is sent again.
func (m *Manager) peerPerms(c *Conn, info *Info) {
	if info.LameDuckMode {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.mu.remotes[c.remoteID]
	if r == nil || (reflect.DeepEqual(r.info.Import, info.Import) && reflect.DeepEqual(r.info.Export, info.Export)) {
		return
	}
	old := newPermCheck(&Config{Export: r.info.Export})
	cur := newPermCheck(&Config{Export: info.Export})
	r.info.Import, r.info.Export = info.Import, info.Export
	m.log.Debugf("%s - Peer %q announced new route permissions", c, r.name)
	out := map[*Conn][]byte{}
	for acc, t := range m.mu.interest {
		rc := m.connForLocked(r, acc)
		if rc == nil {
			continue
		}
		pa := rc.protoAccount(acc)
		for k, n := range t {
			if cur.canExport(k.subject) && !old.canExport(k.subject) && m.permsNow().canImport(k.subject) {
				out[rc] = appendSub(out[rc], true, pa, k.subject, k.queue, n)
			}
		}
	}
	for rc, b := range out {
		rc.enqueue(b)
	}
}
