package server_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

// TestOwningCallbackWaitsOnReadLoop: an owning callback that cannot take a
// message yet (a stream's full ingest queue) makes the publisher's read
// loop wait: nothing more is read from that client, so its PING stays
// unanswered and its messages keep their order, while other clients are
// served. Released, the message is handed again. A wait past the budget
// ends with the callback told it may not wait (the stream refuses then).
// Not parallel: it sets the server-wide budget.
func TestOwningCallbackWaitsOnReadLoop(t *testing.T) {
	defer server.SetIngestWaitMax(time.Hour)()
	s := testutil.RunServer(t)
	var mu sync.Mutex
	full, room := true, make(chan struct{})
	var took []string
	asked := make(chan bool, 100) // mayWait of each call while full
	is, err := s.SubscribeInternalOwning(s.GlobalAccount(), "in", func(_, _ string, _, msg []byte, _, mayWait bool) <-chan struct{} {
		mu.Lock()
		defer mu.Unlock()
		if full {
			asked <- mayWait
			if mayWait {
				return room
			}
			took = append(took, "refused "+string(msg))
			return nil
		}
		took = append(took, string(msg))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.UnsubscribeInternal(is)

	pub := testutil.Connect(t, s)
	other := testutil.Connect(t, s)
	for _, m := range []string{"m1", "m2", "m3"} {
		if err := pub.Publish("in", []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	flushed := make(chan error, 1)
	go func() { flushed <- pub.FlushTimeout(time.Minute) }()
	if !<-asked {
		t.Fatal("a client's read loop was not allowed to wait")
	}
	checkRoundTrip(t, other) // others are served meanwhile
	select {
	case err := <-flushed:
		t.Fatalf("the waiting publisher's PING was answered (%v)", err)
	default:
	}
	mu.Lock()
	full = false
	close(room)
	mu.Unlock()
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if want := []string{"m1", "m2", "m3"}; !slices.Equal(took, want) {
		t.Errorf("callback took %q, want %q", took, want)
	}
	full, room, took = true, make(chan struct{}), nil
	mu.Unlock()

	// A wait that lasts too long: the callback is called again and told
	// it may not wait.
	defer server.SetIngestWaitMax(50 * time.Millisecond)()
	if err := pub.Publish("in", []byte("m4")); err != nil {
		t.Fatal(err)
	}
	if err := pub.FlushTimeout(msgWait); err != nil {
		t.Fatal(err)
	}
	if first, second := <-asked, <-asked; !first || second {
		t.Fatalf("calls allowed to wait: %v then %v, want true then false", first, second)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"refused m4"}; !slices.Equal(took, want) {
		t.Fatalf("callback took %q, want %q", took, want)
	}
}
