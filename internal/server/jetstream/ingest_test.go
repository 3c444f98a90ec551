package jetstream

import (
	"errors"
	"strconv"
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

// TestIngestQueueOfferWaits: a publisher that may wait is not refused by a
// full queue: it is handed a channel that the next take closes, and its
// message is not queued meanwhile. Closing the queue releases it too.
func TestIngestQueueOfferWaits(t *testing.T) {
	q := newIngestQueue(1, 0)
	if ok, room, err := q.offer(inMsg{subj: "a"}, true); !ok || room != nil || err != nil {
		t.Fatalf("first offer: %v %v %v", ok, room, err)
	}
	ok, room, err := q.offer(inMsg{subj: "b"}, true)
	if ok || room == nil || err != nil {
		t.Fatalf("offer to a full queue: %v %v %v, want a channel to wait on", ok, room, err)
	}
	if _, again, _ := q.offer(inMsg{subj: "c"}, true); again != room {
		t.Fatal("two waiters got different channels")
	}
	select {
	case <-room:
		t.Fatal("room before a take")
	default:
	}
	if got, _ := q.take(nil); len(got) != 1 || got[0].subj != "a" {
		t.Fatalf("took %+v, want a alone", got)
	}
	<-room // closed by the take
	if ok, room, err := q.offer(inMsg{subj: "b"}, true); !ok || room != nil || err != nil {
		t.Fatalf("offer after the take: %v %v %v", ok, room, err)
	}
	// A message larger than the queue's byte bound is refused at once:
	// no take would make room for it.
	small := newIngestQueue(0, 4)
	if ok, room, err := small.offer(inMsg{subj: "abcde"}, true); ok || room != nil || !errors.Is(err, errQueueFull) {
		t.Fatalf("offer of a message over the bound: %v %v %v, want errQueueFull", ok, room, err)
	}
	_, room, _ = q.offer(inMsg{subj: "c"}, true)
	q.close()
	<-room // closing releases waiters; their next offer is not queued
	if ok, room, err := q.offer(inMsg{subj: "c"}, true); ok || room != nil || err != nil {
		t.Fatalf("offer after close: %v %v %v", ok, room, err)
	}
}

// TestIngestQueueTakeBounded: the ingest loop takes at most maxTakeBytes
// at once (at least one message), in order, and what it leaves stays
// queued and counted.
func TestIngestQueueTakeBounded(t *testing.T) {
	q := newIngestQueue(-1, -1)
	chunk := make([]byte, 1<<20)
	const n = maxTakeBytes>>20 + 10
	for i := 0; i < n; i++ {
		q.push(inMsg{subj: "c", reply: strconv.Itoa(i), msg: chunk})
	}
	big := inMsg{subj: "b", msg: make([]byte, maxTakeBytes+1)}
	q.push(big)
	var took []string
	for len(took) < n+1 {
		got, _ := q.take(nil)
		sz := 0
		for i := range got {
			sz += inMsgSize(&got[i])
			took = append(took, got[i].subj+got[i].reply)
		}
		if len(got) > 1 && sz > maxTakeBytes {
			t.Fatalf("took %d messages of %d bytes at once", len(got), sz)
		}
	}
	for i := 0; i < n; i++ {
		if took[i] != "c"+strconv.Itoa(i) {
			t.Fatalf("message %d taken as %q", i, took[i])
		}
	}
	if took[n] != "b" || q.len() != 0 {
		t.Fatalf("last taken %q, %d left", took[n], q.len())
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.mu.size != 0 {
		t.Fatalf("queue counts %d bytes when empty", q.mu.size)
	}
}
