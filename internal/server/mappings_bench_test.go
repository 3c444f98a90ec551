package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/server/subject"
	"github.com/sluicehq/sluice/internal/testutil"
)

const benchMapIn = "bench.map.in"

// checkMappedFrame publishes one message and checks, within a deadline,
// that it arrives on a subject matching pattern, and moved off the
// published one if it should, so a broken mapping fails instead of
// hanging the benchmark.
func checkMappedFrame(b *testing.B, pub, sub *benchConn, msg []byte, pattern string, moved bool) {
	b.Helper()
	pub.send(b, string(msg))
	sub.SetReadDeadline(time.Now().Add(msgWait))
	defer sub.SetReadDeadline(time.Time{})
	for {
		l, err := sub.r.ReadString('\n')
		if err != nil {
			b.Fatalf("mapped message not received: %v", err)
		}
		if l == "PING\r\n" {
			continue
		}
		f := strings.Fields(l)
		if len(f) != 4 || f[0] != "MSG" || !subject.Matches(f[1], pattern) || (moved && f[1] == benchMapIn) {
			b.Fatalf("got %q, want a message on %s", l, pattern)
		}
		if _, err := sub.r.Discard(16 + 2); err != nil {
			b.Fatal(err)
		}
		return
	}
}

// BenchmarkE2EPubMapped16 is BenchmarkE2EPubSub128's loop with 16-byte
// payloads through the publisher's account mappings: "none" is the server
// without mappings (the fast path: one nil check), "unmatched" an account
// whose mappings miss the subject, the others map every message. The
// subscriber listens where the mapping sends, so a wrong mapping hangs
// the benchmark rather than flattering it.
func BenchmarkE2EPubMapped16(b *testing.B) {
	one := func(src, dest string) []subject.Mapping {
		return []subject.Mapping{{Source: src, Dests: []subject.MapDest{{Subject: dest, Weight: 100}}}}
	}
	cases := []struct {
		name     string
		mappings []subject.Mapping
		sub      string // what the subscriber listens on
		dest     string // a subject messages land on: all are this long
	}{
		{"none", nil, "bench.map.in", "bench.map.in"},
		{"unmatched", append(one("other.*", "x.$1"), one("bench.map.out", "y")...), "bench.map.in", "bench.map.in"},
		{"literal", one("bench.map.in", "bench.map.lt"), "bench.map.lt", "bench.map.lt"},
		{"wildcard", one("bench.*.in", "bench.$1.wc"), "bench.map.wc", "bench.map.wc"},
		{"partition", one("bench.*.in", "bench.{{partition(8,1)}}.pt"), "bench.*.pt", "bench.0.pt"},
		{"weighted", []subject.Mapping{{Source: "bench.map.in", Dests: []subject.MapDest{
			{Subject: "bench.map.wa", Weight: 50}, {Subject: "bench.map.wb", Weight: 50}}}}, "bench.map.*", "bench.map.wa"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			s := testutil.RunServer(b, func(o *server.Options) { o.Mappings = c.mappings })
			sub := dialBench(b, s)
			sub.send(b, "SUB "+c.sub+" 1\r\n")
			sub.sync(b)
			pub := dialBench(b, s)
			msg := []byte("PUB " + benchMapIn + " 16\r\n0123456789abcdef\r\n")
			frame := len(fmt.Sprintf("MSG %s 1 16\r\n", c.dest)) + 16 + 2
			checkMappedFrame(b, pub, sub, msg, c.sub, c.sub != benchMapIn)

			done := make(chan error, 1)
			b.SetBytes(16)
			b.ReportAllocs()
			b.ResetTimer()
			go func() { done <- readFrames(sub.r, frame, b.N) }()
			publishN(b, pub, msg, b.N)
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			reportRate(b)
		})
	}
}
