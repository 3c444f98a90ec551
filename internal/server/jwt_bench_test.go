package server_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
)

// BenchmarkJWTLogin measures logins of a JWT user (connect, INFO with
// nonce, CONNECT with JWT and signature, the chain verified, PONG) with
// nats.go, against sluice and against nats-server with the same
// operator, account and user, in the same run.
func BenchmarkJWTLogin(b *testing.B) {
	op := newOperator(b)
	acc := op.account(b, "A", nil)
	tok, kp := acc.user(b, "u", nil)
	login := func(b *testing.B, url string) {
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			nc, err := nats.Connect(url, creds(tok, kp), nats.NoReconnect())
			if err != nil {
				b.Fatal(err)
			}
			nc.Close()
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
	}
	b.Run("sluice", func(b *testing.B) {
		s := runOperator(b, op, nil, acc)
		login(b, s.ClientURL())
	})
	b.Run("nats-server", func(b *testing.B) {
		bin := srvtest.ReferenceBinary()
		if bin == "" {
			b.Fatal("reference nats-server not found (~/peers/bin/nats-server or $SLUICE_REF_NATS_SERVER)")
		}
		url := startRefOperator(b, bin, op, acc)
		login(b, url)
	})
}

func startRefOperator(b testing.TB, bin string, op *tOperator, acc *tAccount) string {
	dir := b.TempDir()
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	conf := filepath.Join(dir, "ref.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`listen: 127.0.0.1:%d
operator: %q
system_account: %s
resolver: MEMORY
resolver_preload: {
  %s: %q
  %s: %q
}
`, port, op.jwt, op.sys.pub, op.sys.pub, op.sys.jwt, acc.pub, acc.jwt)), 0o644)
	cmd := exec.Command(bin, "-c", conf)
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("reference server did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "nats://" + addr
}

// BenchmarkCalloutLogin measures logins through a config-mode auth
// callout (one request to a nats.go service and its answer) against the
// direct login of the service's own user on the same server.
func BenchmarkCalloutLogin(b *testing.B) {
	s, _ := startCallout(b, false)
	run := func(b *testing.B, opt nats.Option) {
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			nc, err := nats.Connect(s.ClientURL(), opt, nats.NoReconnect())
			if err != nil {
				b.Fatal(err)
			}
			nc.Close()
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
	}
	b.Run("callout", func(b *testing.B) { run(b, nats.Token("good-token")) })
	b.Run("direct", func(b *testing.B) { run(b, nats.UserInfo("auth-service", "callout-secret")) })
}
