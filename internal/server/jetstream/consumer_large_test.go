package jetstream_test

import (
	"bytes"
	"crypto/rand"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/server"
)

// TestConsumerLargeMessagesWhole: stored messages of every size around
// the point where the server queues a payload to its receiver without a
// copy (above 64 KiB, the outbound chunk size) reach a pull consumer
// whole, with and without headers, from file and memory streams, over TCP
// and over ws:// with compression, again and again (the buffers queued
// must not be reused while a delivery still holds them).
func TestConsumerLargeMessagesWhole(t *testing.T) {
	s := runJS(t, func(o *server.Options) {
		o.Websocket.Host, o.Websocket.Port, o.Websocket.NoTLS = "127.0.0.1", -1, true
		o.Websocket.Compression = true
	})
	_, j := connectJS(t, s)
	// Over ws://, permessage-deflate reads the borrowed bytes too.
	wc, err := nats.Connect(s.WebsocketURL(), nats.Compression(true))
	if err != nil {
		t.Fatal(err)
	}
	defer wc.Close()
	wj, err := jetstream.New(wc)
	if err != nil {
		t.Fatal(err)
	}
	sizes := []int{1, 65535, 65536, 65537, 128 << 10, 900 << 10}
	for _, st := range []jetstream.StorageType{jetstream.FileStorage, jetstream.MemoryStorage} {
		name := "L" + st.String()
		if _, err := j.CreateStream(ctx(t), jetstream.StreamConfig{Name: name, Subjects: []string{name}, Storage: st}); err != nil {
			t.Fatal(err)
		}
		var want [][]byte
		for round := 0; round < 3; round++ {
			for _, n := range sizes {
				p := make([]byte, n)
				rand.Read(p)
				m := &nats.Msg{Subject: name, Data: p}
				if round == 1 {
					m.Header = nats.Header{"K": []string{"v"}}
				}
				if _, err := j.PublishMsg(ctx(t), m); err != nil {
					t.Fatal(err)
				}
				want = append(want, p)
			}
		}
		for via, jj := range map[string]jetstream.JetStream{"tcp": j, "ws": wj} {
			str, err := jj.Stream(ctx(t), name)
			if err != nil {
				t.Fatal(err)
			}
			cons, err := str.CreateOrUpdateConsumer(ctx(t), jetstream.ConsumerConfig{AckPolicy: jetstream.AckNonePolicy})
			if err != nil {
				t.Fatal(err)
			}
			batch, err := cons.Fetch(len(want))
			if err != nil {
				t.Fatal(err)
			}
			i := 0
			for m := range batch.Messages() {
				if !bytes.Equal(m.Data(), want[i]) {
					t.Fatalf("%s over %s: message %d (%d bytes) differs from the one stored", st, via, i, len(want[i]))
				}
				i++
			}
			if batch.Error() != nil || i != len(want) {
				t.Fatalf("%s over %s: fetched %d of %d: %v", st, via, i, len(want), batch.Error())
			}
		}
	}
}
