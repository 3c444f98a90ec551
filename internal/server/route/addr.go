package route

import "net"

// Addr is the route listener's address, nil when not listening.
func (m *Manager) Addr() *net.TCPAddr {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.ln == nil {
		return nil
	}
	a, _ := m.mu.ln.Addr().(*net.TCPAddr)
	return a
}
