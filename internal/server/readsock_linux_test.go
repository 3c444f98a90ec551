package server

import (
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

func TestSockReaderOnlyForPlainTCP(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if newSockReader(a) != nil {
		t.Fatal("a non-TCP connection got a socket reader")
	}
	s, _ := tcpPair(t)
	if newSockReader(s) == nil {
		t.Fatal("a TCP connection got no socket reader")
	}
}

func TestSockReaderReadsWaitsAndEnds(t *testing.T) {
	s, p := tcpPair(t)
	r := newSockReader(s)
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

func TestSockReaderDeadlineAndClose(t *testing.T) {
	s, _ := tcpPair(t)
	r := newSockReader(s)
	buf := make([]byte, 16)
	s.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := r.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("past the deadline: %v", err)
	}
	s.SetReadDeadline(time.Time{})
	// Closing the connection ends a read waiting for data, as the
	// server's close does to a reader blocked on a silent client (the pause
	// makes the wait likely; a read after the close fails the same way).
	errc := make(chan error, 1)
	go func() {
		_, err := r.Read(buf)
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	s.Close()
	select {
	case err := <-errc:
		if !isClosedConnErr(err) {
			t.Fatalf("after close: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("read did not end on close")
	}
}
