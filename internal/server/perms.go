package server

import (
	"fmt"
	"time"

	"github.com/sluicehq/sluice/internal/server/auth"
	"github.com/sluicehq/sluice/internal/server/subject"
)

// maxPermCache bounds a connection's cache of publish decisions; past it
// the cache starts over (publishers to unbounded subject sets pay a
// sublist match, everyone else nothing).
const maxPermCache = 256

// permCache remembers CanPublish answers for one connection. The read
// loop owns it; it resets itself when the permissions object changes.
type permCache struct {
	of  *auth.Checker
	pub map[string]bool
}

// replyGrant is a reply subject a client may publish to once it received
// a request (allow_responses).
type replyGrant struct {
	n       int
	granted time.Time
}

// bindIdentity moves a freshly authenticated client into its account and
// puts its permissions in force. It fails if the account is unknown.
func (c *client) bindIdentity(id *identity) bool {
	name := id.acc
	if name == "" {
		name = globalAccountName
	}
	acc := c.srv.accs.lookup(name)
	if acc == nil {
		return false
	}
	c.mu.Lock()
	old := c.acc
	c.acc = acc
	c.mu.user = id.user
	c.mu.callout = id.kind == "callout"
	c.setPermsLocked(id.perms)
	c.bindJWTLocked(id)
	c.mu.Unlock()
	if old != acc {
		old.numClients.Add(-1)
		acc.numClients.Add(1)
		c.cache.m = nil
	}
	return true
}

// setPermsLocked installs new permissions, including the delivery filters
// of existing wildcard subscriptions.
func (c *client) setPermsLocked(p *auth.Checker) {
	c.perms.Store(p)
	c.mu.resp = nil
	if p != nil {
		c.mu.resp = p.Response
	}
	if c.mu.resp == nil {
		c.mu.replies = nil
	}
	for _, sub := range c.mu.subs {
		sub.deny = denyFilter(p, sub.subject, sub.queue)
	}
}

// denyFilter is the checker to consult on each delivery to a subscription
// on subj in group queue: wildcard or queue subscriptions of users with a
// subscribe deny list need one (a deny entry may name a subject under the
// wildcard, or a queue group).
func denyFilter(p *auth.Checker, subj, queue string) *auth.Checker {
	if p.HasSubscribeDeny() && (queue != "" || !subject.IsLiteral(subj)) {
		return p
	}
	return nil
}

// canPublish checks publish permissions, through the connection's cache,
// then the reply grants of allow_responses.
func (c *client) canPublish(subj []byte) bool {
	p := c.perms.Load()
	if p == nil {
		return true
	}
	if c.pcache.of != p || len(c.pcache.pub) >= maxPermCache {
		c.pcache = permCache{of: p, pub: make(map[string]bool, 16)}
	}
	allowed, ok := c.pcache.pub[string(subj)]
	if !ok {
		allowed = p.CanPublish(string(subj))
		c.pcache.pub[string(subj)] = allowed
	}
	if allowed {
		return true
	}
	return p.Response != nil && c.useReplyGrant(string(subj))
}

// useReplyGrant spends one reply allowed by allow_responses.
func (c *client) useReplyGrant(subj string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.spendReplyLocked(subj)
}

// spendReplyLocked counts one reply to subj against its grant and says
// whether the grant allowed it; a spent or expired grant is dropped.
func (c *client) spendReplyLocked(subj string) bool {
	g := c.mu.replies[subj]
	rp := c.mu.resp
	if g == nil || rp == nil {
		return false
	}
	g.n++
	if (rp.MaxMsgs > 0 && g.n > rp.MaxMsgs) || (rp.Expires > 0 && time.Since(g.granted) > rp.Expires) {
		delete(c.mu.replies, subj)
		return false
	}
	return true
}

// grantReplyLocked records that the client received a request it may
// answer. Called on delivery with the client's lock held. As in
// nats-server, a delivery of a request whose reply subject is still
// granted spends one reply of that grant (the same request delivered
// twice to one client leaves it fewer replies, not more); a fresh grant
// is made only when none is left.
func (c *client) grantReplyLocked(p *auth.Checker, reply []byte) {
	if p.CanPublish(string(reply)) {
		return // allowed anyway: nothing to track
	}
	if c.spendReplyLocked(string(reply)) {
		return
	}
	if c.mu.replies == nil {
		c.mu.replies = make(map[string]*replyGrant)
	}
	if len(c.mu.replies) >= 4096 {
		c.pruneRepliesLocked()
	}
	c.mu.replies[string(reply)] = &replyGrant{granted: time.Now()}
}

func (c *client) pruneRepliesLocked() {
	rp := c.mu.resp
	for k, g := range c.mu.replies {
		if rp == nil || rp.Expires <= 0 || time.Since(g.granted) > rp.Expires || (rp.MaxMsgs > 0 && g.n >= rp.MaxMsgs) {
			delete(c.mu.replies, k)
		}
	}
	if len(c.mu.replies) >= 4096 {
		clear(c.mu.replies) // none expire: keep memory bounded all the same
	}
}

func (c *client) pubViolation(subj []byte) {
	c.srv.log.Errorf("%s - cid:%d - \"Publish Violation - %s, Subject %q\"", c.hostPort(), c.cid, c.userLabel(), subj)
	c.sendErr(c.tracedIngressError(fmt.Sprintf("Permissions Violation for Publish to %q", subj)))
}

// tracedIngressError records why a traced message was refused.
func (c *client) tracedIngressError(text string) string {
	if c.trace != nil {
		c.trace.IngressError(text)
	}
	return text
}

func (c *client) subViolation(subj, queue []byte) {
	if len(queue) > 0 {
		c.srv.log.Errorf("%s - cid:%d - \"Subscription Violation - %s, Subject %q, Queue: %q\"", c.hostPort(), c.cid, c.userLabel(), subj, queue)
		c.sendErr(fmt.Sprintf("Permissions Violation for Subscription to %q using queue %q", subj, queue))
		return
	}
	c.srv.log.Errorf("%s - cid:%d - \"Subscription Violation - %s, Subject %q\"", c.hostPort(), c.cid, c.userLabel(), subj)
	c.sendErr(fmt.Sprintf("Permissions Violation for Subscription to %q", subj))
}

func (c *client) userLabel() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.user == "" {
		return `User "N/A"`
	}
	return fmt.Sprintf("User %q", c.mu.user)
}

// reauthenticate re-checks a connected client after a reload: it is cut if
// its credentials no longer hold or its account changed, otherwise it
// gets its new permissions and loses subscriptions they no longer allow.
//
// A login the callout service vouched for is asked about again only when
// askCallout says the authorization options changed (as nats-server does
// on such a reload), with the whole CONNECT the client sent.
func (s *Server) reauthenticate(c *client, askCallout bool) {
	c.mu.Lock()
	creds := c.mu.creds
	viaCallout := c.mu.callout
	c.mu.Unlock()
	if viaCallout {
		if !askCallout {
			return
		}
		creds = c.opts // written once before connected is set
	}
	id, err := c.authenticate(&creds, c.connType())
	name := globalAccountName
	if id != nil && id.acc != "" {
		name = id.acc
	}
	if err != nil || s.accs.lookup(name) != c.acc {
		s.log.Noticef("%s - cid:%d - Credentials no longer valid after reload; closing", c.hostPort(), c.cid)
		c.sendErrAndClose("Authorization Violation", reasonAuthFailure)
		return
	}
	c.mu.Lock()
	c.setPermsLocked(id.perms)
	c.bindJWTLocked(id)
	var revoked []*subscription
	for sid, sub := range c.mu.subs {
		if !id.perms.CanSubscribe(sub.subject, sub.queue) {
			sub.closed = true
			delete(c.mu.subs, sid)
			revoked = append(revoked, sub)
		}
	}
	c.mu.Unlock()
	for _, sub := range revoked {
		if sub.acc.sl.Remove(sub.subject, sub.queue, sub) == nil {
			c.srv.routeInterest(sub, -1)
		}
		c.subViolation([]byte(sub.subject), []byte(sub.queue))
	}
}
