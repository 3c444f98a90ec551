package websocket_test

import (
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
	"github.com/sluicehq/sluice/internal/server"
)

// TestReportConnections: `sluice server report connections` lists
// WebSocket clients, with their type in --json.
func TestReportConnections(t *testing.T) {
	var local *server.Server
	s := srvtest.Serve(t, func(o *server.Options) {
		o.Websocket.Host, o.Websocket.Port, o.Websocket.NoTLS = "127.0.0.1", -1, true
	})
	local = s.Local
	wsConnect(t, local.WebsocketURL(), nats.UserInfo(srvtest.AppUser, srvtest.AppPass), nats.Name("browserish"))
	r := clitest.Run(t, "server", "report", "connections", "--account", "A")
	clitest.ExpectCode(t, r, 0)
	if !strings.Contains(r.Stdout, "browserish") {
		t.Fatalf("websocket client missing:\n%s", r.Stdout)
	}
	r = clitest.Run(t, "server", "report", "connections", "--account", "A", "--json")
	clitest.ExpectCode(t, r, 0)
	if !strings.Contains(r.Stdout, `"type": "websocket"`) && !strings.Contains(r.Stdout, `"type":"websocket"`) {
		t.Fatalf("no websocket type in:\n%s", r.Stdout)
	}
}
