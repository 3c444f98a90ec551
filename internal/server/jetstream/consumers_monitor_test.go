package jetstream_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
	"github.com/sluicehq/sluice/pkg/api"
)

// /jsz?consumers=1 shows each consumer's state; an ephemeral vanishes
// after its inactive_threshold.
func TestConsumerJszAndInactive(t *testing.T) {
	s := runJS(t, func(o *server.Options) { o.HTTPHost, o.HTTPPort = "127.0.0.1", server.RandomPort })
	_, j := connectJS(t, s)
	st := mkStream(t, j, jetstream.StreamConfig{Name: "M", Subjects: []string{"m"}})
	pub(t, j, "m", 3)
	if _, err := st.CreateConsumer(ctx(t), jetstream.ConsumerConfig{Durable: "D"}); err != nil {
		t.Fatal(err)
	}
	eph, err := st.CreateConsumer(ctx(t), jetstream.ConsumerConfig{InactiveThreshold: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, body := httpGet(t, s.MonitorURL()+"/jsz?consumers=1&config=1")
	var jz api.JSInfo
	if err := json.Unmarshal([]byte(body), &jz); err != nil {
		t.Fatal(err)
	}
	if len(jz.AccountDetails) != 1 || len(jz.AccountDetails[0].Streams) != 1 || len(jz.AccountDetails[0].Streams[0].Consumer) != 2 {
		t.Fatalf("jsz %s", body)
	}
	var ci api.ConsumerInfo
	for _, raw := range jz.AccountDetails[0].Streams[0].Consumer {
		if json.Unmarshal(raw, &ci); ci.Name == "D" {
			break
		}
	}
	if ci.Name != "D" || ci.NumPending != 3 || ci.Config == nil {
		t.Fatalf("consumer detail %+v", ci)
	}
	name := eph.CachedInfo().Name
	testutil.CheckFor(t, 3*time.Second, 20*time.Millisecond, func() error {
		if _, err := st.Consumer(ctx(t), name); err == nil {
			return fmt.Errorf("ephemeral %s still there", name)
		}
		return nil
	})
	if _, err := st.Consumer(ctx(t), "D"); err != nil {
		t.Fatal(err)
	}
}
