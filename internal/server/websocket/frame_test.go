package websocket

import (
	"bytes"
	"strings"
	"testing"
)

// TestUnmaskTo checks the one-pass unmask against byte-by-byte XOR, in
// place and moved backwards over overlapping bytes, for every length
// around the word sizes and every starting key offset.
func TestUnmaskTo(t *testing.T) {
	key := [4]byte{0x11, 0x22, 0x33, 0x44}
	for n := 0; n < 80; n++ {
		for pos := 0; pos < 4; pos++ {
			src := make([]byte, n)
			for i := range src {
				src[i] = byte(i*7 + 3)
			}
			want := make([]byte, n)
			for i := range src {
				want[i] = src[i] ^ key[(pos+i)&3]
			}
			for shift := 0; shift <= 14; shift++ {
				buf := make([]byte, shift+n)
				copy(buf[shift:], src)
				next := unmaskTo(buf, buf[shift:], key, pos)
				if !bytes.Equal(buf[:n], want) {
					t.Fatalf("n=%d pos=%d shift=%d: %x, want %x", n, pos, shift, buf[:n], want)
				}
				if next != (pos+n)&3 {
					t.Fatalf("n=%d pos=%d: next offset %d", n, pos, next)
				}
			}
		}
	}
}

func BenchmarkUnmaskTo16K(b *testing.B) {
	buf := make([]byte, 16*1024+6)
	key := [4]byte{1, 2, 3, 4}
	b.SetBytes(16 * 1024)
	for b.Loop() {
		unmaskTo(buf, buf[6:], key, 0)
	}
}

func BenchmarkUnmaskThenCopy16K(b *testing.B) {
	buf := make([]byte, 16*1024+6)
	key := [4]byte{1, 2, 3, 4}
	b.SetBytes(16 * 1024)
	for b.Loop() {
		unmask(buf[6:], key, 0)
		copy(buf, buf[6:])
	}
}

// loop hands out a byte stream over and over, as much as asked for: a
// socket with a backlog.
type loop struct {
	b   []byte
	off int
}

func (l *loop) Read(p []byte) (int, error) {
	n := copy(p, l.b[l.off:])
	l.off = (l.off + n) % len(l.b)
	return n, nil
}

// BenchmarkReadPublishFrames is the read path of a nats.go publisher:
// masked 32 KiB frames of 128-byte PUBs (what one flush of its buffer
// sends) through Conn.Read into a 64 KiB buffer, the read loop's largest.
// The bytes per op are the client protocol bytes handed out.
func BenchmarkReadPublishFrames(b *testing.B) {
	pub := "PUB b.p 128\r\n" + strings.Repeat("x", 128) + "\r\n"
	payload := []byte(strings.Repeat(pub, 32*1024/len(pub)))
	var stream []byte
	for range 8 {
		stream = append(stream, clientFrame(0x82, payload)...)
	}
	fc := &fakeConn{in: &loop{b: stream}}
	c := &Conn{raw: fc, sock: fc, masked: true, maxMsg: 1 << 20}
	buf := make([]byte, 64*1024)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		for got := 0; got < len(buf); {
			n, err := c.Read(buf[got:])
			if err != nil {
				b.Fatal(err)
			}
			got += n
		}
	}
}
