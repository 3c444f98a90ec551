package server_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
)

// batchTraces publishes an atomic batch of three messages to a stream,
// tracing the messages whose 1-based positions are in traced (trace-only
// when only), and returns the trace events that arrive and the acks, both
// normalized.
func batchTraces(t *testing.T, nc *nats.Conn, id string, traced map[int]bool, only, fast bool) (evs []string, acks []string) {
	t.Helper()
	traces, _ := nc.SubscribeSync("traces." + id)
	ackSub, _ := nc.SubscribeSync("acks." + id + ".>")
	defer traces.Unsubscribe()
	defer ackSub.Unsubscribe()
	nc.Flush()
	for i := 1; i <= 3; i++ {
		m := nats.NewMsg(fmt.Sprintf("b.%d", i))
		m.Data = []byte("x")
		if fast {
			m.Reply = fmt.Sprintf("acks.%s.%s.10.fail.%d.%d.$FI", id, id, i, min(i-1, 2))
		} else {
			m.Header.Set("Nats-Batch-Id", id)
			m.Header.Set("Nats-Batch-Sequence", fmt.Sprint(i))
			if i == 3 {
				m.Header.Set("Nats-Batch-Commit", "1")
				if id == "badcommit" {
					m.Header.Set("Nats-Batch-Commit", "yes")
				}
				m.Reply = "acks." + id + ".x"
			}
		}
		if traced[i] {
			m.Header.Set("Nats-Trace-Dest", "traces."+id)
			if only {
				m.Header.Set("Nats-Trace-Only", "true")
			}
		}
		if err := nc.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	nc.Flush()
	for {
		tm, err := traces.NextMsg(time.Second)
		if err != nil {
			break
		}
		var ev map[string]any
		json.Unmarshal(tm.Data, &ev)
		delete(ev, "server")
		for _, e := range ev["events"].([]any) {
			delete(e.(map[string]any), "ts")
			delete(e.(map[string]any), "cid")
		}
		b, _ := json.Marshal(ev)
		evs = append(evs, string(b))
	}
	for {
		am, err := ackSub.NextMsg(200 * time.Millisecond)
		if err != nil {
			break
		}
		acks = append(acks, string(am.Data))
	}
	sort.Strings(evs)
	return evs, acks
}

// A traced message in a batch publish, against nats-server v2.15.2. In an
// atomic batch the commit's trace covers the batch: its JetStream step
// names the commit's subject, and trace-only it stores nothing and gets
// no ack; a staged message's trace is never sent, and trace-only it is
// stored with the batch. In a fast batch every message is traced on its
// own as a single publish is.
func TestMessageTraceBatch(t *testing.T) {
	got := map[string][]string{}
	srvtest.JetStream(t, func(t *testing.T, url string) {
		nc, err := nats.Connect(url, nats.UserInfo(srvtest.AppUser, srvtest.AppPass), nats.Name("pub"))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		st, err := js.CreateStream(t.Context(), jetstream.StreamConfig{Name: "B", Subjects: []string{"b.>"},
			Storage: jetstream.MemoryStorage, AllowAtomicPublish: true, AllowBatchPublish: true})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, tc := range []struct {
			id     string
			traced map[int]bool
			only   bool
			fast   bool
		}{
			{"first", map[int]bool{1: true}, false, false},
			{"commit", map[int]bool{3: true}, false, false},
			{"all", map[int]bool{1: true, 2: true, 3: true}, false, false},
			{"onlyfirst", map[int]bool{1: true}, true, false},
			{"onlycommit", map[int]bool{3: true}, true, false},
			{"badcommit", map[int]bool{3: true}, false, false},
			{"ffirst", map[int]bool{1: true}, false, true},
			{"fsecond", map[int]bool{2: true}, false, true},
			{"fcommit", map[int]bool{3: true}, false, true},
			{"fonlyfirst", map[int]bool{1: true}, true, true},
			{"fonlysecond", map[int]bool{2: true}, true, true},
			{"fonlycommit", map[int]bool{3: true}, true, true},
		} {
			evs, acks := batchTraces(t, nc, tc.id, tc.traced, tc.only, tc.fast)
			info, err := st.Info(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s: events %q acks %q last seq %d", tc.id, evs, acks, info.State.LastSeq))
		}
		got[t.Name()] = out
	})
	s, r := got["TestMessageTraceBatch/sluice"], got["TestMessageTraceBatch/nats-server"]
	if len(r) == 0 || len(s) != len(r) {
		t.Fatalf("results: %d and %d", len(s), len(r))
	}
	for i := range r {
		if s[i] != r[i] {
			t.Errorf("\n sluice      %s\n nats-server %s", s[i], r[i])
		}
	}
}
