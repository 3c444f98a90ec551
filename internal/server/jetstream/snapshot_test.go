package jetstream_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	js "github.com/sluicehq/sluice/internal/server/jetstream"
	"github.com/sluicehq/sluice/internal/testutil"
)

// takeSnapshot asks for a snapshot and collects the chunks, acking each.
func takeSnapshot(t *testing.T, nc *nats.Conn, stream, req string) (resp map[string]any, data []byte, chunks int) {
	t.Helper()
	inbox := nats.NewInbox()
	done := make(chan string, 1)
	var mu sync.Mutex
	sub, err := nc.Subscribe(inbox, func(m *nats.Msg) {
		if len(m.Data) == 0 {
			done <- m.Header.Get("Status")
			return
		}
		mu.Lock()
		data = append(data, m.Data...)
		chunks++
		mu.Unlock()
		if m.Reply != "" {
			m.Respond(nil)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	body := strings.Replace(req, "INBOX", inbox, 1)
	if err := json.Unmarshal([]byte(request(t, nc, "$JS.API.STREAM.SNAPSHOT."+stream, body)), &resp); err != nil {
		t.Fatal(err)
	}
	if resp["error"] != nil {
		return resp, nil, 0
	}
	select {
	case st := <-done:
		if st != "204" {
			t.Fatalf("snapshot ended with status %q", st)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("snapshot did not finish")
	}
	mu.Lock()
	defer mu.Unlock()
	return resp, data, chunks
}

// restoreArchive sends a restore request and the archive in chunks and
// returns the final answer.
func restoreArchive(t *testing.T, nc *nats.Conn, stream string, meta map[string]any, data []byte) string {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"config": meta["config"], "state": meta["state"]})
	var r struct {
		DeliverSubject string         `json:"deliver_subject"`
		Error          map[string]any `json:"error"`
	}
	json.Unmarshal([]byte(request(t, nc, "$JS.API.STREAM.RESTORE."+stream, string(b))), &r)
	if r.Error != nil {
		return fmt.Sprint(r.Error)
	}
	for len(data) > 0 {
		n := min(len(data), 4096)
		if _, err := nc.Request(r.DeliverSubject, data[:n], 5*time.Second); err != nil {
			t.Fatalf("chunk: %v", err)
		}
		data = data[n:]
	}
	m, err := nc.Request(r.DeliverSubject, nil, 10*time.Second)
	if err != nil {
		t.Fatalf("end of restore: %v", err)
	}
	return string(m.Data)
}

// A snapshot taken while publishers publish holds exactly the messages up
// to its state's last sequence; restored (memory storage, small chunks
// and window), it is that stream again.
func TestSnapshotWhilePublishing(t *testing.T) {
	s := runJS(t)
	nc, j := connectJS(t, s)
	c := ctx(t)
	if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"}, Storage: jetstream.MemoryStorage}); err != nil {
		t.Fatal(err)
	}
	payload := bytes.Repeat([]byte("x"), 1000)
	for i := 0; i < 2000; i++ {
		j.PublishAsync(fmt.Sprintf("p.%d", i%7), payload)
	}
	<-j.PublishAsyncComplete()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		pnc := testutil.Connect(t, s)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			pnc.Publish("p.live", payload)
			if i%100 == 0 {
				pnc.Flush()
			}
		}
	}()
	events, _ := nc.SubscribeSync("$JS.EVENT.ADVISORY.STREAM.>")
	testutil.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		st, _ := j.Stream(c, "P")
		if si, _ := st.Info(c); si.State.Msgs < 2500 {
			return fmt.Errorf("live publisher not going yet")
		}
		return nil
	})
	meta, data, chunks := takeSnapshot(t, nc, "P", `{"deliver_subject":"INBOX","chunk_size":2048,"window_size":8192}`)
	close(stop)
	wg.Wait()
	state := meta["state"].(map[string]any)
	last := uint64(state["last_seq"].(float64))
	if chunks < 10 || last < 2500 {
		t.Fatalf("%d chunks, last seq %d", chunks, last)
	}
	for _, want := range []string{"SNAPSHOT_CREATE.P", "SNAPSHOT_COMPLETE.P"} {
		m, err := events.NextMsg(5 * time.Second)
		if err != nil || !strings.HasSuffix(m.Subject, want) {
			t.Fatalf("advisory %s: %v %v", want, err, m)
		}
	}
	if err := j.DeleteStream(c, "P"); err != nil {
		t.Fatal(err)
	}
	out := restoreArchive(t, nc, "P", meta, data)
	if !strings.Contains(out, `stream_create_response"`) || strings.Contains(out, `"error"`) {
		t.Fatalf("restore: %s", out)
	}
	st, _ := j.Stream(c, "P")
	si, _ := st.Info(c)
	if si.State.LastSeq != last || si.State.Msgs != uint64(state["messages"].(float64)) || si.Config.Storage != jetstream.MemoryStorage {
		t.Fatalf("restored %+v, snapshot state %v", si.State, state)
	}
	for _, want := range []string{"RESTORE_CREATE.P", "CREATED.P", "RESTORE_COMPLETE.P"} {
		m, err := events.NextMsg(5 * time.Second)
		for err == nil && strings.Contains(m.Subject, "DELETED") {
			m, err = events.NextMsg(5 * time.Second)
		}
		if err != nil || !strings.HasSuffix(m.Subject, want) {
			t.Fatalf("advisory %s: %v %v", want, err, m)
		}
	}
}

func TestSnapshotRestoreBadInput(t *testing.T) {
	s := runJS(t)
	nc, j := connectJS(t, s)
	c := ctx(t)
	if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "S", Subjects: []string{"s"}}); err != nil {
		t.Fatal(err)
	}
	j.Publish(c, "s", []byte("one"))
	for _, tc := range []struct{ subj, body, want string }{
		{"$JS.API.STREAM.SNAPSHOT.S", "", `"err_code":10003`},
		{"$JS.API.STREAM.SNAPSHOT.NOPE", `{"deliver_subject":"x"}`, `"err_code":10059`},
		{"$JS.API.STREAM.SNAPSHOT.S", `{"deliver_subject":"x.*"}`, `"err_code":10015`},
		{"$JS.API.STREAM.SNAPSHOT.S", `{"deliver_subject":`, `"err_code":10025`},
		{"$JS.API.STREAM.RESTORE.S", "", `"err_code":10003`},
		{"$JS.API.STREAM.RESTORE.S", `{"config":{"name":"S","subjects":["s2"]},"state":{}}`, `"err_code":10130`},
		{"$JS.API.STREAM.RESTORE.T", `{"config":{"name":"S"},"state":{}}`, `"err_code":10056`},
		{"$JS.API.STREAM.RESTORE.T", `{"config":{"name":"T","max_age":-1},"state":{}}`, `"err_code":10052`},
	} {
		if got := request(t, nc, tc.subj, tc.body); !strings.Contains(got, tc.want) {
			t.Errorf("%s %s: %s, want %s", tc.subj, tc.body, got, tc.want)
		}
	}
	// no_consumers leaves consumers out of the state and the archive.
	st, _ := j.Stream(c, "S")
	st.CreateOrUpdateConsumer(c, jetstream.ConsumerConfig{Durable: "D"})
	meta, _, _ := takeSnapshot(t, nc, "S", `{"deliver_subject":"INBOX","no_consumers":true}`)
	if n := meta["state"].(map[string]any)["consumer_count"]; n != float64(0) {
		t.Fatalf("consumer_count %v", n)
	}
	meta, data, _ := takeSnapshot(t, nc, "S", `{"deliver_subject":"INBOX","jsck":true}`)
	if n := meta["state"].(map[string]any)["consumer_count"]; n != float64(1) {
		t.Fatalf("consumer_count %v", n)
	}
	// A restore that stops sending fails after the stall time; the name
	// is free again and a full restore works.
	j.DeleteStream(c, "S")
	js.SetRestoreStallForTest(t, 300*time.Millisecond)
	b, _ := json.Marshal(map[string]any{"config": meta["config"], "state": meta["state"]})
	var r struct {
		DeliverSubject string `json:"deliver_subject"`
	}
	json.Unmarshal([]byte(request(t, nc, "$JS.API.STREAM.RESTORE.S", string(b))), &r)
	if got := request(t, nc, "$JS.API.STREAM.RESTORE.S", string(b)); !strings.Contains(got, `"err_code":10130`) {
		t.Fatalf("second restore of the same name: %s", got)
	}
	if _, err := nc.Request(r.DeliverSubject, data[:len(data)/2], 5*time.Second); err != nil {
		t.Fatal(err)
	}
	testutil.CheckFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		got := request(t, nc, "$JS.API.STREAM.RESTORE.S", `{"config":{"name":"S","subjects":["s"]},"state":{}}`)
		if strings.Contains(got, `"err_code":10130`) {
			return fmt.Errorf("stalled restore still holds the name")
		}
		// End this probe at once: an empty archive is refused.
		var p struct {
			DeliverSubject string `json:"deliver_subject"`
		}
		json.Unmarshal([]byte(got), &p)
		m, err := nc.Request(p.DeliverSubject, nil, 5*time.Second)
		if err != nil || !strings.Contains(string(m.Data), "truncated") {
			t.Fatalf("empty archive: %v %s", err, m.Data)
		}
		return nil
	})
	if _, err := j.Stream(c, "S"); err == nil {
		t.Fatal("stalled restore left a stream")
	}
	js.SetRestoreStallForTest(t, 5*time.Second)
	out := restoreArchive(t, nc, "S", meta, data)
	if !strings.Contains(out, `stream_create_response"`) || strings.Contains(out, `"error"`) {
		t.Fatalf("restore: %s", out)
	}
	if _, err := st.Info(c); err != nil {
		t.Fatal(err)
	}
	cons, err := st.Consumer(c, "D")
	if err != nil {
		t.Fatalf("restored consumer: %v", err)
	}
	if ci, _ := cons.Info(c); ci.NumPending != 1 {
		t.Fatalf("restored consumer pending %d", ci.NumPending)
	}
}

// A receiver that leaves part way through ends the snapshot with 408 No
// Interest, and the archive's s2 encoder goes with it (its writer
// goroutine used to be left waiting).
func TestSnapshotReceiverLeaves(t *testing.T) {
	s := runJS(t)
	nc, j := connectJS(t, s)
	c := ctx(t)
	if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "L", Subjects: []string{"l"}}); err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, 4000)
	for i := range 500 {
		for k := range payload {
			payload[k] = byte(i*7919 + k*k*31 + k>>3) // compresses poorly: many chunks
		}
		j.PublishAsync("l", payload)
	}
	<-j.PublishAsyncComplete()
	inbox := nats.NewInbox()
	var once sync.Once
	sub, err := nc.Subscribe(inbox, func(m *nats.Msg) {
		once.Do(func() {
			m.Sub.Unsubscribe() // gone before the ack frees the next slot
			m.Respond(nil)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	// The status goes to the deliver subject nobody listens on any more:
	// watch the advisory instead.
	adv := make(chan *nats.Msg, 1)
	asub, _ := nc.ChanSubscribe("$JS.EVENT.ADVISORY.STREAM.SNAPSHOT_COMPLETE.L", adv)
	defer asub.Unsubscribe()
	nc.Flush()
	request(t, nc, "$JS.API.STREAM.SNAPSHOT.L", `{"deliver_subject":"`+inbox+`","chunk_size":1024,"window_size":1024}`)
	select {
	case m := <-adv:
		if !strings.Contains(string(m.Data), "no interest") {
			t.Fatalf("advisory %s", m.Data)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("snapshot did not end")
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		var buf bytes.Buffer
		pprof.Lookup("goroutine").WriteTo(&buf, 1)
		if !strings.Contains(buf.String(), "s2.(*Writer).Reset") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the archive's encoder is still running:\n%s", buf.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
