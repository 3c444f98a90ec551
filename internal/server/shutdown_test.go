package server_test

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

// TestShutdownClosesClients: nats.go clients see the disconnect, raw ones
// read EOF, and Shutdown may be called again.
func TestShutdownClosesClients(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	const n = 5
	closed := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		nc := testutil.Connect(t, s, nats.NoReconnect(),
			nats.ClosedHandler(func(*nats.Conn) { closed <- struct{}{} }))
		nc.SubscribeSync("x")
		nc.Flush()
	}
	rc := rawConnect(t, s, connQuiet)
	// Something pending for the raw client when the server goes.
	s.PublishInternal(s.GlobalAccount(), "nobody", "", nil, nil)

	s.Shutdown()
	for i := 0; i < n; i++ {
		select {
		case <-closed:
		case <-time.After(waitLong):
			t.Fatalf("only %d of %d nats.go clients saw the server go", i, n)
		}
	}
	rc.ExpectClosed()
	if got := s.NumClients(); got != 0 {
		t.Fatalf("%d clients after Shutdown", got)
	}
	s.Shutdown() // idempotent
	if _, err := nats.Connect(s.ClientURL(), nats.NoReconnect(), nats.Timeout(time.Second)); err == nil {
		t.Fatal("connected after Shutdown")
	}
}

// TestShutdownReconnectingClient: a client with reconnect enabled notices
// the disconnect.
func TestShutdownReconnectingClient(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	disc := make(chan struct{}, 1)
	nc := testutil.Connect(t, s, nats.ReconnectWait(time.Hour),
		nats.DisconnectErrHandler(func(*nats.Conn, error) {
			select {
			case disc <- struct{}{}:
			default:
			}
		}))
	checkRoundTrip(t, nc)
	s.Shutdown()
	select {
	case <-disc:
	case <-time.After(waitLong):
		t.Fatalf("nats.go did not see the disconnect (status %v)", nc.Status())
	}
}

// TestShutdownLeavesNoGoroutines is not parallel: it counts goroutines.
// Go runs it while every parallel test is still paused.
func TestShutdownLeavesNoGoroutines(t *testing.T) {
	settle := func(max int) error {
		if n := runtime.NumGoroutine(); n > max {
			return fmt.Errorf("%d goroutines, want <= %d", n, max)
		}
		return nil
	}
	before := runtime.NumGoroutine()

	s, err := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort,
		PingInterval: 100 * time.Millisecond, AuthTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	// Every kind of connection and subscription.
	var conns []*nats.Conn
	for i := 0; i < 10; i++ {
		nc, err := testutil.ConnectURL(s.ClientURL(), nats.NoReconnect())
		if err != nil {
			s.Shutdown()
			t.Fatal(err)
		}
		conns = append(conns, nc)
		nc.Subscribe("load", func(*nats.Msg) {})
		nc.QueueSubscribe("q", "g", func(m *nats.Msg) { m.Respond(nil) })
	}
	if _, err := s.SubscribeInternal(s.GlobalAccount(), "load", "", func(string, string, []byte, []byte) {}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		conns[i%10].Publish("load", []byte("x"))
	}
	if _, err := conns[0].Request("q", nil, msgWait); err != nil {
		t.Errorf("request: %v", err)
	}
	rc := rawConnect(t, s, connQuiet) // stays silent: gets PINGs, never answers
	half := testutil.DialRaw(t, s)    // never even reads INFO

	s.Shutdown()
	for _, nc := range conns {
		nc.Close()
	}
	rc.Close()
	half.Close()

	deadline := time.Now().Add(waitLong)
	for settle(before) != nil && time.Now().Before(deadline) {
		time.Sleep(pollStep)
	}
	if err := settle(before); err != nil {
		t.Fatalf("goroutines left after Shutdown: %v\n%s", err, serverStacks())
	}
}

// serverStacks returns the stacks of goroutines running server code.
func serverStacks() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if bytes.Contains(g, []byte("sluice/internal/server.")) || bytes.Contains(g, []byte("nats-io/nats.go")) {
			out = append(out, string(g))
		}
	}
	return strings.Join(out, "\n\n")
}
