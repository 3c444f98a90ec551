package testutil

import (
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
)

// Connect dials s with nats.go, failing the test on error. The connection
// is closed when the test ends.
func Connect(t testing.TB, s *server.Server, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL(), opts...)
	if err != nil {
		t.Fatalf("nats.Connect(%s): %v", s.ClientURL(), err)
	}
	t.Cleanup(nc.Close)
	return nc
}
