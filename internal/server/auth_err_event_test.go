package server_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// A failed login is published as $SYS.ACCOUNT.CLIENT.AUTH.ERR inside the
// account the client would have been in, so that account's own users
// (a `>` subscriber included) see it; nats-server does the same.
func TestAccountAuthErrorEventBothServers(t *testing.T) {
	conf := `
accounts: {
  A: { users: [ {user: a, password: a} ] }
}
authorization { users: [ {user: g, password: g} ] }
`
	bothFromConf(t, conf, func(t *testing.T, tg opTarget) {
		g, err := nats.Connect(tg.url, nats.UserInfo("g", "g"))
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		a, err := nats.Connect(tg.url, nats.UserInfo("a", "a"))
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		wide, _ := g.SubscribeSync(">")
		inA, _ := a.SubscribeSync(">")
		g.Flush()
		a.Flush()
		if _, err := nats.Connect(tg.url, nats.UserInfo("g", "wrong"), nats.Name("intruder")); !errors.Is(err, nats.ErrAuthorization) {
			t.Fatalf("bad password: %v", err)
		}
		m, err := wide.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != "$SYS.ACCOUNT.CLIENT.AUTH.ERR" {
			t.Fatalf("subject %q", m.Subject)
		}
		var ev struct {
			Type   string `json:"type"`
			Client struct {
				Account string `json:"acc"`
				User    string `json:"user"`
				Name    string `json:"name"`
			} `json:"client"`
			Reason string `json:"reason"`
		}
		if err := json.Unmarshal(m.Data, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Type != "io.nats.server.advisory.v1.client_disconnect" || ev.Client.Account != "$G" ||
			ev.Client.User != "g" || ev.Client.Name != "intruder" || ev.Reason != "Authentication Failure" {
			t.Fatalf("event %s", m.Data)
		}
		// Other accounts do not see it.
		if m, err := inA.NextMsg(200 * time.Millisecond); err == nil {
			t.Fatalf("account A got %s", m.Subject)
		}
	})
}
