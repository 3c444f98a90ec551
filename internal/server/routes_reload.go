package server

import (
	"fmt"
	"slices"

	"github.com/sluicehq/sluice/internal/server/route"
)

// Reload of the cluster {} block: the route package applies it; the
// server follows the cluster name and drops the peers' interest that
// narrowed export permissions no longer serve.

// checkClusterReload refuses, before anything changes, what nats-server
// refuses: a new listener, clustering turned on or off, and a pinned
// account that does not exist.
func (s *Server) checkClusterReload(cur, next *Options) error {
	if err := route.CheckReload(cur.Cluster, next.Cluster); err != nil {
		return err
	}
	if !next.Cluster.Enabled() {
		return nil
	}
	var was []string
	if cur.Cluster != nil {
		was = cur.Cluster.PinnedAccounts
	}
	for _, a := range next.Cluster.PinnedAccounts {
		if slices.Contains(was, a) || s.LookupAccount(a) != nil || a == next.SystemAccount {
			continue
		}
		if !slices.ContainsFunc(next.Accounts, func(ac *AccountConfig) bool { return ac.Name == a }) {
			return fmt.Errorf("unable to add account %q to the list of dedicated routes: account not found", a)
		}
	}
	return nil
}

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
