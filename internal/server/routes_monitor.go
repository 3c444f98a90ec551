package server

import (
	"time"

	"github.com/sluicehq/sluice/internal/server/auth"
	"github.com/sluicehq/sluice/internal/server/monitor"
	"github.com/sluicehq/sluice/pkg/api"
)

// Routez lists the route connections with their traffic and, when asked,
// the interest each brought.
func (s *Server) Routez(o *api.RoutezOptions) (*api.Routez, error) {
	rz := &api.Routez{ID: s.id, Name: s.Name(), Now: time.Now().UTC(), Routes: []*api.RouteInfo{}}
	if s.routes == nil {
		return rz, nil
	}
	cfg := s.routes.Config()
	rz.Import, rz.Export = apiPerm(cfg.Import), apiPerm(cfg.Export)
	now := time.Now()
	for _, c := range s.routes.Conns() {
		ri := &api.RouteInfo{Rid: c.CID, RemoteID: c.RemoteID, RemoteName: c.RemoteName, DidSolicit: c.Solicited,
			IsConfigured: c.Explicit, IP: c.IP, Port: c.Port, Start: c.Start, LastActivity: c.LastActivity,
			Uptime: monitor.Uptime(now.Sub(c.Start)), Idle: monitor.Uptime(now.Sub(c.LastActivity)),
			Pending: c.Pending, InMsgs: c.InMsgs, OutMsgs: c.OutMsgs, InBytes: c.InBytes, OutBytes: c.OutBytes,
			Account: c.Account, Compression: c.Compression, Import: rz.Import, Export: rz.Export}
		if c.RTT > 0 {
			ri.RTT = c.RTT.String()
		}
		if p := s.routePeerOf(c.CID); p != nil {
			p.mu.Lock()
			ri.NumSubs = uint32(len(p.subs))
			if o != nil && (o.Subscriptions || o.SubscriptionsDetail) {
				for _, sub := range p.subs {
					if o.SubscriptionsDetail {
						ri.SubsDetail = append(ri.SubsDetail, api.SubDetail{Account: sub.acc.Name, Subject: sub.subject, Queue: sub.queue})
					} else {
						ri.Subs = append(ri.Subs, sub.subject)
					}
				}
			}
			p.mu.Unlock()
		}
		rz.Routes = append(rz.Routes, ri)
	}
	rz.NumRoutes = len(rz.Routes)
	return rz, nil
}

func apiPerm(p *auth.SubjectPermission) *api.SubjectPermission {
	if p == nil {
		return nil
	}
	return &api.SubjectPermission{Allow: p.Allow, Deny: p.Deny}
}

// routePeerOf finds the peer of a route connection by its id.
func (s *Server) routePeerOf(cid uint64) *routePeer {
	s.rpeers.Lock()
	defer s.rpeers.Unlock()
	return s.rpeers.m[cid]
}

// varzCluster fills the cluster section of /varz.
func (s *Server) varzCluster(v *api.Varz) {
	if s.routes == nil {
		return
	}
	cfg := s.routes.Config()
	v.Cluster = api.ClusterOptsVarz{Name: s.routes.ClusterName(), Host: cfg.Host, Port: s.routes.Port(),
		AuthTimeout: cfg.AuthTimeout.Seconds(), TLSTimeout: cfg.TLSTimeout.Seconds(),
		TLSRequired: cfg.TLSConfig != nil, TLSVerify: cfg.TLSConfig != nil, PoolSize: cfg.PoolSize,
		WriteDeadline: cfg.WriteDeadline}
	for _, u := range cfg.Routes {
		v.Cluster.URLs = append(v.Cluster.URLs, u.Host)
	}
	v.Routes = len(s.routes.Conns())
	v.Remotes = len(s.routes.Remotes())
	if v.Cluster.Host == "" {
		v.Cluster.Host = "0.0.0.0"
	}
}
