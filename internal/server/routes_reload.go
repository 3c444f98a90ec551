package server

// Reload of the cluster {} block: the route package applies it; the
// server follows the cluster name and drops the peers' interest that
// narrowed export permissions no longer serve.

// reloadRoutes applies the new cluster block (route.CheckReload passed).
func (s *Server) reloadRoutes(next *Options) {
	if s.routes == nil || next.Cluster == nil {
		return
	}
	res := s.routes.Reload(*next.Cluster)
	if res.NameChanged {
		name := s.routes.ClusterName()
		s.mu.Lock()
		s.mu.info.Cluster = name
		s.mu.Unlock()
		s.log.Noticef("Cluster name updated to %s", name)
	}
}

// PruneRemote removes the peer's interest in subjects keep refuses.
func (p *routePeer) PruneRemote(keep func(subject string) bool) {
	p.mu.Lock()
	var drop []*subscription
	for k, sub := range p.subs {
		if !keep(sub.subject) {
			drop = append(drop, sub)
			delete(p.subs, k)
		}
	}
	p.mu.Unlock()
	for _, sub := range drop {
		sub.acc.sl.Remove(sub.subject, sub.queue, sub)
	}
}
