package jetstream

import (
	"fmt"
	"testing"
)

func TestRequestersExpectWhatWasAnswered(t *testing.T) {
	r := newRequesters()
	if r.missing != 0 {
		t.Fatal("a new tracker expects nobody")
	}
	// A group answers three clients (two puts from one of them).
	r.answered("_INBOX.a.1")
	r.answered("_INBOX.a.2")
	r.answered("_INBOX.b.1")
	r.answered("_INBOX.c.9")
	r.turn()
	if r.missing != 3 {
		t.Fatalf("missing %d, want 3", r.missing)
	}
	r.arrived("_INBOX.a.3")
	r.arrived("_INBOX.a.4") // the same client again
	r.arrived("")           // no reply: not a requester
	r.arrived("_INBOX.z.1") // not expected
	if r.missing != 2 {
		t.Fatalf("missing %d, want 2", r.missing)
	}
	r.arrived("_INBOX.b.2")
	r.arrived("_INBOX.c.1")
	if r.missing != 0 {
		t.Fatalf("missing %d, want 0", r.missing)
	}
	// This group answered nobody: the next expects nobody.
	r.turn()
	if r.missing != 0 {
		t.Fatalf("missing %d after a group with no acks", r.missing)
	}
}

func TestRequestersCrowdIsNotTracked(t *testing.T) {
	r := newRequesters()
	for i := range maxRequesters + 10 {
		r.answered(fmt.Sprintf("_INBOX.c%d.1", i))
	}
	r.turn()
	if r.missing != 0 {
		t.Fatalf("a crowd of %d requesters is waited for (missing %d)", maxRequesters+10, r.missing)
	}
}
