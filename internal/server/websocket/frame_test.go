package websocket

import (
	"bytes"
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
