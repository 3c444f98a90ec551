package jetstream

import "strings"

// requesters tracks the publishers that wait for their acks (KV puts,
// synchronous publishes) across the ingest loop's groups. Such a
// publisher comes back one round trip after its ack; a group formed
// before all of them are back would split them into groups that take
// turns, an fsync each (with 8 clients, about 4 puts per fsync instead of
// 8). A group waits, no longer than an fsync takes, until every requester
// the last group answered has published again. A requester is the prefix
// of its reply subject (nats.go: one response inbox per connection).
type requesters struct {
	expect  map[string]bool // answered by the last group
	seen    map[string]bool // of those, back in this group
	missing int
	next    map[string]bool // answered by this group (the next expect)
}

// maxRequesters bounds the tracking: beyond it, groups do not wait (a
// crowd of requesters fills groups without help).
const maxRequesters = 64

func newRequesters() *requesters {
	return &requesters{expect: map[string]bool{}, seen: map[string]bool{}, next: map[string]bool{}}
}

// replyPrefix is a reply subject without its last token.
func replyPrefix(reply string) string {
	if i := strings.LastIndexByte(reply, '.'); i > 0 {
		return reply[:i]
	}
	return reply
}

// arrived notes a publish of this group.
func (r *requesters) arrived(reply string) {
	if r.missing == 0 || reply == "" {
		return
	}
	p := replyPrefix(reply)
	if r.expect[p] && !r.seen[p] {
		r.seen[p] = true
		r.missing--
	}
}

// answered notes an ack of a stored publish sent by this group.
func (r *requesters) answered(reply string) {
	if len(r.next) <= maxRequesters {
		r.next[replyPrefix(reply)] = true
	}
}

// turn starts the next group: what this group answered is expected back.
func (r *requesters) turn() {
	r.expect, r.next = r.next, r.expect
	clear(r.next)
	clear(r.seen)
	r.missing = len(r.expect)
	if r.missing > maxRequesters {
		r.missing = 0
	}
}
