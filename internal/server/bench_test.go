package server_test

// End-to-end benchmarks over loopback TCP. `make bench` runs the
// BenchmarkE2E throughput ones with -benchtime 2000000x. The round-trip
// benchmarks are named outside that pattern on purpose: a loopback round
// trip costs tens of microseconds (about 80 µs on a 2-core VM, where
// nats-server v2.15.2 takes about 230 µs), so 2,000,000 of them would take
// minutes. Run them, and BenchmarkIdleConnections, on their own:
//
//	go test -run '^$' -bench 'RequestReply' -benchtime 3s ./internal/server/
//	go test -run '^$' -bench IdleConnections -benchtime 1x ./internal/server/
//
// Raw TCP clients keep client-side cost out of the figures; the request/
// reply benchmark also has a nats.go variant.

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

var idleConns = flag.Int("idleconns", 10000, "connections opened by BenchmarkIdleConnections (capped by the fd limit)")

// benchConn is a raw client connection for benchmarks.
type benchConn struct {
	net.Conn
	r *bufio.Reader
}

// dialBench connects, reads INFO and completes CONNECT with a PING/PONG.
func dialBench(b *testing.B, s *server.Server) *benchConn {
	b.Helper()
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	bc := &benchConn{Conn: c, r: bufio.NewReaderSize(c, 64*1024)}
	if _, err := bc.r.ReadString('\n'); err != nil {
		b.Fatalf("INFO: %v", err)
	}
	bc.send(b, "CONNECT "+connQuiet+"\r\n")
	bc.sync(b)
	return bc
}

func (bc *benchConn) send(b *testing.B, s string) {
	if _, err := io.WriteString(bc.Conn, s); err != nil {
		b.Fatal(err)
	}
}

// sync sends PING and waits for the PONG, skipping the server's PINGs.
func (bc *benchConn) sync(b *testing.B) {
	bc.send(b, "PING\r\n")
	for {
		l, err := bc.r.ReadString('\n')
		if err != nil {
			b.Fatalf("waiting for PONG: %v", err)
		}
		if l == "PONG\r\n" {
			return
		}
		if l != "PING\r\n" {
			b.Fatalf("waiting for PONG: got %q", testutil.Snip(l))
		}
	}
}

// publishN writes n copies of msg in large writes.
func publishN(b *testing.B, w io.Writer, msg []byte, n int) {
	const perWrite = 1024
	batch := bytes.Repeat(msg, perWrite)
	for n > 0 {
		k := min(n, perWrite)
		if _, err := w.Write(batch[:k*len(msg)]); err != nil {
			b.Fatalf("publish: %v", err)
		}
		n -= k
	}
}

func reportRate(b *testing.B) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "msgs/s")
	}
}

// BenchmarkE2EPub16: one raw publisher, 16-byte payloads, no subscribers;
// the final PING/PONG proves the server has processed everything.
func BenchmarkE2EPub16(b *testing.B) {
	s := testutil.RunServer(b)
	pub := dialBench(b, s)
	msg := []byte("PUB bench.pub 16\r\n0123456789abcdef\r\n")
	b.SetBytes(16)
	b.ReportAllocs()
	b.ResetTimer()
	publishN(b, pub, msg, b.N)
	pub.sync(b)
	b.StopTimer()
	reportRate(b)
}

// BenchmarkE2EPubSub128: one raw publisher to one raw subscriber, 128-byte
// payloads; done when the subscriber has read all b.N messages.
func BenchmarkE2EPubSub128(b *testing.B) {
	s := testutil.RunServer(b)
	sub := dialBench(b, s)
	sub.send(b, "SUB bench.ps 1\r\n")
	sub.sync(b)
	pub := dialBench(b, s)
	payload := bytes.Repeat([]byte("x"), 128)
	msg := append([]byte("PUB bench.ps 128\r\n"), payload...)
	msg = append(msg, "\r\n"...)
	frame := len("MSG bench.ps 1 128\r\n") + 128 + 2

	done := make(chan error, 1)
	b.SetBytes(128)
	b.ReportAllocs()
	b.ResetTimer()
	go func() { done <- readFrames(sub.r, frame, b.N) }()
	publishN(b, pub, msg, b.N)
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	reportRate(b)
}

// readFrames consumes n MSG frames of frameLen bytes each, skipping any
// PING the server slips in between them.
func readFrames(r *bufio.Reader, frameLen, n int) error {
	for got := 0; got < n; {
		c, err := r.Peek(1)
		if err != nil {
			return fmt.Errorf("subscriber after %d of %d messages: %w", got, n, err)
		}
		skip := frameLen
		if c[0] == 'P' {
			skip = len("PING\r\n")
		} else {
			got++
		}
		if _, err := r.Discard(skip); err != nil {
			return fmt.Errorf("subscriber after %d of %d messages: %w", got, n, err)
		}
	}
	return nil
}

// BenchmarkRequestReply: latency of one request/reply round trip
// between two raw clients (requester -> server -> responder -> server ->
// requester); ns/op is the round-trip time.
func BenchmarkRequestReply(b *testing.B) {
	s := testutil.RunServer(b)
	resp := dialBench(b, s)
	resp.send(b, "SUB bench.svc 1\r\n")
	resp.sync(b)
	req := dialBench(b, s)
	req.send(b, "SUB bench.inbox 1\r\n")
	req.sync(b)

	respDone := make(chan error, 1)
	go func() { respDone <- serveEcho(resp) }()
	reqMsg := []byte("PUB bench.svc bench.inbox 16\r\n0123456789abcdef\r\n")
	replyFrame := len("MSG bench.inbox 1 16\r\n") + 16 + 2

	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := req.Write(reqMsg); err != nil {
			b.Fatal(err)
		}
		if err := readFrames(req.r, replyFrame, 1); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/rtt")
	resp.Close()
	<-respDone
}

// serveEcho answers every "MSG <subj> <sid> <reply> <n>" with the payload
// published to the reply subject, until the connection closes.
func serveEcho(bc *benchConn) error {
	var out []byte
	for {
		line, err := bc.r.ReadSlice('\n')
		if err != nil {
			return err
		}
		if bytes.HasPrefix(line, []byte("PING")) {
			if _, err := bc.Write([]byte("PONG\r\n")); err != nil {
				return err
			}
			continue
		}
		f := bytes.Fields(line)
		if len(f) != 5 {
			return fmt.Errorf("responder: unexpected %q", line)
		}
		reply := string(f[3])
		n, err := strconv.Atoi(string(f[4]))
		if err != nil {
			return err
		}
		payload := make([]byte, n+2)
		if _, err := io.ReadFull(bc.r, payload); err != nil {
			return err
		}
		out = append(out[:0], "PUB "...)
		out = append(out, reply...)
		out = append(out, ' ')
		out = strconv.AppendInt(out, int64(n), 10)
		out = append(out, "\r\n"...)
		out = append(out, payload...)
		if _, err := bc.Write(out); err != nil {
			return err
		}
	}
}

// BenchmarkRequestReplyNatsGo: the same round trip through nats.go on
// both sides (new-style requests, one wildcard inbox subscription).
func BenchmarkRequestReplyNatsGo(b *testing.B) {
	s := testutil.RunServer(b)
	responder := testutil.Connect(b, s)
	responder.Subscribe("bench.svc", func(m *nats.Msg) { m.Respond(m.Data) })
	responder.Flush()
	requester := testutil.Connect(b, s)
	payload := []byte("0123456789abcdef")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := requester.Request("bench.svc", payload, msgWait); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/rtt")
}

// BenchmarkIdleConnections opens many raw connections, each completing
// CONNECT and a PING/PONG, and reports the server's memory per idle
// connection: (HeapInuse+StackInuse after - before) / conns, as B/conn.
// The client ends of the sockets live in the same process; they hold no
// goroutine and little heap (a few hundred bytes each), so the figure is
// slightly pessimistic.
func BenchmarkIdleConnections(b *testing.B) {
	n := *idleConns
	if limit := raiseFDLimit(); limit > 0 {
		// Two descriptors per connection (both ends), plus headroom.
		if budget := (limit - 256) / 2; n > budget {
			b.Logf("fd limit %d: opening %d connections instead of %d", limit, budget, n)
			n = budget
		}
	}
	if n <= 0 {
		b.Skip("no file descriptors to spare")
	}
	for i := 0; i < b.N; i++ {
		perConn, elapsed := idleConnections(b, n)
		b.ReportMetric(perConn, "B/conn")
		b.ReportMetric(float64(elapsed.Microseconds())/float64(n), "µs/connect")
	}
	b.ReportMetric(float64(n), "conns")
}

func idleConnections(b *testing.B, n int) (float64, time.Duration) {
	b.StopTimer()
	s, err := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort, PingInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown()
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	inUse := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse + ms.StackInuse
	}
	before := inUse()
	start := time.Now()
	b.StartTimer()
	connect := []byte("CONNECT " + connQuiet + "\r\nPING\r\n")
	buf := make([]byte, 4096)
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			b.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
		if _, err := c.Write(connect); err != nil {
			b.Fatalf("connection %d: %v", i, err)
		}
		// INFO then PONG; read until the PONG has arrived.
		var got []byte
		for !bytes.HasSuffix(got, []byte("PONG\r\n")) {
			c.SetReadDeadline(time.Now().Add(msgWait))
			k, err := c.Read(buf)
			if err != nil {
				b.Fatalf("connection %d: %v", i, err)
			}
			got = append(got, buf[:k]...)
		}
	}
	b.StopTimer()
	elapsed := time.Since(start)
	if s.NumClients() != n {
		b.Fatalf("server has %d clients, want %d", s.NumClients(), n)
	}
	after := inUse()
	return float64(int64(after)-int64(before)) / float64(n), elapsed
}
