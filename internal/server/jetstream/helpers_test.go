package jetstream_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/server"
	js "github.com/sluicehq/sluice/internal/server/jetstream"
	"github.com/sluicehq/sluice/internal/testutil"
)

// runJS starts a server with JetStream storing under a temp dir.
func runJS(t testing.TB, mutate ...func(*server.Options)) *server.Server {
	t.Helper()
	dir := t.TempDir()
	return testutil.RunServer(t, append([]func(*server.Options){func(o *server.Options) {
		o.JetStream = &js.Config{Enabled: true, StoreDir: dir}
	}}, mutate...)...)
}

func connectJS(t testing.TB, s *server.Server) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc := testutil.Connect(t, s)
	j, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, j
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// request sends a raw API request and returns the reply body.
func request(t testing.TB, nc *nats.Conn, subj, body string) string {
	t.Helper()
	m, err := nc.Request(subj, []byte(body), 5*time.Second)
	if err != nil {
		t.Fatalf("request %s: %v", subj, err)
	}
	return string(m.Data)
}
