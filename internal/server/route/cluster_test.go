package route_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func TestMeshPubSub(t *testing.T) {
	ss := mesh(t, 3, nil)
	a, b, c := connect(t, ss[0]), connect(t, ss[1]), connect(t, ss[2])
	sb, err := b.SubscribeSync("foo.>")
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := c.SubscribeSync("foo.bar")
	b.Flush()
	c.Flush()
	waitInterest(t, ss[0], "foo.bar", 2)
	if err := a.Publish("foo.bar", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*nats.Subscription{sb, sc} {
		m, err := s.NextMsg(2 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Data) != "hello" {
			t.Fatalf("got %q", m.Data)
		}
	}
}
