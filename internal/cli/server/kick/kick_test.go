package kickcmd_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
)

// victim connects a client that does not reconnect, and a channel closed
// when it is disconnected.
func victim(t *testing.T, url string) (uint64, chan struct{}) {
	t.Helper()
	closed := make(chan struct{})
	nc, err := nats.Connect(url, nats.UserInfo(srvtest.AppUser, srvtest.AppPass), nats.NoReconnect(),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	cid, err := nc.GetClientID()
	if err != nil {
		t.Fatal(err)
	}
	return cid, closed
}

func waitClosed(t *testing.T, closed chan struct{}) {
	t.Helper()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the kicked client is still connected")
	}
}

func TestKick(t *testing.T) {
	srvtest.Both(t, srvtest.RefOptions{}, func(t *testing.T, s *srvtest.Server) {
		cid, closed := victim(t, s.URL)
		r := clitest.Run(t, "server", "kick", itoa(cid), s.Name)
		clitest.ExpectCode(t, r, 0)
		if r.Stdout != "Kicked client "+itoa(cid)+" from "+s.Name+" ("+s.ID+")\n" {
			t.Fatalf("stdout %q", r.Stdout)
		}
		waitClosed(t, closed)

		// By id, with the server's answer as JSON.
		cid, closed = victim(t, s.URL)
		r = clitest.Run(t, "server", "kick", itoa(cid), s.ID, "--json")
		clitest.ExpectCode(t, r, 0)
		var env struct {
			Server struct{ ID string } `json:"server"`
			Error  any                 `json:"error"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &env); err != nil || env.Server.ID != s.ID || env.Error != nil {
			t.Fatalf("%v: %s", err, r.Stdout)
		}
		waitClosed(t, closed)

		// A client that is not there: the server's error, exit 1.
		r = clitest.Run(t, "server", "kick", "999999", s.Name)
		if r.Code != cmdutil.ExitError || !strings.Contains(r.Stderr, "server "+s.Name) || !strings.Contains(r.Stderr, "(code ") {
			t.Fatalf("unknown client: exit %d %s", r.Code, r.Stderr)
		}
	})
}

func TestKickErrors(t *testing.T) {
	s := srvtest.Serve(t)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"server", "kick"}, cmdutil.ExitUsage, "missing CLIENT_ID and SERVER arguments"},
		{[]string{"server", "kick", "5"}, cmdutil.ExitUsage, "missing SERVER argument"},
		{[]string{"server", "kick", "x", s.Name}, cmdutil.ExitUsage, `CLIENT_ID must be a connection id (a positive number), not "x"`},
		{[]string{"server", "kick", "0", s.Name}, cmdutil.ExitUsage, "CLIENT_ID must be"},
		{[]string{"server", "kick", "5", "nosuch"}, cmdutil.ExitNotFound, `server "nosuch" not found`},
	} {
		r := clitest.Run(t, c.args...)
		if r.Code != c.code || !strings.Contains(r.Stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, r.Code, r.Stderr, c.code, c.want)
		}
	}
}

func itoa(n uint64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
