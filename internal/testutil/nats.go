package testutil

import (
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
)

// Connect dials s with nats.go, failing the test on error. The connection
// is closed when the test ends.
func Connect(t testing.TB, s *server.Server, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := ConnectURL(s.ClientURL(), opts...)
	if err != nil {
		t.Fatalf("nats.Connect(%s): %v", s.ClientURL(), err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// ConnectURL is nats.Connect, tried again when the server's first PING
// overtook the PONG nats.go waits for during its handshake: nats.go gives
// up on that ("expected 'PONG', got 'PING'") although the server did
// nothing wrong; a server with a short ping_interval on a loaded machine
// does it now and then.
func ConnectURL(url string, opts ...nats.Option) (*nats.Conn, error) {
	for i := 0; ; i++ {
		nc, err := nats.Connect(url, opts...)
		if err == nil || i == 9 || !strings.Contains(err.Error(), "expected 'PONG', got 'PING'") {
			return nc, err
		}
	}
}
