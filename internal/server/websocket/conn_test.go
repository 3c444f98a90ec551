package websocket

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/flate"
)

// clientFrame builds a masked client frame.
func clientFrame(b0 byte, payload []byte) []byte {
	h := []byte{b0}
	switch n := len(payload); {
	case n <= 125:
		h = append(h, 0x80|byte(n))
	case n < 1<<16:
		h = append(h, 0x80|126, byte(n>>8), byte(n))
	default:
		h = binary.BigEndian.AppendUint64(append(h, 0x80|127), uint64(n))
	}
	key := [4]byte{0xa1, 0xb2, 0xc3, 0xd4}
	h = append(h, key[:]...)
	p := append([]byte(nil), payload...)
	unmask(p, key, 0)
	return append(h, p...)
}

func compressed(t *testing.T, s string) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestSpeed)
	w.Write([]byte(s))
	w.Flush()
	b := buf.Bytes()
	if !bytes.HasSuffix(b, []byte{0, 0, 0xff, 0xff}) {
		t.Fatal("flush did not end in 00 00 ff ff")
	}
	return b[:len(b)-4]
}

// pipeConn returns a Conn reading what the test writes to feed (in the
// chunk sizes given), and what the Conn writes to the peer.
type fakeConn struct {
	net.Conn
	in     io.Reader
	out    bytes.Buffer
	closed bool
}

func (f *fakeConn) Read(p []byte) (int, error)       { return f.in.Read(p) }
func (f *fakeConn) Write(p []byte) (int, error)      { return f.out.Write(p) }
func (f *fakeConn) Close() error                     { f.closed = true; return nil }
func (f *fakeConn) SetWriteDeadline(time.Time) error { return nil }

// chunky reads at most n bytes at a time.
type chunky struct {
	r io.Reader
	n int
}

func (c *chunky) Read(p []byte) (int, error) {
	if len(p) > c.n {
		p = p[:c.n]
	}
	return c.r.Read(p)
}

func newTestConn(stream []byte, chunk int, compress bool) (*Conn, *fakeConn) {
	fc := &fakeConn{in: &chunky{r: bytes.NewReader(stream), n: chunk}}
	c := &Conn{raw: fc, sock: fc, compress: compress, masked: true, maxMsg: 1 << 20}
	c.rd.cbufSize = 8 << 20
	return c, fc
}

func readAll(c *Conn, bufSize int) (string, error) {
	var out strings.Builder
	buf := make([]byte, bufSize)
	for {
		n, err := c.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out.String(), nil
			}
			return out.String(), err
		}
	}
}

// TestDecodeSplits decodes the same frames whatever the read sizes: split
// headers, masks and payloads, fragments, control frames between
// fragments, compressed messages between plain ones.
func TestDecodeSplits(t *testing.T) {
	var stream []byte
	stream = append(stream, clientFrame(0x82, []byte("PUB a 5\r\nhello\r\n"))...)
	stream = append(stream, clientFrame(0x02, []byte("PUB b 3\r\n"))...)
	stream = append(stream, clientFrame(0x89, []byte("ping!"))...)
	stream = append(stream, clientFrame(0x80, []byte("abc\r\n"))...)
	long := strings.Repeat("0123456789", 7000) // 16-bit and 64-bit lengths
	stream = append(stream, clientFrame(0x82, []byte(long))...)
	stream = append(stream, clientFrame(0xC2, compressed(t, "COMPRESSED ONE\r\n"))...)
	c2 := compressed(t, strings.Repeat("zip", 100)+"\r\n")
	stream = append(stream, clientFrame(0x42, c2[:5])...) // RSV1 on the first fragment only
	stream = append(stream, clientFrame(0x80, c2[5:])...)
	stream = append(stream, clientFrame(0x81, []byte("after\r\n"))...)
	stream = append(stream, clientFrame(0x88, []byte{0x03, 0xe8})...)
	want := "PUB a 5\r\nhello\r\nPUB b 3\r\nabc\r\n" + long + "COMPRESSED ONE\r\n" + strings.Repeat("zip", 100) + "\r\nafter\r\n"
	for _, chunk := range []int{1, 2, 3, 7, 64, 1000, 1 << 20} {
		for _, bufSize := range []int{16, 512, 65536} {
			c, fc := newTestConn(stream, chunk, true)
			got, err := readAll(c, bufSize)
			if err != nil || got != want {
				t.Fatalf("chunk %d buf %d: err %v, got %d bytes, want %d", chunk, bufSize, err, len(got), len(want))
			}
			// The ping got its pong, the close its echo.
			out := fc.out.Bytes()
			if !bytes.HasPrefix(out, []byte{0x8a, 5, 'p', 'i', 'n', 'g', '!'}) || !bytes.HasSuffix(out, []byte{0x88, 2, 0x03, 0xe8}) {
				t.Fatalf("control replies % x", out)
			}
		}
	}
}

// TestInflateLimit: a compressed message inflating past max_payload is
// refused with status 1009.
func TestInflateLimit(t *testing.T) {
	bomb := compressed(t, strings.Repeat("a", 2<<20))
	c, fc := newTestConn(clientFrame(0xC2, bomb), 1<<16, true)
	_, err := readAll(c, 4096)
	if !errors.Is(err, ErrMessageTooBig) {
		t.Fatalf("err %v", err)
	}
	if out := fc.out.Bytes(); len(out) < 4 || out[0] != 0x88 || binary.BigEndian.Uint16(out[2:]) != StatusMessageTooBig {
		t.Fatalf("close frame % x", out)
	}
	// Too much compressed data gathered is refused before inflating.
	c, _ = newTestConn(clientFrame(0x42, make([]byte, 100)), 1<<16, true)
	c.rd.cbufSize = 50
	if _, err := readAll(c, 4096); !errors.Is(err, ErrMessageTooBig) {
		t.Fatalf("err %v", err)
	}
}

// decodeServer reads unmasked server frames back into messages.
func decodeServer(t *testing.T, b []byte) (msgs []string, compressedMsgs int, frames int) {
	var cur []byte
	var comp bool
	for len(b) > 0 {
		b0, b1 := b[0], b[1]
		n, k := int(b1&0x7f), 2
		switch n {
		case 126:
			n, k = int(binary.BigEndian.Uint16(b[2:])), 4
		case 127:
			n, k = int(binary.BigEndian.Uint64(b[2:])), 10
		}
		if b1&0x80 != 0 {
			t.Fatal("server frame masked")
		}
		frames++
		if b0&0x0f != 0 {
			comp = b0&0x40 != 0
		}
		cur = append(cur, b[k:k+n]...)
		b = b[k+n:]
		if b0&0x80 != 0 {
			if comp {
				compressedMsgs++
				r := flate.NewReader(io.MultiReader(bytes.NewReader(cur), bytes.NewReader(deflateTail)))
				d, err := io.ReadAll(r)
				if err != nil {
					t.Fatal(err)
				}
				cur = d
			}
			msgs = append(msgs, string(cur))
			cur = nil
		}
	}
	return
}

// TestWriteFrames: one message per write, split for browsers, compressed
// when negotiated and worth it.
func TestWriteFrames(t *testing.T) {
	big := strings.Repeat("MSG x 1 5\r\nhello\r\n", 1000)
	rnd := make([]byte, 40000)
	rand.Read(rnd)
	noise := string(rnd) // incompressible
	for _, tc := range []struct {
		name                     string
		compress, browser, nofrg bool
		in                       string
		msgs, compMsgs, minFr    int
	}{
		{"plain small", false, false, false, "PONG\r\n", 1, 0, 1},
		{"plain big", false, false, false, big, 1, 0, 1},
		{"browser big", false, true, false, big, (len(big) + 4095) / 4096, 0, (len(big) + 4095) / 4096},
		{"compressed small stays plain", true, false, false, "PONG\r\n", 1, 0, 1},
		{"compressed big", true, false, false, big, 1, 1, 1},
		{"compressed, two segments", true, false, false, big + strings.Repeat("x", 20000), 2, 2, 2},
		{"compressed browser, fragmented", true, true, false, noise[:20000], 1, 1, 5},
		{"compressed safari, not fragmented", true, true, true, noise[:20000], 1, 1, 1},
		{"plain over 64 KiB", false, false, false, noise + noise, 2, 0, 2},
		{"compressed safari", true, true, true, big, 1, 1, 1},
	} {
		fc := &fakeConn{}
		c := &Conn{raw: fc, sock: fc, compress: tc.compress, browser: tc.browser, noFrag: tc.nofrg}
		half := len(tc.in) / 2
		if _, err := c.WriteBuffers(net.Buffers{[]byte(tc.in[:half]), []byte(tc.in[half:])}); err != nil {
			t.Fatal(err)
		}
		msgs, comp, frames := decodeServer(t, fc.out.Bytes())
		if strings.Join(msgs, "") != tc.in || len(msgs) != tc.msgs || comp != tc.compMsgs || frames != tc.minFr {
			t.Errorf("%s: %d msgs (%d compressed) in %d frames; content ok %v", tc.name, len(msgs), comp, frames, strings.Join(msgs, "") == tc.in)
		}
	}
}

// TestCloseReason: Close sends the status for the reason given.
func TestCloseReason(t *testing.T) {
	for reason, status := range map[string]int{
		"Client Closed": 1000, "Authentication Failure": 1008, "Maximum Message Payload Exceeded": 1009,
		"Server Shutdown": 1001, "Protocol Violation": 1002, "Kicked": 1011,
	} {
		fc := &fakeConn{}
		c := &Conn{raw: fc, sock: fc}
		c.SetCloseReason(reason)
		c.Close()
		c.Close()
		out := fc.out.Bytes()
		if len(out) < 4 || out[0] != 0x88 || int(binary.BigEndian.Uint16(out[2:])) != status || string(out[4:]) != reason || !fc.closed {
			t.Errorf("%s: % x", reason, out)
		}
	}
	long := closePayload(1000, strings.Repeat("x", 200))
	if len(long) != 125 || !bytes.HasSuffix(long, []byte("...")) {
		t.Errorf("long close text: %d bytes", len(long))
	}
}
