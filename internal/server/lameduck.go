package server

import "time"

// InLameDuckMode reports whether the server is draining before shutdown.
func (s *Server) InLameDuckMode() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.ldm
}

// LameDuckMode stops accepting connections, tells clients (an INFO with
// "ldm":true, so they can move to another server), waits the grace period,
// then closes the clients spread over the lame duck duration, and shuts
// the server down. It returns once the server is shut down.
func (s *Server) LameDuckMode() {
	s.mu.Lock()
	if s.mu.ldm || s.mu.shutdown || !s.mu.running {
		s.mu.Unlock()
		return
	}
	s.mu.ldm = true
	s.mu.info.LameDuckMode = true
	ln := s.mu.ln
	clients := make([]*client, 0, len(s.mu.clients))
	for _, c := range s.mu.clients {
		clients = append(clients, c)
	}
	s.mu.Unlock()

	o := s.getOpts()
	s.log.Noticef("Entering lame duck mode, stop accepting new clients")
	s.lameDuckEvent()
	if s.routes != nil {
		s.routes.EnterLameDuck() // peers stop advertising this server
	}
	ln.Close()
	s.stopWebsocket()
	s.refreshConnectURLs() // only the other servers' now, sent just below
	for _, c := range clients {
		c.mu.Lock()
		proto := c.mu.protocol
		c.mu.Unlock()
		if proto >= 1 && c.sentFirstP.Load() {
			c.enqueue(s.infoFor(c, false))
		}
	}
	if !s.sleepUnlessShutdown(o.LameDuckGracePeriod) {
		return
	}
	if n := len(clients); n > 0 {
		spread := o.LameDuckDuration - o.LameDuckGracePeriod
		if spread <= 0 {
			spread = o.LameDuckDuration
		}
		s.log.Noticef("Closing %d existing clients over %v", n, spread)
		pause := spread / time.Duration(n)
		for _, c := range clients {
			c.closeConnection(reasonServerShutdown)
			if pause > 0 && !s.sleepUnlessShutdown(pause) {
				return
			}
		}
	}
	s.Shutdown()
}

// sleepUnlessShutdown waits d, returning false if the server shut down
// meanwhile.
func (s *Server) sleepUnlessShutdown(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.doneCh:
		return false
	}
}
