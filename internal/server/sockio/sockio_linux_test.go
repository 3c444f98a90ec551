package sockio

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (server, peer net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		done <- c
	}()
	peer, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-done
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { server.Close(); peer.Close() })
	return server, peer
}

func TestOnlyForPlainTCP(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if NewReader(a) != nil || NewWriter(a) != nil {
		t.Fatal("a non-TCP connection got a socket reader or writer")
	}
	s, _ := tcpPair(t)
	if NewReader(s) == nil || NewWriter(s) == nil {
		t.Fatal("a TCP connection got no socket reader or writer")
	}
}

func TestReaderReadsWaitsAndEnds(t *testing.T) {
	s, p := tcpPair(t)
	r := NewReader(s)
	buf := make([]byte, 4)
	// Data written later is waited for through the poller (the pause makes
	// the wait likely; the test holds either way).
	go func() {
		time.Sleep(20 * time.Millisecond)
		p.Write([]byte("PING\r\n"))
	}()
	var got []byte
	for len(got) < 6 {
		n, err := r.Read(buf)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != "PING\r\n" {
		t.Fatalf("read %q", got)
	}
	if n, err := r.Read(nil); n != 0 || err != nil {
		t.Fatalf("empty read: %d, %v", n, err)
	}
	// The peer's close is io.EOF, as net.Conn reports it.
	p.Close()
	if _, err := r.Read(buf); err != io.EOF {
		t.Fatalf("after the peer closed: %v, want io.EOF", err)
	}
}

func TestReaderDeadlineAndClose(t *testing.T) {
	s, _ := tcpPair(t)
	r := NewReader(s)
	buf := make([]byte, 16)
	s.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := r.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("past the deadline: %v", err)
	}
	s.SetReadDeadline(time.Time{})
	// Closing the connection ends a read waiting for data (the pause makes
	// the wait likely; a read after the close fails the same way).
	errc := make(chan error, 1)
	go func() {
		_, err := r.Read(buf)
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	s.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("after close: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("read did not end on close")
	}
}

// TestWriterWritesEverything sends more than the socket holds, in more
// buffers than one writev takes, with empty ones among them, to a peer
// that reads slowly: partial writes and waits for room must lose nothing.
func TestWriterWritesEverything(t *testing.T) {
	s, p := tcpPair(t)
	w := NewWriter(s)
	var want []byte
	var bufs net.Buffers
	for i := 0; i < 3000; i++ {
		b := bytes.Repeat([]byte{byte(i)}, 1+i%3000)
		if i%7 == 0 {
			bufs = append(bufs, nil)
		}
		bufs = append(bufs, b)
		want = append(want, b...)
	}
	got := make(chan []byte, 1)
	go func() {
		var all []byte
		buf := make([]byte, 4096)
		for len(all) < len(want) {
			time.Sleep(50 * time.Microsecond)
			n, err := p.Read(buf)
			if err != nil {
				break
			}
			all = append(all, buf[:n]...)
		}
		got <- all
	}()
	n, err := w.WriteBuffers(bufs)
	if err != nil || n != int64(len(want)) {
		t.Fatalf("wrote %d of %d: %v", n, len(want), err)
	}
	if !bytes.Equal(<-got, want) {
		t.Fatal("the peer read other bytes than were written")
	}
	if n, err := w.WriteBuffers(net.Buffers{nil, {}}); n != 0 || err != nil {
		t.Fatalf("empty write: %d, %v", n, err)
	}
}

// TestWriterDeadlineAndClose: a peer that never reads makes the write
// time out with a net.Error, as net.Conn does; a closed connection fails.
func TestWriterDeadlineAndClose(t *testing.T) {
	s, _ := tcpPair(t)
	w := NewWriter(s)
	big := net.Buffers{make([]byte, 64<<20)}
	s.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	_, err := w.WriteBuffers(big)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("past the deadline: %v, want a timeout", err)
	}
	s.SetWriteDeadline(time.Time{})
	s.Close()
	if _, err := w.WriteBuffers(net.Buffers{[]byte("x")}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("after close: %v, want net.ErrClosed", err)
	}
}

func TestConsume(t *testing.T) {
	b := func() net.Buffers { return net.Buffers{[]byte("ab"), []byte("cde"), nil, []byte("f")} }
	for n, want := range map[int]string{0: "abcdef", 1: "bcdef", 2: "cdef", 4: "ef", 5: "f", 6: ""} {
		var got []byte
		for _, x := range consume(b(), n) {
			got = append(got, x...)
		}
		if string(got) != want {
			t.Errorf("consume %d: %q, want %q", n, got, want)
		}
	}
	if len(consume(b(), 5)) != 1 {
		t.Error("an empty buffer left at the front")
	}
}

// A read or a write that goes through at once allocates nothing: the
// poller's callback is made once per socket, not per call.
func TestNoAllocationPerCall(t *testing.T) {
	s, p := tcpPair(t)
	r, w := NewReader(s), NewWriter(s)
	in, out := make([]byte, 64), []byte("PING\r\n")
	bufs := make(net.Buffers, 1)
	if a := testing.AllocsPerRun(100, func() {
		if _, err := p.Write(out); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(r, in[:len(out)]); err != nil {
			t.Fatal(err)
		}
		bufs[0] = out
		if _, err := w.WriteBuffers(bufs); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(p, in[:len(out)]); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Fatalf("%v allocations per read and write, want 0", a)
	}
}
