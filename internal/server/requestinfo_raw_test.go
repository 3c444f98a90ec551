package server_test

import (
	"bufio"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Issue 22 item 1, on the wire: the HMSG a responder reads for a request
// that crossed a service import, byte for byte as nats-server v2.15.2
// writes it, once the values that differ from run to run are masked (the
// RTT, the client's start time and id, the reply subject's random token).
// The sizes in the HMSG line are checked against the bytes that follow.
func TestRequestInfoRawMatchesReference(t *testing.T) {
	conf := requestInfoConf
	hdr := "NATS/1.0\r\nX-Mine: 1\r\nNats-Request-Info: {\"acc\":\"EVIL\"}\r\n\r\n"
	results := map[string][]string{}
	bothFromConf(t, conf, func(t *testing.T, tg opTarget) {
		addr := strings.TrimPrefix(tg.url, "nats://")
		svc := rawDial(t, addr, `{"user":"s","pass":"s","headers":true,"verbose":false,"protocol":1}`)
		svc.send(t, "SUB svc.> 1\r\nSUB sh.> 2\r\nPING\r\n")
		svc.expect(t, "PONG\r\n")
		app := rawDial(t, addr, `{"user":"a","pass":"a","headers":true,"verbose":false,"protocol":1,"name":"app","lang":"raw","version":"1.0.0"}`)
		var got []string
		for _, pub := range []string{
			"PUB svc.x _INBOX.r1 2\r\nhi\r\n",
			fmt.Sprintf("HPUB svc.y _INBOX.r2 %d %d\r\n%shi\r\n", len(hdr), len(hdr)+2, hdr),
			"PUB sh.z _INBOX.r3 2\r\nhi\r\n",
		} {
			app.send(t, pub+"PING\r\n")
			app.expect(t, "PONG\r\n")
			got = append(got, svc.readHMsg(t))
		}
		results[t.Name()] = got
	})
	s, r := results["TestRequestInfoRawMatchesReference/sluice"], results["TestRequestInfoRawMatchesReference/nats-server"]
	if len(s) != 3 || len(r) != 3 {
		t.Fatalf("missing results: %q %q", s, r)
	}
	for i := range s {
		if s[i] != r[i] {
			t.Errorf("request %d:\n sluice      %q\n nats-server %q", i, s[i], r[i])
		}
	}
}

type rawClient struct {
	c net.Conn
	r *bufio.Reader
}

func rawDial(t *testing.T, addr, connect string) *rawClient {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	rc := &rawClient{c: c, r: bufio.NewReader(c)}
	if line, _ := rc.r.ReadString('\n'); !strings.HasPrefix(line, "INFO ") {
		t.Fatalf("no INFO: %q", line)
	}
	rc.send(t, "CONNECT "+connect+"\r\nPING\r\n")
	for {
		line, err := rc.r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "PONG\r\n" {
			return rc
		}
		if strings.HasPrefix(line, "-ERR") {
			t.Fatal(line)
		}
	}
}

func (rc *rawClient) send(t *testing.T, s string) {
	t.Helper()
	if _, err := rc.c.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
}

func (rc *rawClient) expect(t *testing.T, want string) {
	t.Helper()
	for {
		line, err := rc.r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == want {
			return
		}
		if !strings.HasPrefix(line, "INFO ") { // async INFO may come first
			t.Fatalf("got %q, want %q", line, want)
		}
	}
}

var (
	maskReply = regexp.MustCompile(`_R_\.[A-Za-z0-9]+\.[A-Za-z0-9]+`)
	maskRTT   = regexp.MustCompile(`"rtt":\d+`)
	maskStart = regexp.MustCompile(`"start":"[^"]+"`)
	maskID    = regexp.MustCompile(`"id":\d+`)
)

// readHMsg reads one HMSG, checks its sizes, and returns it masked.
func (rc *rawClient) readHMsg(t *testing.T) string {
	t.Helper()
	line, err := rc.r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(line)
	if len(f) != 6 || f[0] != "HMSG" {
		t.Fatalf("not an HMSG with reply: %q", line)
	}
	hl, _ := strconv.Atoi(f[4])
	tl, _ := strconv.Atoi(f[5])
	body := make([]byte, tl+2)
	if _, err := ioReadFull(rc.r, body); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(body[:hl]), "\r\n\r\n") || string(body[tl:]) != "\r\n" {
		t.Fatalf("sizes %d/%d do not frame %q", hl, tl, body)
	}
	f[4], f[5] = "H", "T"
	out := strings.Join(f, " ") + "\r\n" + string(body)
	for _, m := range []*regexp.Regexp{maskReply, maskRTT, maskStart, maskID} {
		out = m.ReplaceAllStringFunc(out, func(s string) string { return s[:strings.IndexAny(s, ":.")+1] + "*" })
	}
	return fmt.Sprint(out)
}

func ioReadFull(r *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
