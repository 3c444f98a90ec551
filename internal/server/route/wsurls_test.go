package route_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

func withWebsocket(o *server.Options) {
	o.Websocket.Host, o.Websocket.Port, o.Websocket.NoTLS = "127.0.0.1", -1, true
}

func wsHostPort(s *server.Server) string {
	return strings.TrimPrefix(s.WebsocketURL(), "ws://")
}

// waitDiscovered waits until nc learned exactly the servers want (as
// scheme://host:port) from the INFO its server pushed.
func waitDiscovered(t *testing.T, nc *nats.Conn, want ...string) {
	t.Helper()
	slices.Sort(want)
	testutil.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		got := nc.DiscoveredServers()
		slices.Sort(got)
		if !slices.Equal(got, want) {
			return fmt.Errorf("discovered %v, want %v", got, want)
		}
		return nil
	})
}

// WebSocket clients learn the cluster's WebSocket URLs (the peers'
// websocket addresses gossiped in route INFO), TCP clients the client
// URLs, as members come.
func TestWSConnectURLs(t *testing.T) {
	s1 := node(t, "s1", withWebsocket)
	ws1, err := nats.Connect(s1.WebsocketURL())
	if err != nil {
		t.Fatal(err)
	}
	defer ws1.Close()
	tcp1 := connect(t, s1)
	s2 := node(t, "s2", withWebsocket, s1)
	waitMesh(t, s1, s2)
	// The URL the client dialed is not "discovered"; the peer's is.
	waitDiscovered(t, ws1, "ws://"+wsHostPort(s2))
	waitDiscovered(t, tcp1, "nats://"+s2.Addr().String())
	v, _ := s1.Varz()
	if !slices.Contains(v.WSConnectURLs, wsHostPort(s2)) || !slices.Contains(v.WSConnectURLs, wsHostPort(s1)) {
		t.Fatalf("varz ws_connect_urls %v", v.WSConnectURLs)
	}
	// A server without a websocket listener adds nothing for WebSocket clients.
	s3 := node(t, "s3", nil, s1)
	waitMesh(t, s1, s2, s3)
	waitDiscovered(t, tcp1, "nats://"+s2.Addr().String(), "nats://"+s3.Addr().String())
	waitDiscovered(t, ws1, "ws://"+wsHostPort(s2))
}

// nats-server and sluice exchange their WebSocket URLs over the route:
// each one's WebSocket clients learn the other's.
func TestWSConnectURLsWithNATSServer(t *testing.T) {
	s1 := node(t, "s1", withWebsocket)
	ref := startRefConf(t, fmt.Sprintf(`listen: "127.0.0.1:-1"
server_name: ref1
websocket { listen: "127.0.0.1:-1", no_tls: true }
cluster { name: c, listen: "127.0.0.1:-1", routes: ["nats-route://127.0.0.1:%d"] }
`, s1.Routes().Port()))
	b, err := os.ReadFile(filepath.Join(ref.dir, "nats-server_"+strconv.Itoa(ref.cmd.Process.Pid)+".ports"))
	if err != nil {
		t.Fatal(err)
	}
	var p struct{ WebSocket []string }
	if err := json.Unmarshal(b, &p); err != nil || len(p.WebSocket) == 0 {
		t.Fatalf("ports file: %v %s", err, b)
	}
	refWS := p.WebSocket[0]
	ws1, err := nats.Connect(s1.WebsocketURL())
	if err != nil {
		t.Fatal(err)
	}
	defer ws1.Close()
	waitDiscovered(t, ws1, refWS)
	wsRef, err := nats.Connect(refWS)
	if err != nil {
		t.Fatal(err)
	}
	defer wsRef.Close()
	waitDiscovered(t, wsRef, s1.WebsocketURL())
}

// A server entering lame duck mode tells its own clients only the other
// servers' URLs, as nats-server does, so that they move there.
func TestLameDuckINFOListsOnlyOthers(t *testing.T) {
	ss := mesh(t, 3, nil)
	rc, info := testutil.NewRawConn(t, ss[0])
	rc.Connect(`{"protocol":1,"verbose":false}`, false)
	own := ss[0].Addr().String()
	if len(info.ConnectURLs) == 0 {
		// Peers may have joined after the first INFO: wait for the push.
		info = rc.ReadInfo()
	}
	if !slices.Contains(info.ConnectURLs, own) {
		t.Fatalf("connect_urls %v lack this server's %s", info.ConnectURLs, own)
	}
	go ss[0].LameDuckMode()
	for {
		info = rc.ReadInfo()
		if info.LameDuckMode {
			break
		}
	}
	want := []string{ss[1].Addr().String(), ss[2].Addr().String()}
	slices.Sort(want)
	if !slices.Equal(info.ConnectURLs, want) {
		t.Fatalf("lame duck INFO connect_urls %v, want %v", info.ConnectURLs, want)
	}
	ss[0].Shutdown()
}
