package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

// limitsConf is an account A with limits, and a user in the global
// account, which has none.
func limitsConf(conns, subs, payload int) string {
	return fmt.Sprintf(`accounts {
  A { users: [{user: a, password: p}], limits: {max_connections: %d, max_subscriptions: %d, max_payload: %d, max_leafnodes: 1} }
}
authorization { users: [{user: g, password: p}] }
`, conns, subs, payload)
}

// reloadConf reloads s with the configuration text, as SIGHUP does.
func reloadConf(t *testing.T, s *server.Server, text string) {
	t.Helper()
	var o server.Options
	if _, err := o.ProcessConfigFile(writeConf(t, text), true); err != nil {
		t.Fatal(err)
	}
	o.Host, o.Port = "127.0.0.1", server.RandomPort
	if _, err := s.ReloadOptions(o); err != nil {
		t.Fatal(err)
	}
}

// Issue 11 #6: an account's limits apply to its clients with
// nats-server's errors (checked against v2.15.2).
func TestAccountLimits(t *testing.T) {
	t.Parallel()
	s := runConf(t, limitsConf(2, 2, 8))
	a1, a2 := rawAs(t, s, "a"), rawAs(t, s, "a")
	// The third connection of A is refused; the global account is not limited.
	rc, _ := testutil.NewRawConn(t, s)
	rc.Send(`CONNECT {"verbose":false,"user":"a","pass":"p"}` + "\r\nPING\r\n")
	rc.Expect("-ERR 'maximum account active connections exceeded'\r\n")
	rc.ExpectClosed()
	rawAs(t, s, "g")
	rawAs(t, s, "g")
	// Subscriptions: the third is refused, the connection stays.
	a1.Send("SUB x 1\r\nSUB y 2\r\nSUB z 3\r\n")
	a1.Expect("-ERR 'maximum subscriptions exceeded'\r\n")
	a1.Sync()
	// Payload: over the account's 8 bytes is a violation that closes.
	a2.Send("PUB x 8\r\n12345678\r\n")
	a2.Sync()
	a2.Send("PUB x 9\r\n123456789\r\n")
	a2.Expect("-ERR 'Maximum Payload Violation'\r\n")
	a2.ExpectClosed()
	// The freed place can be taken again.
	rawAs(t, s, "a")
	if got := s.LookupAccount("A").Limits(); got != (server.AccountLimits{MaxConnections: 2, MaxSubscriptions: 2, MaxPayload: 8, MaxLeafNodes: 1}) {
		t.Fatalf("limits %+v", got)
	}
}

// Issue 11 #4 and #6: lowering limits by reload cuts the connections over
// them, as nats-server does: the newest connections over a connection
// limit, connections with as many subscriptions as a lowered account
// limit, and payloads over a lowered limit from the next message.
func TestReloadLowersAccountLimits(t *testing.T) {
	t.Parallel()
	s := runConf(t, limitsConf(3, 5, 100))
	old, busy, newest := rawAs(t, s, "a"), rawAs(t, s, "a"), rawAs(t, s, "a")
	busy.Send("SUB a 1\r\nSUB b 2\r\nSUB c 3\r\n")
	busy.Sync()
	reloadConf(t, s, limitsConf(2, 3, 50))
	newest.Expect("-ERR 'maximum account active connections exceeded'\r\n")
	newest.ExpectClosed()
	busy.Expect("-ERR 'maximum subscriptions exceeded'\r\n") // at the new limit
	busy.ExpectClosed()
	old.Send("PUB x 60\r\n" + strings.Repeat("x", 60) + "\r\n")
	old.Expect("-ERR 'Maximum Payload Violation'\r\n")
	old.ExpectClosed()
}

func TestReloadLowersMaxConnections(t *testing.T) {
	t.Parallel()
	s := runConf(t, "authorization { users: [{user: g, password: p}] }\nmax_connections: 3\nmax_subscriptions: 5\n")
	first, second, third := rawAs(t, s, "g"), rawAs(t, s, "g"), rawAs(t, s, "g")
	second.Send("SUB a 1\r\nSUB b 2\r\nSUB c 3\r\n")
	second.Sync()
	reloadConf(t, s, "authorization { users: [{user: g, password: p}] }\nmax_connections: 2\nmax_subscriptions: 2\n")
	third.Expect("-ERR 'maximum connections exceeded'\r\n")
	third.ExpectClosed()
	// Over a lowered server subscription limit (nats-server refuses this
	// reload; sluice applies it).
	second.Expect("-ERR 'maximum subscriptions exceeded'\r\n")
	second.ExpectClosed()
	first.Sync()
}

func TestAccountLimitsConfigErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ text, want string }{
		{"accounts { A { limits: { max_conns: 1 } } }", `unknown field "max_conns" in limits of account A`},
		{"accounts { A { limits: { max_connections: -2 } } }", `'max_connections' must be between -1 (no limit)`},
		{"accounts { A { limits: { max_payload: big } } }", `'max_payload' must be a whole number`},
		{"accounts { A { limits: 5 } }", `'limits' must be a block`},
	} {
		var o server.Options
		if _, err := o.ProcessConfigFile(writeConf(t, c.text), true); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.text, err, c.want)
		}
	}
}
