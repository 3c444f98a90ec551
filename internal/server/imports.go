package server

import (
	"crypto/rand"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/server/subject"
)

// Imports and exports join accounts. Each import is a subscription with a
// forwarding rule, so matching and delivery stay the same machinery:
//
//   - stream import: a subscription in the exporter on the exported
//     subjects; each message is re-published into the importer under the
//     rewritten subject.
//   - service import: a subscription in the importer on the local subject;
//     each request is re-published into the exporter with a fresh reply
//     subject _R_.<account tag>.<random>, remembered in the exporter's
//     response map. A subscription in the exporter on _R_.<tag>.> catches
//     the replies and sends them back to the requester's reply subject.

// maxImportDepth stops import chains (A imports from B imports from A).
const maxImportDepth = 4

// forwarder is what an import subscription does with a matched message.
type forwarder interface {
	forward(c *client, subj, reply []byte, hdrLen int, msg []byte) bool
}

// streamImport re-publishes the exporter's messages into the importer.
type streamImport struct {
	to   *Account
	dest string             // delivered subject of a literal import, "" = unchanged
	tr   *subject.Transform // rename of a wildcard import, nil = none
	// allowTrace lets message traces follow into the importer.
	allowTrace bool
}

func (si *streamImport) forward(c *client, subj, reply []byte, hdrLen int, msg []byte) bool {
	out := subj
	switch {
	case si.tr != nil:
		if m, ok := si.tr.Append(nil, subj); ok {
			out = m
		}
	case si.dest != "":
		out = []byte(si.dest)
	}
	if c.trace != nil {
		// nats-server records the export once per importer subscription
		// it reaches (it carries the import by shadowing them), and none
		// when the importer has no interest.
		takers := streamTakers(si.to.sl.MatchBytes(out))
		if takers == 0 {
			return false
		}
		for range takers {
			c.trace.StreamExport(si.to.Name, string(out))
		}
		stop, restore, hl, m := c.traceBoundary(si.allowTrace, hdrLen, msg)
		if stop {
			return true // counted as delivered, as nats-server does
		}
		defer restore()
		hdrLen, msg = hl, m
	}
	// A streamed message reaches the importer's subscribers but not its
	// service imports: nats-server carries stream imports by shadowing the
	// importer's subscriptions, and service imports have none.
	was := c.streamed
	c.streamed = true
	defer func() { c.streamed = was }()
	return c.publishIn(si.to, out, reply, hdrLen, msg)
}

// streamTakers counts the subscriptions a streamed message can reach: plain
// ones other than service imports, and one per queue group.
func streamTakers(r *subject.Result[*subscription]) int {
	n := len(r.Queues)
	for _, sub := range r.Plain {
		if _, svc := sub.fwd.(*serviceImport); !svc {
			n++
		}
	}
	return n
}

// serviceImport sends the importer's requests into the exporter.
type serviceImport struct {
	from      *Account           // the exporter
	local     string             // subject the importer publishes to
	remote    string             // subject in the exporter
	tr        *subject.Transform // local onto remote for wildcard renames
	respType  string
	threshold time.Duration
	importer  *Account
	share     bool // the requester's details go in Nats-Request-Info
	// allowTrace (from the export) lets message traces follow the request.
	allowTrace bool
}

func (si *serviceImport) forward(c *client, subj, reply []byte, hdrLen int, msg []byte) bool {
	out := subj
	switch {
	case si.tr != nil:
		if m, ok := si.tr.Append(nil, subj); ok {
			out = m
		}
	case si.local != si.remote:
		out = []byte(si.remote) // a literal service
	}
	out, drop := mapImportedIn(si.from, out, c.srv.ClusterName())
	if drop {
		return false
	}
	if c.trace != nil {
		c.trace.ServiceImport(si.from.Name, string(subj), string(out))
		stop, restore, hl, m := c.traceBoundary(si.allowTrace, hdrLen, msg)
		if stop {
			return false
		}
		defer restore()
		hdrLen, msg = hl, m
		if c.trace != nil {
			var done func()
			hdrLen, msg, done = c.traceDestThrough(si.from, hdrLen, msg)
			defer done()
		}
	}
	hdrLen, msg = c.stampRequestInfo(si, hdrLen, msg)
	hops, shared := c.svcHops, c.svcShared
	c.svcHops, c.svcShared = hops+1, shared || si.share
	defer func() { c.svcHops, c.svcShared = hops, shared }()
	if len(reply) == 0 {
		return c.publishIn(si.from, out, nil, hdrLen, msg)
	}
	rm := si.from.responses()
	if rm.advertised.CompareAndSwap(false, true) {
		c.srv.routeInterest(rm.sub, 1) // replies may come from another server
	}
	newReply := rm.add(si.importer, reply, si.respType, si.threshold)
	delivered := c.publishIn(si.from, out, []byte(newReply), hdrLen, msg)
	if !delivered {
		rm.remove(newReply)
	}
	return delivered
}

// responseRouter catches replies in the exporter and routes them back.
type responseRouter struct{ acc *Account }

func (rr *responseRouter) forward(c *client, subj, reply []byte, hdrLen int, msg []byte) bool {
	rm := rr.acc.responses()
	e := rm.take(string(subj))
	if e == nil {
		return false
	}
	to, drop := mapImportedIn(e.to, []byte(e.reply), c.srv.ClusterName())
	if drop {
		return false
	}
	return c.publishIn(e.to, to, reply, hdrLen, msg)
}

// mapImported applies acc's mappings to a subject arriving through a
// service import: the request in the exporter, the reply back in the
// requester. nats-server maps both; it maps neither stream imports nor the
// server's own publishes, and neither does sluice.
//
// mapImported is for JetStream's deliveries: a JetStream server is never
// in a cluster (see checkJetStreamCluster), so no cluster-scoped
// destination applies. mapImportedIn picks those of cluster.
func mapImported(acc *Account, subj []byte) (out []byte, drop bool) {
	return mapImportedIn(acc, subj, "")
}

func mapImportedIn(acc *Account, subj []byte, cluster string) (out []byte, drop bool) {
	ms := acc.mappings.Load()
	if ms == nil {
		return subj, false
	}
	m, ok := ms.Map(nil, subj, cluster)
	if !ok {
		return subj, false
	}
	return m, len(m) == 0
}

// responseEntry is one request in flight through a service import.
type responseEntry struct {
	to      *Account
	reply   string
	single  bool
	expires time.Time
}

// responseMap holds an exporter's requests in flight, by generated reply.
type responseMap struct {
	prefix string // _R_.<tag>.
	// sub catches the replies; advertised once routes were told of it.
	sub        *subscription
	advertised atomic.Bool
	mu         sync.Mutex
	m          map[string]*responseEntry
	swept      time.Time
}

func newResponseMap() *responseMap {
	return &responseMap{prefix: "_R_." + randomToken(6) + ".", m: make(map[string]*responseEntry)}
}

func (rm *responseMap) add(to *Account, reply []byte, respType string, threshold time.Duration) string {
	if threshold <= 0 {
		threshold = DefaultResponseThreshold
	}
	key := rm.prefix + randomToken(10)
	now := time.Now()
	rm.mu.Lock()
	rm.m[key] = &responseEntry{to: to, reply: string(reply), single: respType == "" || respType == ResponseSingleton, expires: now.Add(threshold)}
	if now.Sub(rm.swept) > time.Second {
		rm.sweepLocked(now)
	}
	rm.mu.Unlock()
	return key
}

// take returns the entry for a reply, forgetting it once a single reply
// has gone back or it has expired.
func (rm *responseMap) take(key string) *responseEntry {
	now := time.Now()
	rm.mu.Lock()
	defer rm.mu.Unlock()
	e := rm.m[key]
	if e == nil {
		return nil
	}
	if now.After(e.expires) {
		delete(rm.m, key)
		return nil
	}
	if e.single {
		delete(rm.m, key)
	}
	return e
}

func (rm *responseMap) remove(key string) {
	rm.mu.Lock()
	delete(rm.m, key)
	rm.mu.Unlock()
}

func (rm *responseMap) sweepLocked(now time.Time) {
	rm.swept = now
	for k, e := range rm.m {
		if now.After(e.expires) {
			delete(rm.m, k)
		}
	}
}

// pending is the number of requests in flight, for tests and monitoring.
func (rm *responseMap) pending() int {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	rm.sweepLocked(time.Now())
	return len(rm.m)
}

// responses returns the account's response map, creating it and its
// reply-catching subscription on first use.
func (a *Account) responses() *responseMap {
	a.imu.Lock()
	defer a.imu.Unlock()
	if a.resp == nil {
		a.resp = newResponseMap()
		sub := &subscription{acc: a, subject: a.resp.prefix + ">", fwd: &responseRouter{acc: a}}
		a.sl.Insert(sub.subject, "", sub)
		a.resp.sub = sub
	}
	return a.resp
}

// publishIn delivers a message to the subscribers of another account.
func (c *client) publishIn(acc *Account, subj, reply []byte, hdrLen int, msg []byte) bool {
	if c.importDepth >= maxImportDepth {
		return false
	}
	c.importDepth++
	delivered := c.deliverAll(acc.sl.MatchBytes(subj), subj, reply, hdrLen, msg)
	c.importDepth--
	return delivered
}

// configureImports (re)builds every configured account's import
// subscriptions; a reload calls it again with the new configuration.
func (s *Server) configureImports(o *Options) {
	// Reloads and account JWT updates rewire from different goroutines.
	s.importsMu.Lock()
	defer s.importsMu.Unlock()
	for _, a := range s.accs.all() {
		a.dropImports()
		s.addSystemImports(a)
	}
	all := append(append([]*AccountConfig(nil), o.Accounts...), s.jwtAccountConfigs()...)
	for _, ac := range all {
		importer := s.accs.lookup(ac.Name)
		for _, im := range ac.Imports {
			exporter := s.accs.lookup(im.Account)
			var src *AccountConfig
			for _, c := range all {
				if c.Name == im.Account {
					src = c
				}
			}
			if exporter == nil || src == nil {
				continue
			}
			ex := src.findExport(im.Subject, im.Service, ac.Name)
			if ex == nil {
				continue
			}
			if im.Service {
				local, tr, err := serviceImportTransform(im.To, im.Subject)
				if err != nil {
					continue // refused by validation
				}
				fw := &serviceImport{from: exporter, importer: importer, local: local, remote: im.Subject, tr: tr, respType: ex.ResponseType, threshold: ex.ResponseThreshold, share: im.Share, allowTrace: ex.AllowTrace}
				importer.addImport(&subscription{acc: importer, subject: local, fwd: fw})
				continue
			}
			tr, err := streamImportTransform(im.Subject, im.streamDest())
			if err != nil {
				continue
			}
			fw := &streamImport{to: importer, tr: tr, allowTrace: im.AllowTrace}
			if tr == nil && im.streamDest() != im.Subject {
				fw.dest = im.streamDest()
			}
			exporter.addImport(&subscription{acc: exporter, subject: im.Subject, fwd: fw})
		}
	}
}

func (a *Account) addImport(sub *subscription) {
	if err := a.sl.Insert(sub.subject, "", sub); err != nil {
		return
	}
	a.imu.Lock()
	a.importSubs = append(a.importSubs, sub)
	a.imu.Unlock()
}

// dropImports removes the import subscriptions an account holds (its
// service imports and the stream imports others take from it).
func (a *Account) dropImports() {
	a.imu.Lock()
	subs := a.importSubs
	a.importSubs = nil
	a.imu.Unlock()
	for _, sub := range subs {
		a.sl.Remove(sub.subject, "", sub)
	}
}

const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomToken returns n random subject-safe characters.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = tokenAlphabet[int(b[i])%len(tokenAlphabet)]
	}
	return string(b)
}

// NumPendingResponses is the number of requests from importers that are
// waiting for replies from this account's services.
func (a *Account) NumPendingResponses() int {
	a.imu.Lock()
	rm := a.resp
	a.imu.Unlock()
	if rm == nil {
		return 0
	}
	return rm.pending()
}
