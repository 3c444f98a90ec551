package jetstream

import "strings"

// requesters tracks the publishers that wait for their acks (KV puts,
// synchronous publishes) across the committer's groups. Such a publisher
// comes back one round trip after its ack. Committing a group as soon as
// the previous fsync ends splits 8 clients into two halves that take
// turns, each publishing during the other's fsync: 4 puts per fsync, and
// each fsync costs this VM ~100 µs of CPU besides its wait. So a group
// waits, no longer than an fsync takes, until every requester the last
// commit answered has published again: then all of them share one fsync.
// A requester is the prefix of its reply subject (nats.go: one response
// inbox per connection).
type requesters struct {
	expect map[string]bool // answered by the last commit
	seen   map[string]bool // scratch for missing
}

// maxRequesters bounds the tracking: beyond it, groups do not wait (a
// crowd of requesters fills groups without help).
const maxRequesters = 64

func newRequesters() *requesters {
	return &requesters{expect: map[string]bool{}, seen: map[string]bool{}}
}

// replyPrefix is a reply subject without its last token.
func replyPrefix(reply string) string {
	if i := strings.LastIndexByte(reply, '.'); i > 0 {
		return reply[:i]
	}
	return reply
}

// missing is how many expected requesters have no ack in out.
func (r *requesters) missing(out []outMsg) int {
	if len(r.expect) == 0 {
		return 0
	}
	clear(r.seen)
	for i := range out {
		if p := replyPrefix(out[i].subj); out[i].stored && r.expect[p] {
			r.seen[p] = true
		}
	}
	return len(r.expect) - len(r.seen)
}

// committed notes the requesters a commit answered: the next group
// expects them back. A crowd is not tracked.
func (r *requesters) committed(out []outMsg) {
	clear(r.expect)
	for i := range out {
		if out[i].stored {
			r.expect[replyPrefix(out[i].subj)] = true
			if len(r.expect) > maxRequesters {
				clear(r.expect)
				return
			}
		}
	}
}
