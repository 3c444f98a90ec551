package jetstream

import (
	"errors"
	"testing"
)

// TestIngestQueueBounds: max_buffered_msgs and max_buffered_size refuse
// client publishes beyond them, never the server's own messages, and a
// take makes room again.
func TestIngestQueueBounds(t *testing.T) {
	q := newIngestQueue(2, 0)
	for i := 0; i < 2; i++ {
		if ok, err := q.push(inMsg{subj: "a", msg: []byte("x")}); !ok || err != nil {
			t.Fatalf("push %d: %v %v", i, ok, err)
		}
	}
	if _, err := q.push(inMsg{subj: "a"}); !errors.Is(err, errQueueFull) {
		t.Fatalf("third push: %v, want errQueueFull", err)
	}
	if ok, err := q.push(inMsg{internal: true, tick: true}); !ok || err != nil {
		t.Fatalf("internal push refused: %v", err)
	}
	if got, _ := q.take(nil); len(got) != 3 {
		t.Fatalf("took %d", len(got))
	}
	if ok, err := q.push(inMsg{subj: "a"}); !ok || err != nil {
		t.Fatalf("push after take: %v", err)
	}

	q = newIngestQueue(0, 10) // subject+reply+header+payload bytes
	if ok, _ := q.push(inMsg{subj: "abc", msg: []byte("1234")}); !ok {
		t.Fatal("7 bytes refused")
	}
	if _, err := q.push(inMsg{subj: "abc", msg: []byte("1")}); !errors.Is(err, errQueueFull) {
		t.Fatalf("11 bytes: %v", err)
	}

	q = newIngestQueue(-1, -1) // negative: unbounded
	for i := 0; i < defaultMaxBufferedMsgs+1; i++ {
		if _, err := q.push(inMsg{subj: "a"}); err != nil {
			t.Fatalf("unbounded queue refused push %d", i)
		}
	}
}
