package jetstream_test

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestConsumerKill9 runs the real binary, acknowledges half of what a
// durable consumer delivered with AckSync while it is being killed with
// SIGKILL, restarts it, and checks that nothing acknowledged comes back,
// everything unacknowledged is redelivered (counted as a redelivery) and
// the rest is delivered once.
func TestConsumerKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "sluice")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/sluicehq/sluice/cmd/sluice").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := filepath.Join(tmp, "store")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	cmd, addr := startBinary(t, bin, dir)
	nc, err := nats.Connect("nats://"+addr, nats.MaxReconnects(0))
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "K", Subjects: []string{"k.>"}})
	if err != nil {
		t.Fatal(err)
	}
	const total = 400
	for i := 1; i <= total; i++ {
		if _, err := js.Publish(ctx, "k.x", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	c, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "D", AckPolicy: jetstream.AckExplicitPolicy, AckWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// Deliver 300; ack the odd ones with AckSync, concurrently, and kill
	// the server while that goes on.
	b, err := c.Fetch(300, jetstream.FetchMaxWait(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []jetstream.Msg
	for m := range b.Messages() {
		msgs = append(msgs, m)
	}
	if len(msgs) != 300 {
		t.Fatalf("fetched %d", len(msgs))
	}
	var mu sync.Mutex
	acked := map[uint64]bool{} // AckSync confirmed
	tried := map[uint64]bool{} // AckSync sent, confirmed or not
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(msgs); i += 4 {
				md, _ := msgs[i].Metadata()
				if md.Sequence.Stream%2 == 0 {
					continue
				}
				mu.Lock()
				tried[md.Sequence.Stream] = true
				mu.Unlock()
				if err := msgs[i].DoubleAck(ctx); err != nil {
					return // killed
				}
				mu.Lock()
				acked[md.Sequence.Stream] = true
				mu.Unlock()
			}
		}(w)
	}
	// Let some acks through, then kill.
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 60 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	wg.Wait()
	nc.Close()
	mu.Lock()
	t.Logf("%d acks confirmed before the kill", len(acked))
	mu.Unlock()

	_, addr2 := startBinary(t, bin, dir)
	nc2, err := nats.Connect("nats://" + addr2)
	if err != nil {
		t.Fatal(err)
	}
	defer nc2.Close()
	js2, _ := jetstream.New(nc2)
	c2, err := js2.Consumer(ctx, "K", "D")
	if err != nil {
		t.Fatalf("consumer after restart: %v", err)
	}
	// The delivered sequence is stored every 100ms (as nats-server's
	// flusher does): deliveries just before the kill may count as new.
	ci, _ := c2.Info(ctx)
	dl := ci.Delivered.Stream
	if dl > 300 || dl == 0 || ci.AckFloor.Stream > dl {
		t.Fatalf("state after restart: delivered %+v floor %+v", ci.Delivered, ci.AckFloor)
	}
	t.Logf("delivered stream seq %d stored before the kill", dl)
	seen := map[uint64]int{}
	// An ack the kill cut off before its confirmation may or may not have
	// been written: those messages may come back or not; all others must.
	for {
		b, err := c2.Fetch(100, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range b.Messages() {
			n++
			md, _ := m.Metadata()
			s := md.Sequence.Stream
			if acked[s] {
				t.Fatalf("stream seq %d acknowledged with AckSync before the kill, delivered again", s)
			}
			if seen[s] > 0 {
				t.Fatalf("stream seq %d delivered twice after restart", s)
			}
			seen[s] = int(md.NumDelivered)
			if s <= dl && md.NumDelivered < 2 {
				t.Fatalf("stream seq %d delivered before the kill, now with num_delivered %d", s, md.NumDelivered)
			}
			if s > dl && md.NumDelivered != 1 {
				t.Fatalf("stream seq %d never delivered, now with num_delivered %d", s, md.NumDelivered)
			}
			m.Ack()
		}
		if n == 0 {
			break
		}
	}
	for s := uint64(1); s <= total; s++ {
		if !tried[s] && seen[s] == 0 {
			t.Fatalf("stream seq %d lost", s)
		}
	}
}
