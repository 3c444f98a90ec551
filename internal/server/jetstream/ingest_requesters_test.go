package jetstream

import (
	"fmt"
	"testing"
)

func acks(replies ...string) []outMsg {
	var out []outMsg
	for _, r := range replies {
		out = append(out, outMsg{subj: r, stored: true})
	}
	return out
}

func TestRequestersExpectWhatWasAnswered(t *testing.T) {
	r := newRequesters()
	if n := r.missing(acks("_INBOX.a.1")); n != 0 {
		t.Fatalf("a new tracker misses %d", n)
	}
	// A commit answers three clients (two puts from one of them); an
	// error ack (not stored) is no requester to wait for.
	out := acks("_INBOX.a.1", "_INBOX.a.2", "_INBOX.b.1", "_INBOX.c.9")
	out = append(out, outMsg{subj: "_INBOX.e.1"})
	r.committed(out)
	if n := r.missing(nil); n != 3 {
		t.Fatalf("missing %d, want 3", n)
	}
	// The same client twice, an unexpected one, a message with no reply.
	if n := r.missing(acks("_INBOX.a.3", "_INBOX.a.4", "_INBOX.z.1", "")); n != 2 {
		t.Fatalf("missing %d, want 2", n)
	}
	if n := r.missing(acks("_INBOX.a.3", "_INBOX.b.2", "_INBOX.c.1")); n != 0 {
		t.Fatalf("missing %d, want 0", n)
	}
	// A commit that answered nobody: the next expects nobody.
	r.committed(nil)
	if n := r.missing(nil); n != 0 {
		t.Fatalf("missing %d after a commit with no acks", n)
	}
}

func TestRequestersCrowdIsNotTracked(t *testing.T) {
	r := newRequesters()
	var out []outMsg
	for i := range maxRequesters + 10 {
		out = append(out, acks(fmt.Sprintf("_INBOX.c%d.1", i))...)
	}
	r.committed(out)
	if n := r.missing(nil); n != 0 {
		t.Fatalf("a crowd of %d requesters is waited for (missing %d)", maxRequesters+10, n)
	}
}
