package jetstream_test

import (
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

func TestDomain(t *testing.T) {
	s := runJS(t, func(o *server.Options) { o.JetStream.Domain = "hub" })
	nc := testutil.Connect(t, s)
	j, err := jetstream.NewWithDomain(nc, "hub")
	if err != nil {
		t.Fatal(err)
	}
	c := ctx(t)
	st, err := j.CreateStream(c, jetstream.StreamConfig{Name: "DOM", Storage: jetstream.MemoryStorage, AllowDirect: true})
	if err != nil {
		t.Fatal(err)
	}
	ack, err := j.Publish(c, "DOM", []byte("x"))
	if err != nil || ack.Domain != "hub" {
		t.Fatalf("ack %v %+v", err, ack)
	}
	if m, err := st.GetLastMsgForSubject(c, "DOM"); err != nil || string(m.Data) != "x" {
		t.Fatalf("direct get through the domain: %v", err)
	}
	ai, err := j.AccountInfo(c)
	if err != nil || ai.Domain != "hub" {
		t.Fatalf("account info %v %+v", err, ai)
	}
}

// A direct get on a stream without allow_direct finds no responders.
func TestDirectGetNotAllowed(t *testing.T) {
	s := runJS(t)
	nc, j := connectJS(t, s)
	c := ctx(t)
	if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "ND", Storage: jetstream.MemoryStorage}); err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Request("$JS.API.DIRECT.GET.ND", []byte(`{"seq":1}`), time.Second); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("direct get: %v", err)
	}
}
