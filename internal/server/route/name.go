package route

import "fmt"

// NameListener is implemented by a Broker that wants to know when the
// cluster name changes (a generated name giving way to a peer's).
type NameListener interface {
	ClusterNameChanged(name string)
}

// checkClusterName agrees on a cluster name with the peer remoteID, as
// nats-server does: a generated name gives way to a configured one, or to
// a greater generated one. On a change every route to another server is
// dropped, so that it reconnects and agrees on the new name.
func (m *Manager) checkClusterName(theirs string, theirDynamic bool, remoteID string) error {
	m.mu.Lock()
	if theirs == "" || theirs == m.mu.name {
		m.mu.Unlock()
		return nil
	}
	if theirs == "_" {
		m.mu.Unlock()
		return fmt.Errorf("Rejecting connection, cluster name %q is reserved", theirs)
	}
	if !m.mu.dynamic || (theirDynamic && m.mu.name >= theirs) {
		name := m.mu.name
		m.mu.Unlock()
		return fmt.Errorf("Rejecting connection, cluster name %q does not match %q", theirs, name)
	}
	m.setNameLocked(theirs, theirDynamic)
	var drop []*Conn
	for _, c := range m.registeredLocked() {
		if c.remoteID != remoteID {
			drop = append(drop, c)
		}
	}
	m.mu.Unlock()
	m.log.Noticef("Cluster name updated to %s", theirs)
	if nl, ok := m.b.(NameListener); ok {
		nl.ClusterNameChanged(theirs)
	}
	for _, c := range drop {
		c.close("Cluster Name Conflict", false)
	}
	return nil
}

// setNameLocked sets the cluster name (m.mu held): every change of
// m.mu.name goes through here, so that ClusterName, read without the
// lock, follows.
func (m *Manager) setNameLocked(name string, dynamic bool) {
	m.mu.name, m.mu.dynamic = name, dynamic
	m.cname.Store(&name)
}
