package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

// Issue 11 #7: the listen line shows the configured host with the bound
// port, as nats-server prints it (0.0.0.0:4222 by default, not [::]:4222).
func TestListenLogLine(t *testing.T) {
	t.Parallel()
	var log logBuffer
	s := testutil.RunServer(t, func(o *server.Options) { o.Host, o.Logger = "0.0.0.0", &log })
	port := s.Addr().String()[strings.LastIndex(s.Addr().String(), ":")+1:]
	if want := fmt.Sprintf("Listening for client connections on 0.0.0.0:%s", port); !strings.Contains(log.String(), want) {
		t.Fatalf("log lacks %q:\n%s", want, log.String())
	}
}
