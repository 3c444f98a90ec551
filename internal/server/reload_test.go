package server_test

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

func TestReloadChangedPasswordClosesOnlyStaleClients(t *testing.T) {
	s := testutil.RunServer(t, func(o *server.Options) { o.Username, o.Password = "app", "old" })
	stale := testutil.Connect(t, s, nats.UserInfo("app", "old"), nats.MaxReconnects(0))
	closed := make(chan struct{})
	stale.SetClosedHandler(func(*nats.Conn) { close(closed) })

	next := optionsLike(s, func(o *server.Options) { o.Username, o.Password = "app", "new" })
	res, err := s.ReloadOptions(next)
	if err != nil {
		t.Fatal(err)
	}
	if !contains(res.Changed, "Password") {
		t.Fatalf("changed %v", res.Changed)
	}
	select {
	case <-closed:
	case <-time.After(waitLong):
		t.Fatal("client with the old password still connected")
	}
	fresh := testutil.Connect(t, s, nats.UserInfo("app", "new"))
	checkRoundTrip(t, fresh)
	if _, err := nats.Connect(s.ClientURL(), nats.UserInfo("app", "old"), nats.MaxReconnects(0)); !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("old password: %v", err)
	}
}

func TestReloadKeepsUnaffectedClientsAndAppliesLimits(t *testing.T) {
	s := testutil.RunServer(t)
	nc := testutil.Connect(t, s)
	disconnected := make(chan struct{}, 1)
	nc.SetDisconnectErrHandler(func(*nats.Conn, error) { disconnected <- struct{}{} })
	addr := s.Addr().String()
	rc := rawConnect(t, s, connQuiet) // connected before the reload

	next := optionsLike(s, func(o *server.Options) {
		o.MaxPayload = 100
		o.Port = 1 // cannot change at runtime
	})
	res, err := s.ReloadOptions(next)
	if err != nil {
		t.Fatal(err)
	}
	if !contains(res.Kept, "Port") || !contains(res.Changed, "MaxPayload") {
		t.Fatalf("changed %v kept %v", res.Changed, res.Kept)
	}
	if s.Addr().String() != addr {
		t.Fatalf("listener moved to %v", s.Addr())
	}
	checkRoundTrip(t, nc)
	select {
	case <-disconnected:
		t.Fatal("reload disconnected an unaffected client")
	default:
	}
	// The new limit holds for existing connections too.
	rc.Send("PUB x 101\r\n")
	rc.Expect("-ERR 'Maximum Payload Violation'\r\n")
	rc.ExpectClosed()
}

func TestReloadRejectsInvalidOptions(t *testing.T) {
	s := testutil.RunServer(t)
	next := optionsLike(s, func(o *server.Options) { o.MaxPayload, o.MaxPending = 10<<20, 1<<20 })
	if _, err := s.ReloadOptions(next); err == nil {
		t.Fatal("invalid options accepted")
	}
	nc := testutil.Connect(t, s)
	if nc.MaxPayload() != server.DefaultMaxPayload {
		t.Fatalf("running options changed: max payload %d", nc.MaxPayload())
	}
}

func TestLameDuckMode(t *testing.T) {
	s := testutil.RunServer(t, func(o *server.Options) {
		o.LameDuckGracePeriod = 20 * time.Millisecond
		o.LameDuckDuration = 200 * time.Millisecond
	})
	ldm := make(chan struct{}, 1)
	closed := make(chan struct{})
	nc := testutil.Connect(t, s, nats.MaxReconnects(0),
		nats.LameDuckModeHandler(func(*nats.Conn) { ldm <- struct{}{} }),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	checkRoundTrip(t, nc)
	addr := s.Addr().String()

	done := make(chan struct{})
	go func() { s.LameDuckMode(); close(done) }()
	select {
	case <-ldm:
	case <-time.After(waitLong):
		t.Fatal("client was not told about lame duck mode")
	}
	testutil.CheckFor(t, waitLong, pollStep, func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return errors.New("still accepting connections")
		}
		return nil
	})
	for _, ch := range []chan struct{}{closed, done} {
		select {
		case <-ch:
		case <-time.After(waitLong):
			t.Fatal("lame duck mode did not close clients and shut down")
		}
	}
}

// optionsLike returns options matching the ones the test server runs with
// (random loopback port), changed by mutate.
func optionsLike(s *server.Server, mutate func(*server.Options)) server.Options {
	o := server.Options{Host: "127.0.0.1", Port: server.RandomPort}
	mutate(&o)
	return o
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
