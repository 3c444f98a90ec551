package server_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/testutil"
)

func TestSmoke(t *testing.T) {
	s := testutil.RunServer(t)
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sub, _ := nc.SubscribeSync("foo.*")
	nc.Publish("foo.bar", []byte("hello"))
	m, err := sub.NextMsg(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("got %s %s", m.Subject, m.Data)
	nc.Subscribe("svc", func(m *nats.Msg) { m.Respond([]byte("pong")) })
	r, err := nc.Request("svc", []byte("x"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("reply %s", r.Data)
	_, err = nc.Request("nobody", nil, time.Second)
	t.Logf("no responders: %v", err)
}
