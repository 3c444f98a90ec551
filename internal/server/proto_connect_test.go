package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/testutil"
)

// CONNECT and PING sent together are answered with the PONG and the
// connect_info INFO in one write, as nats-server does. A client that
// reads the PONG alone would take a later INFO for a topology change.
func TestProtoPongAndInfoInOneWrite(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	for i := 0; i < 300; i++ {
		rc, _ := testutil.NewRawConn(t, s)
		rc.Send("CONNECT {\"verbose\":false,\"protocol\":1,\"headers\":true}\r\nPING\r\n")
		nc := rc.Conn()
		nc.SetReadDeadline(time.Now().Add(testutil.DefaultRawTimeout))
		buf := make([]byte, 64*1024)
		n, err := nc.Read(buf)
		if err != nil {
			t.Fatalf("connection %d: read: %v", i, err)
		}
		got := string(buf[:n])
		if !strings.HasPrefix(got, "PONG\r\nINFO {") || !strings.HasSuffix(got, "} \r\n") {
			t.Fatalf("connection %d: first read %q...%q, want PONG and INFO together", i, testutil.Snip(got), got[max(0, len(got)-20):])
		}
		rc.Close()
	}
}
