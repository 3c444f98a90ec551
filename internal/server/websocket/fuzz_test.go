package websocket

import (
	"bytes"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the frame decoder: it must not
// panic, and what it hands out must not depend on how reads split them.
func FuzzDecode(f *testing.F) {
	f.Add(clientFrame(0x82, []byte("PUB a 1\r\nx\r\n")), uint8(3), true)
	f.Add(append(clientFrame(0x02, []byte("PI")), clientFrame(0x80, []byte("NG\r\n"))...), uint8(1), false)
	f.Add(clientFrame(0x89, []byte("ping")), uint8(2), false)
	f.Add([]byte{0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4}, uint8(5), true)
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint8, compress bool) {
		whole, _ := newTestConn(stream, len(stream)+1, compress)
		a, errA := readAll(whole, 4096)
		split, _ := newTestConn(stream, int(chunk%16)+1, compress)
		b, errB := readAll(split, 64)
		if (errA == nil) == (errB == nil) && a != b && !bytes.HasPrefix([]byte(a), []byte(b)) && !bytes.HasPrefix([]byte(b), []byte(a)) {
			t.Fatalf("split reads gave %q, whole %q", b, a)
		}
	})
}
