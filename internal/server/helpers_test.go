package server_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

// CONNECT bodies used by the raw tests.
const (
	connQuiet     = `{"verbose":false,"pedantic":false}`
	connHdrs      = `{"verbose":false,"pedantic":false,"headers":true}`
	connPedantic  = `{"verbose":false,"pedantic":true}`
	connProtocol1 = `{"verbose":false,"pedantic":false,"protocol":1}`
)

// Timeouts for polling: generous, since polls end as soon as they succeed.
const (
	waitLong = 10 * time.Second
	pollStep = 5 * time.Millisecond
	msgWait  = 5 * time.Second
)

// rawConnect dials s, reads INFO and sends CONNECT (which must not ask for
// verbose) followed by a PING/PONG round trip.
func rawConnect(t *testing.T, s *server.Server, connectJSON string) *testutil.RawConn {
	t.Helper()
	rc, _ := testutil.NewRawConn(t, s)
	rc.Connect(connectJSON, false)
	return rc
}

var uniq atomic.Int64

// uniqueSubject returns a subject no other test uses.
func uniqueSubject(prefix string) string {
	return fmt.Sprintf("%s.%d", prefix, uniq.Add(1))
}

// checkRoundTrip proves nc still publishes and receives through the server.
func checkRoundTrip(t *testing.T, nc *nats.Conn) {
	t.Helper()
	subj := uniqueSubject("health")
	sub, err := nc.SubscribeSync(subj)
	if err != nil {
		t.Fatalf("health subscribe: %v", err)
	}
	defer sub.Unsubscribe()
	if err := nc.Publish(subj, []byte("ping")); err != nil {
		t.Fatalf("health publish: %v", err)
	}
	m, err := sub.NextMsg(msgWait)
	if err != nil {
		t.Fatalf("health: message not received: %v", err)
	}
	if string(m.Data) != "ping" {
		t.Fatalf("health: got %q", m.Data)
	}
}

// checkHealthy proves the server still serves: the existing client nc and
// a brand-new connection (dialled with opts) both pub/sub fine.
func checkHealthy(t *testing.T, s *server.Server, nc *nats.Conn, opts ...nats.Option) {
	t.Helper()
	if nc != nil {
		if !nc.IsConnected() {
			t.Fatalf("bystander client lost its connection: %v", nc.LastError())
		}
		checkRoundTrip(t, nc)
	}
	fresh := testutil.Connect(t, s, opts...)
	checkRoundTrip(t, fresh)
	fresh.Close()
}

// waitClients polls until the server has n client connections.
func waitClients(t *testing.T, s *server.Server, n int) {
	t.Helper()
	testutil.CheckFor(t, waitLong, pollStep, func() error {
		if got := s.NumClients(); got != n {
			return fmt.Errorf("server has %d clients, want %d", got, n)
		}
		return nil
	})
}

// errLine is the exact -ERR line the server sends for text.
func errLine(text string) string { return "-ERR '" + text + "'\r\n" }

// runServer starts a server with an optional mutator (nil for defaults).
func runServer(t testing.TB, mutate func(*server.Options)) *server.Server {
	t.Helper()
	if mutate == nil {
		return testutil.RunServer(t)
	}
	return testutil.RunServer(t, mutate)
}

// natsAuth returns the nats.go options that authenticate against a server
// configured by mutate.
func natsAuth(mutate func(*server.Options)) []nats.Option {
	var o server.Options
	if mutate != nil {
		mutate(&o)
	}
	switch {
	case o.Authorization != "":
		return []nats.Option{nats.Token(o.Authorization)}
	case o.Username != "":
		return []nats.Option{nats.UserInfo(o.Username, o.Password)}
	}
	return nil
}
