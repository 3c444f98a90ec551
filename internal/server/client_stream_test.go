package server_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

// TestStreamingPublisherIsAnswered: a client that streams small messages
// nobody answers has the server coalesce its reads (sockio.Reader); a
// request, a flush or the end of its stream must still be answered, and
// every message delivered, over TCP and over ws://.
func TestStreamingPublisherIsAnswered(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, func(o *server.Options) {
		o.Websocket.Host, o.Websocket.Port, o.Websocket.NoTLS = "127.0.0.1", -1, true
	})
	for name, url := range map[string]string{"tcp": s.ClientURL(), "ws": s.WebsocketURL()} {
		t.Run(name, func(t *testing.T) {
			sc := testutil.Connect(t, s)
			var got atomic.Int64
			sub, err := sc.Subscribe("stream.data", func(*nats.Msg) { got.Add(1) })
			if err != nil {
				t.Fatal(err)
			}
			sub.SetPendingLimits(-1, -1)
			sc.Subscribe("stream.req", func(m *nats.Msg) { m.Respond([]byte("ok")) })
			sc.Flush()
			pub, err := nats.Connect(url)
			if err != nil {
				t.Fatal(err)
			}
			defer pub.Close()
			payload := make([]byte, 16)
			const rounds, per = 5, 50000
			for r := 0; r < rounds; r++ {
				for i := 0; i < per; i++ {
					if err := pub.Publish("stream.data", payload); err != nil {
						t.Fatal(err)
					}
				}
				// Right behind the stream, with nothing else coming.
				if m, err := pub.Request("stream.req", nil, 5*time.Second); err != nil || string(m.Data) != "ok" {
					t.Fatalf("round %d: request after a stream: %v, %v", r, m, err)
				}
				for i := 0; i < per; i++ {
					pub.Publish("stream.data", payload)
				}
				if err := pub.FlushTimeout(5 * time.Second); err != nil {
					t.Fatalf("round %d: flush after a stream: %v", r, err)
				}
			}
			testutil.CheckFor(t, 10*time.Second, 5*time.Millisecond, func() error {
				if n := got.Load(); n != 2*rounds*per {
					return fmt.Errorf("subscriber got %d of %d", n, 2*rounds*per)
				}
				return nil
			})
		})
	}
}
