package server_test

// Limits and keep-alive: slow consumers, stale connections, connection and
// subscription limits, payload limits on the wire.

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

// TestSlowConsumer: a raw subscriber that never reads is disconnected once
// its pending bytes pass MaxPending; the publisher and a healthy
// subscriber are unaffected and the healthy one gets every message. The
// publisher waits for the healthy subscriber after every 32 KiB, so that
// one is never close to MaxPending behind.
func TestSlowConsumer(t *testing.T) {
	t.Parallel()
	runSlowConsumer(t, true)
}

// TestSlowConsumerBurstSparesHealthy: the same with a publisher that only
// flushes every 128 KiB (half MaxPending) and never waits for subscribers.
// nats-server stalls such a producer (its stall gate) so a subscriber that
// reads at full speed is not dropped (checked against v2.15.2: 20,000
// such messages, healthy subscriber kept); only the non-reader is.
//
// Not parallel: whether a reader at full speed keeps up with a producer
// the stall gate slows by at most 10ms a batch depends on it being
// scheduled, so the test does not compete with the others of the package.
func TestSlowConsumerBurstSparesHealthy(t *testing.T) {
	runSlowConsumer(t, false)
}

func runSlowConsumer(t *testing.T, paced bool) {
	s := testutil.RunServer(t, func(o *server.Options) {
		o.MaxPending = 256 * 1024
		o.MaxPayload = 16 * 1024
	})
	subj := uniqueSubject("firehose")

	// The slow one never reads after the handshake. (Default socket
	// buffers: a tiny receive window makes the kernel trickle the data
	// queued before the close, and the FIN, for many seconds.)
	slow := rawConnect(t, s, connQuiet)
	slow.Send("SUB " + subj + " 1\r\n")
	slow.Sync()

	var goodDisc atomic.Int64
	good := testutil.Connect(t, s, nats.DisconnectErrHandler(func(*nats.Conn, error) { goodDisc.Add(1) }))
	var got atomic.Int64
	gs, err := good.Subscribe(subj, func(*nats.Msg) { got.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	gs.SetPendingLimits(-1, -1)
	good.Flush()

	var pubErrs atomic.Int64
	pub := testutil.Connect(t, s, nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) { pubErrs.Add(1) }))
	payload := []byte(strings.Repeat("x", 1024))
	round := 128 // half of MaxPending a flush: a burst, with room for a busy machine
	if paced {
		round = 32
	}
	publish := func(n int) int {
		for i := 0; i < n; i++ {
			if err := pub.Publish(subj, payload); err != nil {
				t.Fatalf("publish: %v", err)
			}
		}
		if err := pub.Flush(); err != nil {
			t.Fatalf("publisher flush: %v", err)
		}
		return n
	}
	catchUp := func(sent int) {
		if !paced {
			return
		}
		testutil.CheckFor(t, waitLong, 100*time.Microsecond, func() error {
			if got.Load() < int64(sent) {
				return fmt.Errorf("healthy subscriber at %d of %d", got.Load(), sent)
			}
			return nil
		})
	}
	// Publish until the server has dropped the slow consumer (at most
	// 64 MiB, far beyond any socket buffering), then a tail more.
	sent := 0
	for sent < 64*1024 && s.NumClients() == 3 {
		sent += publish(round)
		catchUp(sent)
	}
	for i := 0; i < 4; i++ {
		sent += publish(round)
		catchUp(sent)
	}
	if goodDisc.Load() != 0 {
		t.Fatalf("the healthy subscriber was disconnected (dropped as a slow consumer?) at %d of %d messages", got.Load(), sent)
	}
	waitClients(t, s, 2)
	slow.Timeout = waitLong
	slow.ExpectClosed()

	testutil.CheckFor(t, waitLong, pollStep, func() error {
		if goodDisc.Load() != 0 {
			t.Fatalf("the healthy subscriber was disconnected (dropped as a slow consumer?) at %d of %d messages", got.Load(), sent)
		}
		if n := got.Load(); n != int64(sent) {
			return fmt.Errorf("healthy subscriber got %d of %d", n, sent)
		}
		return nil
	})
	if !pub.IsConnected() || pubErrs.Load() != 0 {
		t.Fatalf("publisher affected: connected=%v async errors=%d", pub.IsConnected(), pubErrs.Load())
	}
	checkHealthy(t, s, good)
}

// TestSlowConsumerNoErr: the server does not send -ERR to a slow consumer
// (nats-server closes it silently); whatever arrives before the close must
// be whole MSG frames.
func TestSlowConsumerNoErr(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, func(o *server.Options) { o.MaxPending, o.MaxPayload = 64*1024, 8*1024 })
	slow := rawConnect(t, s, connQuiet)
	slow.Send("SUB sc 1\r\n")
	slow.Sync()
	pub := rawConnect(t, s, connQuiet)
	msg := "PUB sc 1000\r\n" + strings.Repeat("y", 1000) + "\r\n"
	for i := 0; i < 100000 && s.NumClients() == 2; i += 100 {
		pub.Send(strings.Repeat(msg, 100))
	}
	pub.Sync()
	waitClients(t, s, 1)
	slow.Timeout = waitLong
	got := string(slow.ExpectClosed())
	if strings.Contains(got, "-ERR") {
		t.Fatalf("slow consumer got an -ERR (nats-server closes silently): %q", testutil.Snip(got[strings.Index(got, "-ERR"):]))
	}
}

// TestStaleConnection: a client that never answers PING is told
// -ERR 'Stale Connection' and closed; a nats.go client on the same server,
// which answers, stays up.
func TestStaleConnection(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, func(o *server.Options) {
		o.PingInterval = 100 * time.Millisecond
		o.MaxPingsOut = 5 // the answering clients may lag 0.5s on a loaded machine
	})
	alive := testutil.Connect(t, s)
	rc := rawConnect(t, s, connQuiet)
	rc.Timeout = waitLong
	pings := 0
	for {
		l := rc.ReadLine()
		if l == "PING\r\n" {
			pings++
			continue
		}
		if l != errLine("Stale Connection") {
			t.Fatalf("got %q, want PING or -ERR 'Stale Connection'", l)
		}
		break
	}
	if pings != 5 {
		t.Errorf("stale after %d unanswered PINGs, want MaxPingsOut = 5", pings)
	}
	if rest := rc.ExpectClosed(); len(rest) != 0 {
		t.Errorf("after -ERR: %q", rest)
	}
	// The answering client survived several intervals.
	checkHealthy(t, s, alive)
}

// TestPingKeepsAlive: a raw client answering PINGs is not closed.
func TestPingKeepsAlive(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, func(o *server.Options) {
		o.PingInterval = 100 * time.Millisecond
		o.MaxPingsOut = 5 // the answering clients may lag 0.5s on a loaded machine
	})
	rc := rawConnect(t, s, connQuiet)
	for i := 0; i < 4; i++ {
		if l := rc.ReadLine(); l != "PING\r\n" {
			t.Fatalf("ping %d: got %q", i, l)
		}
		rc.Send("PONG\r\n")
	}
	rc.Send("SUB k 1\r\nPUB k 2\r\nok\r\n")
	// PINGs may interleave; look for the message.
	for {
		l := rc.ReadLine()
		if l == "PING\r\n" {
			rc.Send("PONG\r\n")
			continue
		}
		if l != "MSG k 1 2\r\n" {
			t.Fatalf("got %q", l)
		}
		break
	}
}

func TestMaxConnections(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, func(o *server.Options) { o.MaxConn = 2 })
	a := testutil.Connect(t, s)
	testutil.Connect(t, s)

	// Raw: INFO first, then the -ERR, then the close.
	rc, _ := testutil.NewRawConn(t, s)
	if got := string(rc.ExpectClosed()); got != errLine("maximum connections exceeded") {
		t.Fatalf("third connection: got %q, want -ERR 'maximum connections exceeded' then close", got)
	}
	// nats.go fails to connect. Which error it reports is a race against
	// the server's close (with nats-server too, usually "broken pipe"
	// from writing CONNECT), so only the failure is checked.
	if nc, err := nats.Connect(s.ClientURL(), nats.NoReconnect()); err == nil {
		nc.Close()
		t.Fatal("nats.go third connection succeeded")
	}
	waitClients(t, s, 2)
	checkRoundTrip(t, a)
	// A slot freed is a slot usable.
	a.Close()
	waitClients(t, s, 1)
	c := testutil.Connect(t, s)
	checkRoundTrip(t, c)
}

func TestMaxConnectionsNegativeRejectsAll(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, func(o *server.Options) { o.MaxConn = -1 })
	rc, _ := testutil.NewRawConn(t, s)
	if got := string(rc.ExpectClosed()); got != errLine("maximum connections exceeded") {
		t.Fatalf("got %q", got)
	}
	waitClients(t, s, 0)
}

func TestMaxSubscriptionsClient(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, func(o *server.Options) { o.MaxSubs = 3 })
	base := s.GlobalAccount().NumSubscriptions() // the server's own
	errs := make(chan error, 4)
	nc := testutil.Connect(t, s, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		errs <- err
	}))
	for i := 0; i < 4; i++ {
		if _, err := nc.SubscribeSync(fmt.Sprintf("s.%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	nc.Flush()
	select {
	case err := <-errs:
		if !errors.Is(err, nats.ErrMaxSubscriptionsExceeded) {
			t.Fatalf("async error %v, want nats.ErrMaxSubscriptionsExceeded", err)
		}
	case <-time.After(waitLong):
		t.Fatal("no maximum subscriptions error")
	}
	if !nc.IsConnected() {
		t.Fatal("connection closed over max subscriptions")
	}
	if n := s.GlobalAccount().NumSubscriptions() - base; n != 3 {
		t.Fatalf("server holds %d subscriptions, want 3", n)
	}
	checkHealthy(t, s, nil)
}

// TestMaxPayloadRaw: the size is checked on the control line, before the
// payload is read; the bystander survives.
func TestMaxPayloadRaw(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, func(o *server.Options) { o.MaxPayload = 512 })
	nc := testutil.Connect(t, s)
	ok := rawConnect(t, s, connQuiet)
	ok.Send("SUB m 1\r\nPUB m 512\r\n" + strings.Repeat("z", 512) + "\r\n")
	ok.Expect("MSG m 1 512\r\n" + strings.Repeat("z", 512) + "\r\n")

	bad := rawConnect(t, s, connQuiet)
	bad.Send("PUB m 513\r\n") // no payload sent
	if got := string(bad.ExpectClosed()); got != errLine("Maximum Payload Violation") {
		t.Fatalf("got %q", got)
	}
	checkHealthy(t, s, nc)
	ok.Sync()
}
