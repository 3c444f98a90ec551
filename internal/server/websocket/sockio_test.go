package websocket

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

type nopLog struct{}

func (nopLog) Noticef(string, ...any) {}
func (nopLog) Warnf(string, ...any)   {}
func (nopLog) Errorf(string, ...any)  {}
func (nopLog) Debugf(string, ...any)  {}

type connBroker chan *Conn

func (b connBroker) AcceptWebsocket(c *Conn) { b <- c }
func (b connBroker) MaxPayload() int         { return 1 << 20 }

// TestPlainSocketIO: a ws:// connection reads and writes its socket
// through package sockio, and a payload larger than a read, in frames
// split anywhere, comes out unmasked and whole; what the server writes
// arrives as frames.
func TestPlainSocketIO(t *testing.T) {
	accepted := make(connBroker, 1)
	o := &Options{Host: "127.0.0.1", Port: -1, NoTLS: true}
	l, err := Listen(func() *Options { return o }, accepted, nopLog{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cl, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	cl.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(cl, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(cl)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	var c *Conn
	select {
	case c = <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("no connection accepted")
	}
	defer c.Close()
	if c.srd == nil || c.swr == nil {
		t.Fatal("a ws:// connection does not use raw socket I/O")
	}

	want := strings.Repeat("PUB a 5\r\nhello\r\n", 3000)
	var stream []byte
	for i, k := 0, 0; i < len(want); i += k {
		k = min(1+i%7000, len(want)-i)
		var b0 byte // a continuation frame
		if i == 0 {
			b0 = opBinary
		}
		if i+k == len(want) {
			b0 |= bitFinal
		}
		stream = append(stream, clientFrame(b0, []byte(want[i:i+k]))...)
	}
	go cl.Write(stream)
	got, err := io.ReadAll(io.LimitReader(c, int64(len(want))))
	if err != nil || string(got) != want {
		t.Fatalf("read %d bytes (%v), want %d", len(got), err, len(want))
	}

	if _, err := c.WriteBuffers([][]byte{[]byte("MSG a 1 5\r\n"), []byte("hello\r\n")}); err != nil {
		t.Fatal(err)
	}
	hdr := make([]byte, 2)
	if _, err := io.ReadFull(br, hdr); err != nil || hdr[0] != 0x82 || int(hdr[1]) != 18 {
		t.Fatalf("frame header %x, %v", hdr, err)
	}
	body := make([]byte, 18)
	if _, err := io.ReadFull(br, body); err != nil || string(body) != "MSG a 1 5\r\nhello\r\n" {
		t.Fatalf("frame body %q, %v", body, err)
	}
}
