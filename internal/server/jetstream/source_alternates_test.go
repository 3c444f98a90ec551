package jetstream_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
)

// StreamInfo's "alternates" (a stream and its mirrors, ranked for the
// client) is a clustered JetStream's answer: nats-server without a
// cluster leaves it out even when the stream has mirrors, and so does
// sluice.
func TestNoAlternatesWithoutCluster(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		nc, j := refConn(t, url)
		c := ctx(t)
		if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "O", Subjects: []string{"o"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "O"}}); err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"O", "M"} {
			r, err := nc.Request("$JS.API.STREAM.INFO."+s, nil, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(r.Data), `"alternates"`) || !strings.Contains(string(r.Data), `"config"`) {
				t.Fatalf("%s: %s", s, r.Data)
			}
		}
	})
}
