package jetstream_test

import (
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
)

// The direct consumers that feed a mirror are not listed, counted or
// limited on the origin, on either server. A work-queue stream can be
// sourced (nats-server 2.15 does it with a durable sourcing consumer, which
// it lists; sluice with a direct one), and its own consumer still fits.
func TestSourcingConsumersHidden(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		nc, err := nats.Connect(url, nats.UserInfo(srvtest.AppUser, srvtest.AppPass))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		j, _ := jetstream.New(nc)
		c := ctx(t)
		for _, st := range []jetstream.StreamConfig{
			{Name: "O", Subjects: []string{"o.>"}, MaxConsumers: 1},
			{Name: "W", Subjects: []string{"w.>"}, Retention: jetstream.WorkQueuePolicy},
		} {
			if _, err := j.CreateStream(c, st); err != nil {
				t.Fatal(err)
			}
		}
		spub(t, j, "o.a", 3)
		spub(t, j, "w.a", 3)
		if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "O"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "S", Sources: []*jetstream.StreamSource{{Name: "W"}}}); err != nil {
			t.Fatal(err)
		}
		waitMsgs(t, j, "M", 3)
		waitMsgs(t, j, "S", 3)
		for _, name := range []string{"O", "W"} {
			st, err := j.Stream(c, name)
			if err != nil {
				t.Fatal(err)
			}
			if name == "W" {
				if _, err := st.CreateOrUpdateConsumer(c, jetstream.ConsumerConfig{Durable: "APP", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				continue
			}
			if st.CachedInfo().State.Consumers != 0 {
				t.Fatalf("%s counts %d consumers", name, st.CachedInfo().State.Consumers)
			}
			names := st.ConsumerNames(c)
			for n := range names.Name() {
				t.Fatalf("%s lists consumer %q", name, n)
			}
			if names.Err() != nil {
				t.Fatal(names.Err())
			}
			list := st.ListConsumers(c)
			for ci := range list.Info() {
				t.Fatalf("%s lists consumer %q", name, ci.Name)
			}
			// max_consumers 1 and work-queue exclusivity leave room for
			// one consumer of the application's own.
			if _, err := st.CreateOrUpdateConsumer(c, jetstream.ConsumerConfig{Durable: "APP", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
	})
}
