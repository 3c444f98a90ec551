package protocol

import (
	"fmt"
	"strings"
	"testing"
)

// benchStream repeats op until the stream is about 64 KiB.
func benchStream(op string) ([]byte, int) {
	n := max(1, (64<<10)/len(op))
	return []byte(strings.Repeat(op, n)), n
}

// benchParse parses stream once per iteration in reads of chunk bytes
// (0: all at once) and reports ns per operation.
func benchParse(b *testing.B, op string, chunk int) {
	stream, ops := benchStream(op)
	h := &funcHandler{}
	p := NewParser(h, 4096, 1<<20)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		rest := stream
		for len(rest) > 0 {
			n := len(rest)
			if chunk > 0 {
				n = min(n, chunk)
			}
			if err := p.Parse(rest[:n]); err != nil {
				b.Fatal(err)
			}
			rest = rest[n:]
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*ops), "ns/msg")
}

func pubOp(size int) string {
	return fmt.Sprintf("PUB foo.bar.baz %d\r\n%s\r\n", size, strings.Repeat("x", size))
}

func BenchmarkParsePub16(b *testing.B)  { benchParse(b, pubOp(16), 0) }
func BenchmarkParsePub128(b *testing.B) { benchParse(b, pubOp(128), 0) }

func BenchmarkParsePubReply128(b *testing.B) {
	benchParse(b, "PUB foo.bar.baz _INBOX.abcdefghijkl.mnop 128\r\n"+strings.Repeat("x", 128)+"\r\n", 0)
}

func BenchmarkParseHPub(b *testing.B) {
	hdr := "NATS/1.0\r\nNats-Msg-Id: 1234\r\n\r\n"
	payload := strings.Repeat("x", 128)
	benchParse(b, fmt.Sprintf("HPUB foo.bar.baz %d %d\r\n%s%s\r\n", len(hdr), len(hdr)+len(payload), hdr, payload), 0)
}

func BenchmarkParseSub(b *testing.B) { benchParse(b, "SUB foo.bar.* workers 1234\r\n", 0) }

func BenchmarkParsePing(b *testing.B) { benchParse(b, "PING\r\n", 0) }

// BenchmarkParseSplit128 feeds reads of an odd size so most reads end
// inside a control line or payload and the scratch copy path runs.
func BenchmarkParseSplit128(b *testing.B) { benchParse(b, pubOp(128), 1000) }

// BenchmarkParseSplit4K has payloads larger than a read.
func BenchmarkParseSplit4K(b *testing.B) { benchParse(b, pubOp(4096), 1500) }

func BenchmarkAppendMsg(b *testing.B) {
	dst := make([]byte, 0, 256)
	subject, sid, reply := []byte("foo.bar.baz"), []byte("12345"), []byte("_INBOX.abcdef.ghi")
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendMsg(dst[:0], subject, sid, reply, 128)
	}
}

func BenchmarkAppendHMsg(b *testing.B) {
	dst := make([]byte, 0, 256)
	subject, sid := []byte("foo.bar.baz"), []byte("12345")
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendHMsg(dst[:0], subject, sid, nil, 33, 161)
	}
}
