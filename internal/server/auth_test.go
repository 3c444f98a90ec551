package server_test

import (
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

func TestAuthNatsGo(t *testing.T) {
	t.Parallel()
	userPass := func(o *server.Options) { o.Username, o.Password = "alice", "s3cr3t" }
	token := func(o *server.Options) { o.Authorization = "t0k3n" }
	cases := []struct {
		name   string
		server func(*server.Options)
		client []nats.Option
		ok     bool
	}{
		{"user pass", userPass, []nats.Option{nats.UserInfo("alice", "s3cr3t")}, true},
		{"user pass in url", userPass, nil, true}, // URL filled in below
		{"wrong password", userPass, []nats.Option{nats.UserInfo("alice", "nope")}, false},
		{"wrong user", userPass, []nats.Option{nats.UserInfo("bob", "s3cr3t")}, false},
		{"no credentials", userPass, nil, false},
		{"token for user pass", userPass, []nats.Option{nats.Token("s3cr3t")}, false},
		{"token", token, []nats.Option{nats.Token("t0k3n")}, true},
		{"wrong token", token, []nats.Option{nats.Token("nope")}, false},
		{"token missing", token, nil, false},
		{"user pass for token", token, []nats.Option{nats.UserInfo("t0k3n", "t0k3n")}, false},
		{"no auth configured, creds ignored", nil, []nats.Option{nats.UserInfo("x", "y")}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := runServer(t, tc.server)
			url := s.ClientURL()
			if tc.name == "user pass in url" {
				url = "nats://alice:s3cr3t@" + s.Addr().String()
			}
			nc, err := nats.Connect(url, append(tc.client, nats.NoReconnect())...)
			if tc.ok {
				if err != nil {
					t.Fatalf("connect: %v", err)
				}
				defer nc.Close()
				checkRoundTrip(t, nc)
				return
			}
			if err == nil {
				nc.Close()
				t.Fatal("connected with bad credentials")
			}
			if !errors.Is(err, nats.ErrAuthorization) {
				t.Fatalf("err = %v, want nats.ErrAuthorization", err)
			}
			waitClients(t, s, 0)
			// The server keeps serving good clients.
			checkHealthy(t, s, nil, natsAuth(tc.server)...)
		})
	}
}

// TestAuthTimeout: no CONNECT within the auth timeout gets
// -ERR 'Authentication Timeout' and a close; a client that does connect in
// time is not affected by the timer.
func TestAuthTimeout(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, func(o *server.Options) {
		o.Authorization = "t0k3n"
		o.AuthTimeout = time.Second // long enough for a loaded machine to connect the good ones
	})
	idle, info := testutil.NewRawConn(t, s)
	if !info.AuthRequired {
		t.Fatal("INFO lacks auth_required")
	}
	good, _ := testutil.NewRawConn(t, s)
	good.Connect(`{"verbose":false,"auth_token":"t0k3n"}`, false)

	if got := string(idle.ExpectClosed()); got != errLine("Authentication Timeout") {
		t.Fatalf("idle connection: got %q, want -ERR 'Authentication Timeout' then close", got)
	}
	// Well past the timeout the authenticated one still works.
	nc := testutil.Connect(t, s, nats.Token("t0k3n"))
	checkRoundTrip(t, nc)
	good.Send("SUB a 1\r\nPUB a 1\r\nx\r\n")
	good.Expect("MSG a 1 1\r\nx\r\n")

	// A CONNECT with bad credentials before the timer fires is an
	// Authorization Violation, not a timeout.
	bad, _ := testutil.NewRawConn(t, s)
	bad.Send(`CONNECT {"auth_token":"nope"}` + "\r\n")
	if got := string(bad.ExpectClosed()); got != errLine("Authorization Violation") {
		t.Fatalf("bad token: got %q", got)
	}
}

// TestAuthNoTimeoutWithoutAuth: without auth the timer does not apply.
func TestAuthNoTimeoutWithoutAuth(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, func(o *server.Options) { o.AuthTimeout = 20 * time.Millisecond })
	rc, _ := testutil.NewRawConn(t, s)
	// Waiting for a message published after several timeouts' worth of
	// time proves the connection survived (no sleeping: the publisher
	// below runs only once the subscriber is registered).
	rc.Send("SUB late 1\r\n")
	rc.Expect("+OK\r\n")
	nc := testutil.Connect(t, s)
	deadline := time.Now().Add(200 * time.Millisecond)
	for time.Now().Before(deadline) {
		checkRoundTrip(t, nc)
	}
	nc.Publish("late", []byte("x"))
	nc.Flush()
	rc.Expect("MSG late 1 1\r\nx\r\n")
}
