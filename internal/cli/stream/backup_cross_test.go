package streamcmd_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
	"github.com/sluicehq/sluice/internal/testutil/refbin"
)

// natscliBin is the reference natscli, found before a test moves $HOME.
var natscliBin string

// natscliAt runs the reference natscli against url as the app user.
func natscliAt(t *testing.T, url string, args ...string) string {
	t.Helper()
	args = append([]string{"--server", url, "--user", srvtest.AppUser, "--password", srvtest.AppPass}, args...)
	out, err := exec.Command(natscliBin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("nats %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// fillCross makes stream X with headers, a deleted message inside and at
// the end, and a durable consumer part way through.
func fillCross(t *testing.T, url string) {
	t.Helper()
	nc := connect(t, url)
	js, _ := jetstream.New(nc)
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := js.CreateStream(c, jetstream.StreamConfig{Name: "X", Subjects: []string{"x.*"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 10; i++ {
		m := nats.NewMsg(fmt.Sprintf("x.%d", i%3))
		m.Data = []byte(fmt.Sprintf("payload %d", i))
		m.Header.Set("K", fmt.Sprint(i))
		if _, err := js.PublishMsg(c, m); err != nil {
			t.Fatal(err)
		}
	}
	st.DeleteMsg(c, 5)
	st.DeleteMsg(c, 10)
	cons, err := st.CreateOrUpdateConsumer(c, jetstream.ConsumerConfig{Durable: "C1", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	b, err := cons.Fetch(3)
	if err != nil {
		t.Fatal(err)
	}
	for m := range b.Messages() {
		m.Ack()
	}
	testutil_wait(t, func() error {
		ci, err := cons.Info(c)
		if err != nil {
			return err
		}
		if ci.AckFloor.Stream != 3 {
			return fmt.Errorf("ack floor %d", ci.AckFloor.Stream)
		}
		return nil
	})
}

func testutil_wait(t *testing.T, f func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkCross checks a restored X holds what fillCross made.
func checkCross(t *testing.T, url string) {
	t.Helper()
	nc := connect(t, url)
	js, _ := jetstream.New(nc)
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := js.Stream(c, "X")
	if err != nil {
		t.Fatal(err)
	}
	si, _ := st.Info(c)
	if si.State.Msgs != 8 || si.State.FirstSeq != 1 || si.State.LastSeq != 10 {
		t.Fatalf("restored state %+v", si.State)
	}
	m, err := st.GetMsg(c, 7)
	if err != nil || m.Subject != "x.1" || string(m.Data) != "payload 7" || m.Header.Get("K") != "7" {
		t.Fatalf("message 7: %v %+v", err, m)
	}
	if _, err := st.GetMsg(c, 5); err == nil {
		t.Fatal("deleted message 5 came back")
	}
	cons, err := st.Consumer(c, "C1")
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	ci, _ := cons.Info(c)
	if ci.AckFloor.Stream != 3 || ci.NumPending != 5 {
		t.Fatalf("consumer state: ack floor %+v pending %d", ci.AckFloor, ci.NumPending)
	}
	// The restored stream takes new messages after the old last sequence.
	ack, err := js.Publish(c, "x.1", nil)
	if err != nil || ack.Sequence != 11 {
		t.Fatalf("publish after restore: %v %+v", err, ack)
	}
}

// A backup made by natscli from nats-server v2.15.2 restores on sluice,
// and one from sluice restores on nats-server: both send the same
// archive format.
func TestBackupCrossesServers(t *testing.T) {
	natscliBin = refbin.NATSCLI(t)
	ref := srvtest.StartReference(t, srvtest.RefOptions{JetStream: true})
	sl := srvtest.StartSluice(t)
	for _, tc := range []struct{ name, from, to string }{
		{"nats-server to sluice", ref.URL, sl.URL},
		{"sluice to nats-server", sl.URL, ref.URL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fillCross(t, tc.from)
			dir := filepath.Join(t.TempDir(), "bk")
			natscliAt(t, tc.from, "stream", "backup", "X", dir, "--no-progress", "--consumers")
			natscliAt(t, tc.from, "stream", "rm", "X", "-f")
			out := natscliAt(t, tc.to, "stream", "restore", dir, "--no-progress")
			if !strings.Contains(out, "Restored stream \"X\"") {
				t.Fatalf("restore output: %s", out)
			}
			checkCross(t, tc.to)
			natscliAt(t, tc.to, "stream", "rm", "X", "-f")
		})
	}
}

// A truncated or corrupt archive is refused with a clear error and leaves
// no stream behind, on either server.
func TestRestoreBadArchive(t *testing.T) {
	natscliBin = refbin.NATSCLI(t)
	srvtest.JetStream(t, func(t *testing.T, url string) {
		fillCross(t, url)
		dir := filepath.Join(t.TempDir(), "bk")
		natscliAt(t, url, "stream", "backup", "X", dir, "--no-progress", "--consumers")
		natscliAt(t, url, "stream", "rm", "X", "-f")
		data := filepath.Join(dir, "stream.arc.s2")
		if _, err := os.Stat(data); err != nil {
			data = filepath.Join(dir, "stream.tar.s2")
		}
		orig, err := os.ReadFile(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []struct {
			name string
			data []byte
		}{
			{"truncated", orig[:len(orig)-20]},
			{"corrupt", func() []byte {
				b := append([]byte(nil), orig...)
				b[len(b)/2] ^= 0xff
				return b
			}()},
			{"not an archive", []byte("hello, this is not a backup")},
		} {
			if err := os.WriteFile(data, bad.data, 0o600); err != nil {
				t.Fatal(err)
			}
			args := []string{"--server", url, "--user", srvtest.AppUser, "--password", srvtest.AppPass, "stream", "restore", dir, "--no-progress"}
			out, err := exec.Command(natscliBin, args...).CombinedOutput()
			if err == nil {
				t.Fatalf("%s archive restored: %s", bad.name, out)
			}
			t.Logf("%s: %s", bad.name, strings.TrimSpace(string(out)))
			nc := connect(t, url)
			js, _ := jetstream.New(nc)
			c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if _, err := js.Stream(c, "X"); err == nil {
				t.Fatalf("%s archive left a stream behind", bad.name)
			}
			cancel()
		}
		// The sound archive still restores.
		os.WriteFile(data, orig, 0o600)
		natscliAt(t, url, "stream", "restore", dir, "--no-progress")
		checkCross(t, url)
	})
}

// natscli's account backup and restore, against both servers.
func TestAccountBackupRestore(t *testing.T) {
	natscliBin = refbin.NATSCLI(t)
	srvtest.JetStream(t, func(t *testing.T, url string) {
		fillCross(t, url)
		nc := connect(t, url)
		js, _ := jetstream.New(nc)
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := js.CreateStream(c, jetstream.StreamConfig{Name: "Y", Subjects: []string{"y"}}); err != nil {
			t.Fatal(err)
		}
		js.Publish(c, "y", []byte("why"))
		dir := filepath.Join(t.TempDir(), "acct")
		natscliAt(t, url, "account", "backup", dir, "-f", "--consumers")
		natscliAt(t, url, "stream", "rm", "X", "-f")
		natscliAt(t, url, "stream", "rm", "Y", "-f")
		natscliAt(t, url, "account", "restore", dir)
		checkCross(t, url)
		st, err := js.Stream(c, "Y")
		if err != nil {
			t.Fatal(err)
		}
		if m, err := st.GetMsg(c, 1); err != nil || string(m.Data) != "why" {
			t.Fatalf("Y: %v", err)
		}
	})
}
