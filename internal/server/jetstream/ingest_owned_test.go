package jetstream_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestLargePublishesKeptWhole: payloads too big for the parser's scratch
// are handed to the stream without a copy. Each is stored whole, with its
// headers, while a plain subscriber on the same subject gets the same
// bytes, and the next message (which the parser reads into a new buffer)
// changes nothing stored.
func TestLargePublishesKeptWhole(t *testing.T) {
	s := runJS(t)
	nc, j := connectJS(t, s)
	c := ctx(t)
	if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "BIG", Subjects: []string{"big.>"}, AllowDirect: true}); err != nil {
		t.Fatal(err)
	}
	watch, err := nc.SubscribeSync("big.>")
	if err != nil {
		t.Fatal(err)
	}
	var sent [][]byte
	for i, size := range []int{70 << 10, 300 << 10, 900 << 10, 100, 200 << 10} {
		data := make([]byte, size)
		rand.Read(data)
		m := nats.NewMsg(fmt.Sprintf("big.%d", i))
		m.Data = data
		m.Header.Set("X-N", fmt.Sprint(i))
		if _, err := j.PublishMsgAsync(m); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, data)
	}
	select {
	case <-j.PublishAsyncComplete():
	case <-time.After(10 * time.Second):
		t.Fatal("publishes unanswered")
	}
	for i, data := range sent {
		got, err := watch.NextMsg(5 * time.Second)
		if err != nil || !bytes.Equal(got.Data, data) {
			t.Fatalf("subscriber, message %d: %v", i, err)
		}
		st, err := j.Stream(c, "BIG")
		if err != nil {
			t.Fatal(err)
		}
		sm, err := st.GetMsg(c, uint64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(sm.Data, data) || sm.Header.Get("X-N") != fmt.Sprint(i) || sm.Subject != fmt.Sprintf("big.%d", i) {
			t.Fatalf("stored message %d: %d bytes, header %q, subject %s", i, len(sm.Data), sm.Header.Get("X-N"), sm.Subject)
		}
	}
}
