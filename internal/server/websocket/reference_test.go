package websocket_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

// target is a server under test: its nats:// and ws:// addresses.
type target struct {
	name    string
	natsURL string
	wsAddr  string // host:port
}

// both starts sluice and the reference nats-server with the same
// configuration (a plain-text websocket {} block with extra inside) and
// runs fn against each.
func both(t *testing.T, extra string, fn func(t *testing.T, tg target)) {
	conf := fmt.Sprintf("listen: \"127.0.0.1:-1\"\nwebsocket {\n  listen: \"127.0.0.1:-1\"\n  no_tls: true\n  %s\n}\nmax_payload: 1024\n", extra)
	t.Run("sluice", func(t *testing.T) { fn(t, startSluice(t, conf)) })
	t.Run("nats-server", func(t *testing.T) { fn(t, startReference(t, conf)) })
}

func startSluice(t *testing.T, conf string) target {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var o server.Options
	if _, err := o.ProcessConfigFile(path, true); err != nil {
		t.Fatal(err)
	}
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return target{name: "sluice", natsURL: s.ClientURL(), wsAddr: s.WebsocketAddr().String()}
}

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startReference runs ~/peers/bin/nats-server (or $SLUICE_REF_NATS_SERVER)
// with conf; the test fails when it is not installed.
func startReference(t *testing.T, conf string) target {
	t.Helper()
	bin := srvtest.ReferenceBinary()
	if bin == "" {
		t.Fatal("reference nats-server not installed (~/peers/bin/nats-server or $SLUICE_REF_NATS_SERVER)")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "ref.conf")
	if err := os.WriteFile(path, []byte(conf+fmt.Sprintf("ports_file_dir: %q\n", dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs syncBuf
	cmd := exec.Command(bin, "-c", path)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	ports := filepath.Join(dir, fmt.Sprintf("%s_%d.ports", filepath.Base(bin), cmd.Process.Pid))
	var tg target
	testutil.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		select {
		case <-exited:
			t.Fatalf("nats-server exited:\n%s", logs.String())
		default:
		}
		b, err := os.ReadFile(ports)
		if err != nil {
			return err
		}
		var p struct {
			Nats      []string `json:"nats"`
			WebSocket []string `json:"websocket"`
		}
		if err := json.Unmarshal(b, &p); err != nil || len(p.Nats) == 0 || len(p.WebSocket) == 0 {
			return fmt.Errorf("ports file %q incomplete", b)
		}
		tg = target{name: "nats-server", natsURL: p.Nats[0], wsAddr: strings.TrimPrefix(p.WebSocket[0], "ws://")}
		return nil
	})
	return tg
}
