package server

import (
	"cmp"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sluicehq/sluice/internal/server/monitor"
	"github.com/sluicehq/sluice/internal/server/subject"
	"github.com/sluicehq/sluice/pkg/api"
)

// Connz lists connections as /connz does: open ones, the ring of recently
// closed ones, or both, filtered, sorted and paged.
func (s *Server) Connz(o *api.ConnzOptions) (*api.Connz, error) {
	if o == nil {
		o = &api.ConnzOptions{}
	}
	opt := *o
	if opt.Sort == "" {
		opt.Sort = api.ByCid
	}
	if !opt.Sort.IsValid() {
		return nil, fmt.Errorf("invalid sorting option: %s", opt.Sort)
	}
	if opt.Sort == api.ByStop && opt.State != api.ConnClosed {
		return nil, errors.New("sort by stop only valid on closed connections")
	}
	if opt.Sort == api.ByReason && opt.State != api.ConnClosed {
		return nil, errors.New("sort by reason only valid on closed connections")
	}
	opt.Offset = max(opt.Offset, 0)
	if opt.Limit <= 0 {
		opt.Limit = api.DefaultConnListSize
	}
	if opt.CID > 0 {
		opt.Limit = 1
	}
	if opt.FilterSubject == ">" {
		opt.FilterSubject = ""
	}
	if opt.FilterSubject != "" && opt.Account == "" {
		return nil, errors.New("filter by subject only valid with account filtering")
	}

	now := time.Now()
	cz := &api.Connz{ID: s.id, Now: now.UTC(), Offset: opt.Offset, Limit: opt.Limit}
	var open []*client
	if opt.State != api.ConnClosed {
		open = s.selectOpen(&opt)
		cz.Total = len(open)
	}
	var closed []*closedConn
	if opt.State != api.ConnOpen {
		for _, cc := range s.mon.closed.list() {
			if opt.Account == "" || cc.acc == opt.Account || cc.acc == "" && opt.Account == globalAccountName {
				closed = append(closed, cc)
			}
		}
		cz.Total += len(closed)
	}

	infos := make([]*api.ConnInfo, 0, len(open)+len(closed))
	for _, c := range open {
		if ci := s.openConnInfo(c, &opt, now); ci != nil {
			infos = append(infos, ci)
		}
	}
	for _, cc := range closed {
		if ci := closedConnInfo(cc, &opt); ci != nil {
			infos = append(infos, ci)
		}
	}
	if opt.CID > 0 {
		// Open first: a cid is either open or closed, never both.
		infos = infos[:min(len(infos), 1)]
	}
	sortConnInfos(infos, opt.Sort, now)

	lo := min(opt.Offset, len(infos))
	hi := lo + min(opt.Limit, len(infos)-lo)
	cz.Conns = infos[lo:hi]
	cz.NumConns = len(cz.Conns)
	return cz, nil
}

// selectOpen returns the open connections in the requested account (all
// accounts when none is named).
func (s *Server) selectOpen(o *api.ConnzOptions) []*client {
	s.mu.Lock()
	all := make([]*client, 0, len(s.mu.clients))
	for _, c := range s.mu.clients {
		all = append(all, c)
	}
	s.mu.Unlock()
	if o.Account == "" {
		return all
	}
	out := all[:0]
	for _, c := range all {
		c.mu.Lock()
		ok := c.acc != nil && c.acc.Name == o.Account
		c.mu.Unlock()
		if ok {
			out = append(out, c)
		}
	}
	return out
}

// openConnInfo describes c, or returns nil when a filter leaves it out.
func (s *Server) openConnInfo(c *client, o *api.ConnzOptions, now time.Time) *api.ConnInfo {
	if o.CID > 0 && c.cid != o.CID || o.MQTTClient != "" {
		return nil
	}
	c.mu.Lock()
	user := c.authUserLocked()
	if o.User != "" && user != o.User || o.FilterSubject != "" && !c.hasInterestLocked(o.FilterSubject) {
		c.mu.Unlock()
		return nil
	}
	ci := &api.ConnInfo{}
	c.fillConnInfoLocked(ci, now)
	if len(c.mu.subs) > 0 && (o.Subscriptions || o.SubscriptionsDetail) {
		for _, sub := range c.mu.subs {
			if o.SubscriptionsDetail {
				ci.SubsDetail = append(ci.SubsDetail, subDetailLocked(sub))
			} else {
				ci.Subs = append(ci.Subs, sub.subject)
			}
		}
		slices.Sort(ci.Subs)
		slices.SortFunc(ci.SubsDetail, func(a, b api.SubDetail) int { return compareSid(a.Sid, b.Sid) })
	}
	if o.Username {
		ci.AuthorizedUser = user
		if c.acc != nil && c.acc.Name != globalAccountName {
			ci.Account = c.acc.Name
		}
		ci.TLSPeerCerts = c.peerCerts()
		c.jwtInfoLocked(ci)
		ci.NameTag = c.accNameTagLocked()
	}
	ping := c.rtt.Load() == 0 && c.mu.lang != "" && !c.mu.closed && c.rttStart.CompareAndSwap(0, time.Now().UnixNano())
	if ping {
		// Measure the round trip now, as nats-server does, so the next
		// look shows one.
		c.mu.pingsOut++
		c.mu.out.write(pingLine)
	}
	c.mu.Unlock()
	if ping {
		c.signalFlush()
	}
	return ci
}

func (c *client) hasInterestLocked(filter string) bool {
	for _, sub := range c.mu.subs {
		if subject.Collide(filter, sub.subject) {
			return true
		}
	}
	return false
}

// closedConnInfo is the entry for a closed connection, or nil when a
// filter leaves it out. The ring's entry is shared, so it is copied.
func closedConnInfo(cc *closedConn, o *api.ConnzOptions) *api.ConnInfo {
	if o.CID > 0 && cc.info.Cid != o.CID || o.User != "" && cc.user != o.User || o.MQTTClient != "" {
		return nil
	}
	if o.FilterSubject != "" && !slices.ContainsFunc(cc.subs, func(sd api.SubDetail) bool { return subject.Collide(o.FilterSubject, sd.Subject) }) {
		return nil
	}
	ci := cc.info
	switch {
	case len(cc.subs) == 0:
	case o.SubscriptionsDetail:
		ci.SubsDetail = cc.subs
	case o.Subscriptions:
		for _, sd := range cc.subs {
			ci.Subs = append(ci.Subs, sd.Subject)
		}
		slices.Sort(ci.Subs)
	}
	if o.Username {
		ci.AuthorizedUser, ci.Account, ci.TLSPeerCerts = cc.user, cc.acc, cc.certs
		if cc.acc != "" {
			ci.NameTag = cc.accTag
		}
	}
	return &ci
}

// fillConnInfoLocked sets what every ConnInfo shows. c.mu is held.
func (c *client) fillConnInfoLocked(ci *api.ConnInfo, now time.Time) {
	last := c.start
	if n := c.last.Load(); n != 0 {
		last = time.Unix(0, n)
	}
	*ci = api.ConnInfo{
		Cid:          c.cid,
		Kind:         "Client",
		Type:         c.clientType(),
		IP:           c.host,
		Port:         c.port,
		Start:        c.start,
		LastActivity: last,
		Uptime:       monitor.Uptime(now.Sub(c.start)),
		Idle:         monitor.Uptime(now.Sub(last)),
		RTT:          monitor.RTT(time.Duration(c.rtt.Load())),
		Pending:      c.mu.out.size + c.mu.inflight,
		InMsgs:       c.stats.inMsgs.Load(),
		InBytes:      c.stats.inBytes.Load(),
		OutMsgs:      c.mu.outMsgs,
		OutBytes:     c.mu.outBytes,
		Stalls:       c.stalls.Load(),
		NumSubs:      uint32(len(c.mu.subs)),
		Name:         c.mu.name,
		Lang:         c.mu.lang,
		Version:      c.mu.version,
	}
	// tlsState is set before the client is registered, never after.
	if st := c.tlsState; st != nil {
		ci.TLSVersion = tlsVersionName(st.Version)
		ci.TLSCipher = tls.CipherSuiteName(st.CipherSuite)
		ci.TLSFirst = c.tlsFirst
	}
}

// peerCerts identifies the certificates a TLS client presented, as
// /connz?auth=1 shows them.
func (c *client) peerCerts() []*api.TLSPeerCert {
	if c.tlsState == nil {
		return nil
	}
	var out []*api.TLSPeerCert
	for _, cert := range c.tlsState.PeerCertificates {
		spki, whole := sha256.Sum256(cert.RawSubjectPublicKeyInfo), sha256.Sum256(cert.Raw)
		out = append(out, &api.TLSPeerCert{
			Subject:          cert.Subject.String(),
			SubjectPKISha256: hex.EncodeToString(spki[:]),
			CertSha256:       hex.EncodeToString(whole[:]),
		})
	}
	return out
}

// subDetailLocked describes sub; its client's mu is held.
func subDetailLocked(sub *subscription) api.SubDetail {
	return api.SubDetail{
		Subject: sub.subject,
		Queue:   sub.queue,
		Sid:     string(sub.sid),
		Msgs:    sub.nm,
		Max:     sub.max,
		Cid:     sub.client.cid,
	}
}

// sortConnInfos orders connections as nats-server does: by cid, uptime and
// reason ascending, everything else descending. Ties keep cid order.
func sortConnInfos(cs []*api.ConnInfo, by api.SortOpt, now time.Time) {
	slices.SortFunc(cs, func(a, b *api.ConnInfo) int { return cmp.Compare(a.Cid, b.Cid) })
	var key func(*api.ConnInfo) int64
	desc := true
	switch by {
	case api.ByCid, api.ByStart:
		return
	case api.BySubs:
		key = func(c *api.ConnInfo) int64 { return int64(c.NumSubs) }
	case api.ByPending:
		key = func(c *api.ConnInfo) int64 { return int64(c.Pending) }
	case api.ByOutMsgs:
		key = func(c *api.ConnInfo) int64 { return c.OutMsgs }
	case api.ByInMsgs:
		key = func(c *api.ConnInfo) int64 { return c.InMsgs }
	case api.ByOutBytes:
		key = func(c *api.ConnInfo) int64 { return c.OutBytes }
	case api.ByInBytes:
		key = func(c *api.ConnInfo) int64 { return c.InBytes }
	case api.ByLast:
		key = func(c *api.ConnInfo) int64 { return c.LastActivity.UnixNano() }
	case api.ByIdle:
		key = func(c *api.ConnInfo) int64 { return int64(now.Sub(c.LastActivity)) }
	case api.ByUptime:
		desc = false
		key = func(c *api.ConnInfo) int64 {
			end := now
			if c.Stop != nil {
				end = *c.Stop
			}
			return int64(end.Sub(c.Start))
		}
	case api.ByStop:
		key = func(c *api.ConnInfo) int64 {
			if c.Stop == nil {
				return 0
			}
			return c.Stop.UnixNano()
		}
	case api.ByRTT:
		key = func(c *api.ConnInfo) int64 {
			d, _ := time.ParseDuration(c.RTT)
			return int64(d)
		}
	case api.ByReason:
		slices.SortStableFunc(cs, func(a, b *api.ConnInfo) int { return cmp.Compare(a.Reason, b.Reason) })
		return
	}
	slices.SortStableFunc(cs, func(a, b *api.ConnInfo) int {
		if desc {
			return cmp.Compare(key(b), key(a))
		}
		return cmp.Compare(key(a), key(b))
	})
}

// compareSid orders sids numerically when they are numbers (as clients
// make them), so that 10 comes after 9.
func compareSid(a, b string) int {
	return cmp.Or(cmp.Compare(len(a), len(b)), cmp.Compare(a, b))
}
