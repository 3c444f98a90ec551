package jetstream_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

var listenRE = regexp.MustCompile(`Listening for client connections on (\S+)`)

// startBinary runs `sluice serve -js -sd dir` and returns the process and
// its client address once it is ready.
func startBinary(t *testing.T, bin, dir string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "-a", "127.0.0.1", "-p", "-1", "-js", "-sd", dir)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		found := ""
		for sc.Scan() {
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				found = m[1]
			}
			if found != "" && regexp.MustCompile(`Server is ready`).MatchString(sc.Text()) {
				addr <- found
				found = ""
			}
		}
	}()
	select {
	case a := <-addr:
		return cmd, a
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start")
		return nil, ""
	}
}

// TestCrashKeepsAcknowledged publishes with async acks into a file
// stream, SIGKILLs the real binary at a random point, restarts it, and
// checks that every acknowledged message is there, unchanged.
func TestCrashKeepsAcknowledged(t *testing.T) {
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
	for round := 0; round < 2; round++ {
		cmd, addr := startBinary(t, bin, dir)
		nc, err := nats.Connect("nats://"+addr, nats.MaxReconnects(0))
		if err != nil {
			t.Fatal(err)
		}
		js, _ := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(2000))
		if round == 0 {
			if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "CRASH", Subjects: []string{"crash.>"}}); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		acked := map[uint64]string{}
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := fmt.Sprintf("r%d-m%d", round, i)
				f, err := js.PublishAsync("crash."+strconv.Itoa(i%7), []byte(body))
				if errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
					continue // a loaded machine: acks slower than nats.go's 200 ms stall wait
				}
				if err != nil {
					return
				}
				go func() {
					select {
					case ack := <-f.Ok():
						mu.Lock()
						acked[ack.Sequence] = body
						mu.Unlock()
					case <-f.Err():
					case <-stop:
					}
				}()
			}
		}()
		time.Sleep(time.Duration(200+rand.IntN(600)) * time.Millisecond)
		// On a loaded machine the restarted server may not ack within the
		// sleep: the kill waits for the first acks, not for luck.
		for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
			mu.Lock()
			n := len(acked)
			mu.Unlock()
			if n > 0 {
				break
			}
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		close(stop)
		<-done
		nc.Close()
		mu.Lock()
		want := make(map[uint64]string, len(acked))
		for k, v := range acked {
			want[k] = v
		}
		mu.Unlock()
		if len(want) == 0 {
			t.Fatalf("round %d: nothing acknowledged before the kill", round)
		}

		cmd2, addr2 := startBinary(t, bin, dir)
		nc2, err := nats.Connect("nats://" + addr2)
		if err != nil {
			t.Fatal(err)
		}
		js2, _ := jetstream.New(nc2)
		st, err := js2.Stream(ctx, "CRASH")
		if err != nil {
			t.Fatalf("round %d: stream after restart: %v", round, err)
		}
		missing := 0
		for seq, body := range want {
			m, err := st.GetMsg(ctx, seq)
			if err != nil || string(m.Data) != body {
				missing++
				if missing < 5 {
					t.Errorf("round %d: acked seq %d (%s) after restart: %v", round, seq, body, err)
				}
			}
		}
		if missing > 0 {
			t.Fatalf("round %d: %d of %d acknowledged messages lost", round, missing, len(want))
		}
		t.Logf("round %d: %d acknowledged messages all present", round, len(want))
		nc2.Close()
		cmd2.Process.Signal(syscall.SIGTERM)
		cmd2.Wait()
	}
}
