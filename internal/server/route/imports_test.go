package route_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/server/auth"
)

func withImports(o *server.Options) {
	o.Accounts = append(o.Accounts,
		&server.AccountConfig{Name: "A", Exports: []server.Export{{Subject: "svc", Service: true}, {Subject: "events.>"}}},
		&server.AccountConfig{Name: "B", Imports: []server.Import{{Account: "A", Subject: "svc", Service: true},
			{Account: "A", Subject: "events.>"}}})
	o.Users = append(o.Users, &auth.User{Username: "a", Password: "a", Account: "A"},
		&auth.User{Username: "b", Password: "b", Account: "B"})
}

// A service exported by account A answered on one server, requested by
// account B on another; a stream export reaching B's subscriber elsewhere.
func TestImportsAcrossServers(t *testing.T) {
	s1 := node(t, "s1", withImports)
	s2 := node(t, "s2", withImports, s1)
	waitMesh(t, s1, s2)
	a2 := connect(t, s2, nats.UserInfo("a", "a"))
	a2.Subscribe("svc", func(m *nats.Msg) { m.Respond([]byte("served")) })
	a2.Flush()
	b1 := connect(t, s1, nats.UserInfo("b", "b"))
	testutilWait(t, func() error {
		_, err := b1.Request("svc", nil, 200*time.Millisecond)
		return err
	})
	m, err := b1.Request("svc", nil, 2*time.Second)
	if err != nil || string(m.Data) != "served" {
		t.Fatalf("request through the import: %v %v", m, err)
	}

	// Stream import: published in A on s2, received by B on s1 once.
	sub, _ := b1.SubscribeSync("events.x")
	b1.Flush()
	testutilWait(t, func() error {
		a2.Publish("events.x", []byte("e"))
		_, err := sub.NextMsg(100 * time.Millisecond)
		return err
	})
	for { // drop what the probing above left
		if _, err := sub.NextMsg(100 * time.Millisecond); err != nil {
			break
		}
	}
	a2.Publish("events.x", []byte("once"))
	next(t, sub)
	noMore(t, sub)
}
