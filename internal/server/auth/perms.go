package auth

import (
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/server/subject"
)

// Defaults of allow_responses, as nats-server has them.
const (
	DefaultResponseMaxMsgs = 1
	DefaultResponseExpires = 2 * time.Minute
)

// SubjectPermission lists subjects allowed and denied. A nil Allow allows
// everything; an empty non-nil Allow allows nothing. Subscribe entries may
// name a queue group after a space: "orders.* workers".
type SubjectPermission struct {
	Allow []string `json:"allow,omitempty"`
	Deny  []string `json:"deny,omitempty"`
}

// ResponsePermission lets a client publish to the reply subjects of the
// requests it received: at most MaxMsgs replies each, within Expires.
type ResponsePermission struct {
	MaxMsgs int           `json:"max"`
	Expires time.Duration `json:"ttl"`
}

// Permissions of one user.
type Permissions struct {
	Publish   *SubjectPermission  `json:"publish,omitempty"`
	Subscribe *SubjectPermission  `json:"subscribe,omitempty"`
	Response  *ResponsePermission `json:"responses,omitempty"`
}

// Normalize applies nats-server's rule that allowing responses turns off
// the blanket publish allowance.
func (p *Permissions) Normalize() {
	if p == nil || p.Response == nil {
		return
	}
	if p.Publish == nil {
		p.Publish = &SubjectPermission{}
	}
	if p.Publish.Allow == nil {
		p.Publish.Allow = []string{}
	}
}

// Validate reports the first malformed subject or queue entry.
func (p *Permissions) Validate() error {
	if p == nil {
		return nil
	}
	for _, sp := range []*SubjectPermission{p.Publish, p.Subscribe} {
		if sp == nil {
			continue
		}
		for _, e := range append(append([]string(nil), sp.Allow...), sp.Deny...) {
			if !ValidEntry(e, sp == p.Subscribe) {
				return &InvalidSubjectError{Entry: e}
			}
		}
	}
	return nil
}

// ValidEntry reports whether e is a subject, followed by a queue group
// name when queues are allowed (subscribe permissions).
func ValidEntry(e string, queues bool) bool {
	f := strings.Fields(e)
	switch {
	case len(f) == 1:
		return subject.ValidSubject(f[0])
	case len(f) == 2 && queues:
		return subject.ValidSubject(f[0]) && subject.ValidQueue(f[1])
	}
	return false
}

// InvalidSubjectError names a permission entry that is not a subject.
type InvalidSubjectError struct{ Entry string }

func (e *InvalidSubjectError) Error() string {
	return "invalid subject " + strconv.Quote(e.Entry) + " in permissions"
}

func splitQueue(e string) (subj, queue string) {
	f := strings.Fields(e)
	switch len(f) {
	case 0:
		return "", ""
	case 1:
		return f[0], ""
	default:
		return f[0], f[1]
	}
}

// Checker is a compiled Permissions: sublists of the allow and deny
// entries. It is immutable and shared by every connection of the user;
// each connection keeps its own small cache of answers.
type Checker struct {
	pubAllow, pubDeny *subject.Sublist[string]
	subAllow, subDeny *subject.Sublist[string]
	Response          *ResponsePermission
}

// Compile builds a Checker; nil permissions give a nil Checker, which
// allows everything.
func Compile(p *Permissions) *Checker {
	if p == nil {
		return nil
	}
	c := &Checker{Response: p.Response}
	if p.Publish != nil {
		c.pubAllow, c.pubDeny = build(p.Publish.Allow), build(p.Publish.Deny)
	}
	if p.Subscribe != nil {
		c.subAllow, c.subDeny = build(p.Subscribe.Allow), build(p.Subscribe.Deny)
	}
	return c
}

func build(entries []string) *subject.Sublist[string] {
	if entries == nil {
		return nil
	}
	sl := subject.NewSublistNoCache[string]()
	for _, e := range entries {
		subj, queue := splitQueue(e)
		sl.Insert(subj, queue, e)
	}
	return sl
}

// CanPublish reports whether subj may be published to. Deny wins.
func (c *Checker) CanPublish(subj string) bool {
	if c == nil {
		return true
	}
	if c.pubAllow != nil && c.pubAllow.Match(subj).Empty() {
		return false
	}
	return c.pubDeny == nil || len(c.pubDeny.Match(subj).Plain) == 0
}

// CanSubscribe reports whether a subscription to subj (possibly with
// wildcards, matched as tokens) in queue group queue is allowed.
func (c *Checker) CanSubscribe(subj, queue string) bool {
	if c == nil {
		return true
	}
	if c.subAllow != nil {
		r := c.subAllow.Match(subj)
		allowed := len(r.Plain) > 0
		if queue != "" && len(r.Queues) > 0 {
			// Queue entries for this subject decide for queue subscribers.
			allowed = queueListed(queue, r.QueueNames)
		}
		if !allowed {
			return false
		}
	}
	if c.subDeny != nil {
		r := c.subDeny.Match(subj)
		if len(r.Plain) > 0 || (queue != "" && queueListed(queue, r.QueueNames)) {
			return false
		}
	}
	return true
}

// HasSubscribeDeny reports whether deliveries must be filtered: a
// wildcard subscription may be allowed while some subjects under it are
// denied.
func (c *Checker) HasSubscribeDeny() bool { return c != nil && c.subDeny != nil }

// DeniesDelivery reports whether a message on subj must not reach a
// subscription in queue group queue ("" for none) of a subscriber holding
// these permissions. Queue deny entries ("subject group") apply to
// deliveries too: a wildcard queue subscription is accepted, so its
// messages on denied subjects are dropped here, as nats-server does.
func (c *Checker) DeniesDelivery(subj, queue string) bool {
	if c == nil || c.subDeny == nil {
		return false
	}
	r := c.subDeny.Match(subj)
	return len(r.Plain) > 0 || (queue != "" && queueListed(queue, r.QueueNames))
}

// queueListed reports whether queue matches one of the queue patterns
// (which may use subject wildcards).
func queueListed(queue string, patterns []string) bool {
	for _, p := range patterns {
		if p == queue || subject.Matches(queue, p) {
			return true
		}
	}
	return false
}
