package sockio

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lowat reads SO_RCVLOWAT of the server end.
func lowat(t *testing.T, s net.Conn) int {
	t.Helper()
	rc, err := s.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	if err := rc.Control(func(fd uintptr) {
		v, gerr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT)
	}); err != nil {
		t.Fatal(err)
	}
	if gerr != nil {
		t.Fatal(gerr)
	}
	return v
}

// hookWaits records whether each wait of every reader was coalesced and
// calls then (if not nil) with it, on the reader's goroutine.
func hookWaits(t *testing.T, then func(coalesced bool)) func() []bool {
	var mu sync.Mutex
	var waits []bool
	testHookWait = func(c bool) {
		mu.Lock()
		waits = append(waits, c)
		mu.Unlock()
		if then != nil {
			then(c)
		}
	}
	t.Cleanup(func() { testHookWait = nil })
	return func() []bool {
		mu.Lock()
		defer mu.Unlock()
		return append([]bool(nil), waits...)
	}
}

// readAll reads from r until it has n bytes.
func readAll(r *Reader, n int) ([]byte, error) {
	var got []byte
	buf := make([]byte, 64<<10)
	for len(got) < n {
		k, err := r.Read(buf)
		if err != nil {
			return got, err
		}
		got = append(got, buf[:k]...)
	}
	return got, nil
}

// stream makes r see a stream of unanswered messages, as the client
// read loop reports one.
func stream(t *testing.T, r *Reader, p net.Conn) {
	t.Helper()
	msg := bytes.Repeat([]byte("x"), streamBytes)
	if _, err := p.Write(msg); err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(r, len(msg)); err != nil {
		t.Fatal(err)
	}
	r.Note(streamMsgs, false)
}

// TestReaderCoalescesAStream: after a stream of unanswered messages the
// next wait is coalesced (SO_RCVLOWAT raised), and what comes in below
// SO_RCVLOWAT (a last PING, written as the wait starts) is still read,
// once the pause is over. The wait after it is an ordinary one again.
func TestReaderCoalescesAStream(t *testing.T) {
	s, p := tcpPair(t)
	r := NewReader(s)
	// Accepted sockets start at 0 on some kernels, which reads as 1.
	if got := lowat(t, s); got > 1 {
		t.Fatalf("SO_RCVLOWAT %d before any stream", got)
	}
	stream(t, r, p)
	waits := hookWaits(t, func(c bool) {
		if c {
			p.Write([]byte("PING\r\n"))
		}
	})
	got, err := readAll(r, 6)
	if err != nil || string(got) != "PING\r\n" {
		t.Fatalf("read %q, %v", got, err)
	}
	if w := waits(); len(w) == 0 || !w[0] {
		t.Fatalf("waits %v, want a coalesced one first", w)
	}
	if got := lowat(t, s); got != coalesceLowat {
		t.Fatalf("SO_RCVLOWAT %d after a coalesced wait, want %d", got, coalesceLowat)
	}
	// Six bytes are no stream: the next wait lowers SO_RCVLOWAT again.
	r.Note(1, false)
	n := len(waits())
	testHookWait = func(c bool) {
		if c {
			t.Error("a wait after six bytes was coalesced")
		}
		p.Write([]byte("PONG"))
	}
	if got, err := readAll(r, 4); err != nil || string(got) != "PONG" {
		t.Fatalf("read %q, %v", got, err)
	}
	if got := lowat(t, s); got != 1 {
		t.Fatalf("SO_RCVLOWAT %d after an ordinary wait, want 1 (%d waits before)", got, n)
	}
}

// TestReaderCoalescesOnlyUnansweredStreams: a peer that was sent
// something, few messages or few bytes make an ordinary wait.
func TestReaderCoalescesOnlyUnansweredStreams(t *testing.T) {
	for name, tc := range map[string]struct {
		bytes, msgs int
		replied     bool
	}{
		"replied":     {streamBytes, streamMsgs, true},
		"few msgs":    {streamBytes, streamMsgs - 1, false},
		"few bytes":   {streamBytes - 1, streamMsgs, false},
		"not noticed": {streamBytes, 0, false},
	} {
		t.Run(name, func(t *testing.T) {
			s, p := tcpPair(t)
			r := NewReader(s)
			p.Write(bytes.Repeat([]byte("x"), tc.bytes))
			if _, err := readAll(r, tc.bytes); err != nil {
				t.Fatal(err)
			}
			r.Note(tc.msgs, tc.replied)
			waits := hookWaits(t, func(bool) { p.Write([]byte("PING")) })
			if got, err := readAll(r, 4); err != nil || string(got) != "PING" {
				t.Fatalf("read %q, %v", got, err)
			}
			for _, c := range waits() {
				if c {
					t.Fatal("the wait was coalesced")
				}
			}
			if got := lowat(t, s); got > 1 {
				t.Fatalf("SO_RCVLOWAT %d", got)
			}
		})
	}
}

// TestReaderCoalescedWaitEnds: the peer's close and a local close end a
// coalesced wait as they end an ordinary one.
func TestReaderCoalescedWaitEnds(t *testing.T) {
	for _, local := range []bool{false, true} {
		s, p := tcpPair(t)
		r := NewReader(s)
		stream(t, r, p)
		started := make(chan struct{}, 1)
		hookWaits(t, func(c bool) {
			if c {
				select {
				case started <- struct{}{}:
				default:
				}
			}
		})
		errc := make(chan error, 1)
		go func() {
			_, err := r.Read(make([]byte, 16))
			errc <- err
		}()
		<-started
		if local {
			s.Close()
			if err := <-errc; !errors.Is(err, net.ErrClosed) {
				t.Fatalf("after close: %v, want net.ErrClosed", err)
			}
		} else {
			p.Close()
			if err := <-errc; err != io.EOF {
				t.Fatalf("after the peer closed: %v, want io.EOF", err)
			}
		}
		testHookWait = nil
	}
}

// TestReaderStreamsEverything: a long stream with pauses of the writer
// (which end coalesced waits by their deadline) arrives whole and in
// order.
func TestReaderStreamsEverything(t *testing.T) {
	s, p := tcpPair(t)
	r := NewReader(s)
	waits := hookWaits(t, nil)
	var want []byte
	for i := 0; i < 2000; i++ {
		want = append(want, bytes.Repeat([]byte{byte(i)}, 1+i%700)...)
	}
	go func() {
		for i, off := 0, 0; off < len(want); i++ {
			n := min(1+i*37%9000, len(want)-off)
			p.Write(want[off : off+n])
			off += n
			if i%50 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	var got []byte
	buf := make([]byte, 8<<10)
	for len(got) < len(want) {
		n, err := r.Read(buf)
		if err != nil {
			t.Fatalf("read after %d of %d bytes: %v", len(got), len(want), err)
		}
		got = append(got, buf[:n]...)
		r.Note(n/8, false) // as if every read carried messages
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the bytes read differ from those written")
	}
	t.Logf("waits (true: coalesced): %v", waits())
}

// TestReaderWake: Wake (the writer sent the peer something) ends a
// coalesced wait, so that an answer below SO_RCVLOWAT is read at once;
// the pause is made far longer than the test may take.
func TestReaderWake(t *testing.T) {
	old := coalesceWait
	coalesceWait = time.Hour
	t.Cleanup(func() { coalesceWait = old })
	s, p := tcpPair(t)
	r := NewReader(s)
	r.Wake() // no wait coalesced: nothing to do
	stream(t, r, p)
	started := make(chan struct{}, 1)
	hookWaits(t, func(c bool) {
		if c {
			started <- struct{}{}
		}
	})
	done := make(chan []byte, 1)
	go func() {
		got, _ := readAll(r, 4)
		done <- got
	}()
	<-started
	r.Wake()
	if got := lowat(t, s); got != 1 {
		t.Fatalf("SO_RCVLOWAT %d after Wake", got)
	}
	p.Write([]byte("PING"))
	select {
	case got := <-done:
		if string(got) != "PING" {
			t.Fatalf("read %q", got)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Wake did not end the coalesced wait")
	}
}
