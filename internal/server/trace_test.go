package server_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/testutil"
)

// traceLines returns the TRC lines of logs without their "host - cid:N - "
// prefix.
func traceLines(logs *logBuffer) []string {
	var out []string
	pre := regexp.MustCompile(`^TRC \S+ - cid:\d+ - `)
	for _, l := range strings.Split(logs.String(), "\n") {
		if pre.MatchString(l) {
			out = append(out, pre.ReplaceAllString(l, ""))
		}
	}
	return out
}

func TestTraceProtocol(t *testing.T) {
	t.Parallel()
	logs := &logBuffer{}
	s := runConf(t, "authorization { user: u, password: Tr4cedSecret }\nmax_traced_msg_len: 8\n", withLog(logs))
	rc, _ := testutil.NewRawConn(t, s)
	rc.Connect(`{"user":"u","pass":"Tr4cedSecret","verbose":true,"headers":true}`, true)
	rc.Send("SUB t.> q 1\r\nPUB t.a r 2\r\nhi\r\nHPUB t.b 12 14\r\nNATS/1.0\r\n\r\nok\r\nPUB t.c 20\r\n0123456789abcdefghij\r\nUNSUB 1 5\r\nPING\r\n")
	for _, want := range []string{"+OK", "+OK", "MSG t.a 1 r 2", "hi", "+OK", "HMSG t.b 1 12 14", "NATS/1.0", "", "ok", "+OK",
		"MSG t.c 1 20", "0123456789abcdefghij", "+OK", "PONG"} {
		if got := strings.TrimRight(rc.ReadLine(), "\r\n"); got != want {
			t.Fatalf("read %q, want %q", got, want)
		}
	}
	rc.Send("SUB bad..subject 2\r\nPING\r\n")
	rc.Expect("-ERR 'Invalid Subject'\r\nPONG\r\n")
	testutil.CheckFor(t, waitLong, pollStep, func() error {
		if n := len(traceLines(logs)); n < 29 {
			return fmt.Errorf("%d lines traced", n)
		}
		return nil
	})
	got := traceLines(logs)
	want := []string{
		`<<- [CONNECT {"user":"u","pass":"[REDACTED]","verbose":true,"headers":true}]`,
		`->> [OK]`,
		`<<- [PING]`, `->> [PONG]`,
		`<<- [SUB t.> q 1]`, `->> [OK]`,
		`<<- [PUB t.a r 2]`, `<<- MSG_PAYLOAD: ["hi"]`, `->> [OK]`, `->> [MSG t.a 1 r 2]`, `->> MSG_PAYLOAD: ["hi"]`,
		`<<- [HPUB t.b 12 14]`, `<<- MSG_PAYLOAD: ["NATS/1.0..."]`, `->> [OK]`, `->> [HMSG t.b 1 12 14]`, `->> MSG_PAYLOAD: ["NATS/1.0..."]`,
		`<<- [PUB t.c 20]`, `<<- MSG_PAYLOAD: ["01234567..."]`, `->> [OK]`, `->> [MSG t.c 1 20]`, `->> MSG_PAYLOAD: ["01234567..."]`,
		`<<- [UNSUB 1 5]`, `->> [OK]`,
		`<<- [PING]`, `->> [PONG]`,
		`<<- [SUB bad..subject 2]`, `->> [-ERR 'Invalid Subject']`,
		`<<- [PING]`, `->> [PONG]`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("trace:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(logs.String(), "Tr4cedSecret") {
		t.Errorf("the password reached the log:\n%s", logs)
	}
}

// A refused login is traced too, with the secret redacted.
func TestTraceRefusedConnect(t *testing.T) {
	t.Parallel()
	logs := &logBuffer{}
	s := runConf(t, "authorization { token: R1ghtToken }\n", withLog(logs))
	rc, _ := testutil.NewRawConn(t, s)
	rc.Send(`CONNECT {"auth_token":"Wr0ngToken"}` + "\r\n")
	rc.ExpectClosed()
	testutil.CheckFor(t, waitLong, pollStep, func() error {
		if !strings.Contains(logs.String(), "Authorization Violation") {
			return fmt.Errorf("no -ERR traced yet")
		}
		return nil
	})
	l := logs.String()
	if !strings.Contains(l, `<<- [CONNECT {`) || !strings.Contains(l, `"auth_token":"[REDACTED]"`) ||
		!strings.Contains(l, `->> [-ERR 'Authorization Violation']`) || strings.Contains(l, "Wr0ngToken") {
		t.Errorf("log:\n%s", l)
	}
}
