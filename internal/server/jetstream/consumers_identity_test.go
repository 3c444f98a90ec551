package jetstream_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
)

// A consumer that feeds a source or mirror is made only for the stream
// the caller names by its identity (Nats-Stream-Identity), and the answer
// says the identity; other consumers ignore the header.
func TestConsumerCreateStreamIdentity(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		nc, j := refConn(t, url)
		if _, err := j.CreateStream(ctx(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.MemoryStorage}); err != nil {
			t.Fatal(err)
		}
		create := func(name, ident string, direct bool) (*nats.Msg, int, string) {
			t.Helper()
			cfg := map[string]any{"name": name, "ack_policy": "none", "deliver_subject": "d." + name, "direct": direct}
			b, _ := json.Marshal(map[string]any{"stream_name": "S", "config": cfg})
			m := nats.NewMsg("$JS.API.CONSUMER.CREATE.S." + name)
			m.Data = b
			if ident != "" {
				m.Header.Set("Nats-Stream-Identity", ident)
			}
			r, err := nc.RequestMsg(m, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			var resp struct {
				Error *struct {
					ErrCode int    `json:"err_code"`
					Desc    string `json:"description"`
				} `json:"error"`
			}
			json.Unmarshal(r.Data, &resp)
			if resp.Error != nil {
				return r, resp.Error.ErrCode, resp.Error.Desc
			}
			return r, 0, ""
		}
		r, code, desc := create("D1", "", true)
		ident := r.Header.Get("Nats-Stream-Identity")
		if code != 0 || ident == "" {
			t.Fatalf("direct create: %d %s, identity %q", code, desc, ident)
		}
		if r, code, desc := create("D2", ident, true); code != 0 || r.Header.Get("Nats-Stream-Identity") != ident {
			t.Fatalf("matching identity: %d %s", code, desc)
		}
		if _, code, desc := create("D3", "other", true); code != 10225 || desc != "consumer's stream identity does not match: "+ident {
			t.Fatalf("mismatch: %d %q", code, desc)
		}
		if r, code, desc := create("C", "other", false); code != 0 || r.Header.Get("Nats-Stream-Identity") != "" {
			t.Fatalf("plain consumer: %d %s %v", code, desc, r.Header)
		}
	})
}
