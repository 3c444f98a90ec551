package testutil

import (
	"testing"

	"github.com/sluicehq/sluice/internal/server"
)

// RunServer starts a server on a random loopback port and shuts it down
// when the test ends. Options may be adjusted by the mutators.
func RunServer(t testing.TB, mutate ...func(*server.Options)) *server.Server {
	t.Helper()
	opts := server.Options{Host: "127.0.0.1", Port: server.RandomPort}
	for _, m := range mutate {
		m(&opts)
	}
	s, err := server.New(opts)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	if err := s.Start(); err != nil {
		t.Fatalf("server.Start: %v", err)
	}
	t.Cleanup(s.Shutdown)
	return s
}
