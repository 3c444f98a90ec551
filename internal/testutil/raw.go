package testutil

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/pkg/api"
)

// DefaultRawTimeout bounds every read of a RawConn unless changed.
const DefaultRawTimeout = 5 * time.Second

// RawConn is a plain TCP connection speaking the client protocol by hand,
// for tests that pin the server's exact bytes. Every read has a deadline;
// a read that times out fails the test. Its methods call t.Fatal and so
// must run on the test's goroutine.
type RawConn struct {
	t       testing.TB
	conn    net.Conn
	r       *bufio.Reader
	Timeout time.Duration
}

// DialRaw opens a TCP connection to s without reading anything. The
// connection is closed when the test ends.
func DialRaw(t testing.TB, s *server.Server) *RawConn {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatalf("dial %s: %v", s.Addr(), err)
	}
	t.Cleanup(func() { c.Close() })
	return &RawConn{t: t, conn: c, r: bufio.NewReader(c), Timeout: DefaultRawTimeout}
}

// NewRawConn dials s and reads the server's INFO line, which it returns.
func NewRawConn(t testing.TB, s *server.Server) (*RawConn, api.ServerInfo) {
	t.Helper()
	rc := DialRaw(t, s)
	return rc, rc.ReadInfo()
}

// Conn is the underlying connection.
func (rc *RawConn) Conn() net.Conn { return rc.conn }

// Close closes the connection.
func (rc *RawConn) Close() { rc.conn.Close() }

// Send writes s as is.
func (rc *RawConn) Send(s string) {
	rc.t.Helper()
	rc.conn.SetWriteDeadline(time.Now().Add(rc.Timeout))
	if _, err := io.WriteString(rc.conn, s); err != nil {
		rc.t.Fatalf("raw send %q: %v", Snip(s), err)
	}
}

// ReadLine reads one line including its "\n".
func (rc *RawConn) ReadLine() string {
	rc.t.Helper()
	rc.conn.SetReadDeadline(time.Now().Add(rc.Timeout))
	line, err := rc.r.ReadString('\n')
	if err != nil {
		rc.t.Fatalf("raw read line: %v (got %q)", err, Snip(line))
	}
	return line
}

// ReadN reads exactly n bytes.
func (rc *RawConn) ReadN(n int) []byte {
	rc.t.Helper()
	rc.conn.SetReadDeadline(time.Now().Add(rc.Timeout))
	b := make([]byte, n)
	if m, err := io.ReadFull(rc.r, b); err != nil {
		rc.t.Fatalf("raw read %d bytes: %v (got %q)", n, err, Snip(string(b[:m])))
	}
	return b
}

// Expect reads len(want) bytes and fails the test unless they are want.
// It fails as soon as what has arrived stops being a prefix of want, so a
// wrong reply costs no timeout.
func (rc *RawConn) Expect(want string) {
	rc.t.Helper()
	rc.conn.SetReadDeadline(time.Now().Add(rc.Timeout))
	got := make([]byte, 0, len(want))
	for len(got) < len(want) {
		b := make([]byte, len(want)-len(got))
		n, err := rc.r.Read(b)
		got = append(got, b[:n]...)
		if string(got) != want[:len(got)] || err != nil {
			rc.t.Fatalf("raw read:\n got  %q (err %v)\n want %q", Snip(string(got)), err, Snip(want))
		}
	}
}

// ReadInfo reads an INFO line, checks its framing ("INFO {json} \r\n")
// and decodes it.
func (rc *RawConn) ReadInfo() api.ServerInfo {
	rc.t.Helper()
	line := rc.ReadLine()
	info, err := ParseInfo(line)
	if err != nil {
		rc.t.Fatal(err)
	}
	return info
}

// ParseInfo decodes a complete INFO line, checking nats-server's exact
// framing: "INFO ", a JSON object, " \r\n".
func ParseInfo(line string) (api.ServerInfo, error) {
	var info api.ServerInfo
	if !strings.HasPrefix(line, "INFO {") || !strings.HasSuffix(line, "} \r\n") {
		return info, errors.New("not an INFO line in the form \"INFO {...} \\r\\n\": " + Snip(line))
	}
	js := strings.TrimSuffix(strings.TrimPrefix(line, "INFO "), " \r\n")
	if err := json.Unmarshal([]byte(js), &info); err != nil {
		return info, errors.New("INFO JSON: " + err.Error())
	}
	return info, nil
}

// Sync sends PING and expects the next line to be PONG, proving the server
// has processed everything sent before and that nothing else was queued
// for this connection in between.
func (rc *RawConn) Sync() {
	rc.t.Helper()
	rc.Send("PING\r\n")
	if l := rc.ReadLine(); l != "PONG\r\n" {
		rc.t.Fatalf("expected PONG, got %q", Snip(l))
	}
}

// Connect sends CONNECT with the given JSON and a PING, then expects
// "+OK" (if verbose) and "PONG". A PING from the server that comes first
// (a short ping interval on a loaded machine) is answered, as a client
// does.
func (rc *RawConn) Connect(connectJSON string, verbose bool) {
	rc.t.Helper()
	rc.Send("CONNECT " + connectJSON + "\r\nPING\r\n")
	next := func() string {
		for {
			l := rc.ReadLine()
			if l != "PING\r\n" {
				return l
			}
			rc.Send("PONG\r\n")
		}
	}
	if verbose {
		if l := next(); l != "+OK\r\n" {
			rc.t.Fatalf("expected +OK after CONNECT, got %q", Snip(l))
		}
	}
	if l := next(); l != "PONG\r\n" {
		rc.t.Fatalf("expected PONG after CONNECT, got %q", Snip(l))
	}
}

// ExpectClosed reads until the server closes the connection and returns
// whatever arrived before the close. It fails the test if the connection
// is still open after the timeout. A reset counts as closed.
func (rc *RawConn) ExpectClosed() []byte {
	rc.t.Helper()
	var got bytes.Buffer
	deadline := time.Now().Add(rc.Timeout)
	buf := make([]byte, 4096)
	for {
		rc.conn.SetReadDeadline(deadline)
		n, err := rc.r.Read(buf)
		got.Write(buf[:n])
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
			return got.Bytes()
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			rc.t.Fatalf("connection still open after %v (read so far %q)", rc.Timeout, Snip(got.String()))
		}
		// Any other error also means the connection is gone.
		return got.Bytes()
	}
}

// Snip shortens s for error messages.
func Snip(s string) string {
	const max = 300
	if len(s) <= max {
		return s
	}
	return s[:max] + "...(" + strconv.Itoa(len(s)) + " bytes)"
}
