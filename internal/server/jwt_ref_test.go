package server_test

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	njwt "github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
)

// rawLogin dials addr, logs in with a user JWT signing the nonce, and
// returns the reader positioned after the PONG (or at the first -ERR).
func rawLogin(t *testing.T, addr, tok string, kp nkeys.KeyPair) (net.Conn, *bufio.Reader, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	line, _ := r.ReadString('\n')
	var info struct {
		Nonce string `json:"nonce"`
	}
	json.Unmarshal([]byte(strings.TrimPrefix(line, "INFO ")), &info)
	sig, _ := kp.Sign([]byte(info.Nonce))
	cj, _ := json.Marshal(map[string]any{"jwt": tok, "sig": base64.RawURLEncoding.EncodeToString(sig), "verbose": false, "pedantic": false, "protocol": 1, "headers": true})
	c.Write([]byte("CONNECT " + string(cj) + "\r\nPING\r\n"))
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
		if line == "PONG\r\n" || strings.HasPrefix(line, "-ERR") {
			return c, r, line
		}
	}
}

// nextErr reads until an -ERR line.
func nextErr(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("no -ERR: %v", err)
		}
		if strings.HasPrefix(line, "-ERR") {
			return line
		}
	}
}

// The errors of operator mode, byte for byte as nats-server writes them:
// expiry on a live connection and the account connection limit.
func TestJWTErrorsMatchReference(t *testing.T) {
	bin := srvtest.ReferenceBinary()
	if bin == "" {
		t.Fatal("reference nats-server not found (~/peers/bin/nats-server or $SLUICE_REF_NATS_SERVER)")
	}
	op := newOperator(t)
	acc := op.account(t, "A", func(ac *njwt.AccountClaims) { ac.Limits.Conn = 1 })
	s := runOperator(t, op, nil, acc)
	ref := strings.TrimPrefix(startRefOperator(t, bin, op, acc), "nats://")
	for name, addr := range map[string]string{"sluice": s.Addr().String(), "nats-server": ref} {
		t.Run(name, func(t *testing.T) {
			tok, kp := acc.user(t, "short", func(uc *njwt.UserClaims) { uc.Expires = time.Now().Add(3 * time.Second).Unix() })
			_, r, first := rawLogin(t, addr, tok, kp)
			if first != "PONG\r\n" {
				t.Fatalf("login: %q", first)
			}
			_, _, second := rawLogin(t, addr, tok, kp)
			if want := "-ERR 'maximum account active connections exceeded'\r\n"; second != want {
				t.Errorf("second connection: %q, want %q", second, want)
			}
			got := nextErr(t, r)
			if want := "-ERR 'User Authentication Expired'\r\n"; got != want {
				t.Errorf("expiry: %q, want %q", got, want)
			}
		})
	}
}
