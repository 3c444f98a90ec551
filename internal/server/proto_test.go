package server_test

// Raw wire tests: they speak the client protocol over TCP and pin the
// server's exact bytes, independent of any client library.

import (
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

// versionAtLeast compares dotted numeric versions ("2.10.0" >= "2.9.0").
func versionAtLeast(v, min string) bool {
	vs, ms := strings.Split(v, "."), strings.Split(min, ".")
	for i := range ms {
		var a int
		if i < len(vs) {
			a, _ = strconv.Atoi(strings.SplitN(vs[i], "-", 2)[0])
		}
		b, _ := strconv.Atoi(ms[i])
		if a != b {
			return a > b
		}
	}
	return true
}

func TestProtoInfo(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		opts        func(*server.Options)
		maxPayload  int32
		headers     bool
		authMissing bool
	}{
		{"defaults", nil, 1 << 20, true, true},
		{"max_payload", func(o *server.Options) { o.MaxPayload = 2048 }, 2048, true, true},
		{"no_header_support", func(o *server.Options) { o.NoHeaderSupport = true }, 1 << 20, false, true},
		{"auth", func(o *server.Options) { o.Authorization = "s3cr3t" }, 1 << 20, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := runServer(t, tc.opts)
			rc := testutil.DialRaw(t, s)
			line := rc.ReadLine()
			info, err := testutil.ParseInfo(line)
			if err != nil {
				t.Fatal(err)
			}
			var raw map[string]any
			if err := json.Unmarshal([]byte(strings.TrimSuffix(line[5:], " \r\n")), &raw); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(info.ID, "N") || len(info.ID) != 56 {
				t.Errorf("server_id = %q, want a 56-char server nkey starting with N", info.ID)
			}
			if info.Name != info.ID {
				t.Errorf("server_name = %q, want the server_id by default", info.Name)
			}
			if !versionAtLeast(info.Version, "2.9.0") {
				t.Errorf("version = %q, want >= 2.9.0 (nats.go gates features on it)", info.Version)
			}
			if info.Proto != 1 {
				t.Errorf("proto = %d, want 1", info.Proto)
			}
			if info.GoVersion == "" {
				t.Errorf("go field is empty")
			}
			if _, ok := raw["headers"]; !ok {
				t.Errorf("headers field missing (it has no omitempty)")
			}
			if info.Headers != tc.headers {
				t.Errorf("headers = %v, want %v", info.Headers, tc.headers)
			}
			if info.MaxPayload != tc.maxPayload {
				t.Errorf("max_payload = %d, want %d", info.MaxPayload, tc.maxPayload)
			}
			if _, ok := raw["max_payload"]; !ok {
				t.Errorf("max_payload field missing")
			}
			if info.Port != s.Addr().(*net.TCPAddr).Port {
				t.Errorf("port = %d, want %d", info.Port, s.Addr().(*net.TCPAddr).Port)
			}
			if info.ClientID == 0 {
				t.Errorf("client_id missing")
			}
			if info.ClientIP != "127.0.0.1" {
				t.Errorf("client_ip = %q, want 127.0.0.1", info.ClientIP)
			}
			_, hasAuth := raw["auth_required"]
			if hasAuth == tc.authMissing || info.AuthRequired == tc.authMissing {
				t.Errorf("auth_required present=%v value=%v, want %v", hasAuth, info.AuthRequired, !tc.authMissing)
			}
			if info.ConnectInfo || info.RemoteAccount != "" {
				t.Errorf("first INFO must not carry connect_info/remote_account: %s", line)
			}
			// A second connection gets its own client id.
			_, info2 := testutil.NewRawConn(t, s)
			if info2.ClientID == info.ClientID || info2.ClientID == 0 {
				t.Errorf("client ids not distinct: %d and %d", info.ClientID, info2.ClientID)
			}
		})
	}
}

// TestProtoConnectInfoAfterFirstPing pins the INFO that follows the first
// PONG of a protocol-1 client, and only that one.
func TestProtoConnectInfoAfterFirstPing(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)

	t.Run("protocol1", func(t *testing.T) {
		rc, first := testutil.NewRawConn(t, s)
		rc.Send("CONNECT " + connProtocol1 + "\r\nPING\r\n")
		rc.Expect("PONG\r\n")
		info := rc.ReadInfo()
		if !info.ConnectInfo || info.RemoteAccount != "$G" {
			t.Errorf("post-PONG INFO: connect_info=%v remote_account=%q, want true and $G", info.ConnectInfo, info.RemoteAccount)
		}
		if info.IsSystemAccount {
			t.Errorf("acc_is_sys set for $G")
		}
		if info.ID != first.ID || info.ClientID != first.ClientID {
			t.Errorf("post-PONG INFO id/client_id %s/%d differ from first INFO %s/%d", info.ID, info.ClientID, first.ID, first.ClientID)
		}
		// Only the first PING gets it.
		rc.Sync()
		rc.Sync()
	})
	t.Run("protocol0", func(t *testing.T) {
		rc, _ := testutil.NewRawConn(t, s)
		rc.Send("CONNECT " + connQuiet + "\r\nPING\r\nPING\r\n")
		rc.Expect("PONG\r\nPONG\r\n")
		rc.Sync()
	})
	t.Run("ping_before_connect", func(t *testing.T) {
		// Without auth a PING may come first; it is not "the first PING
		// after CONNECT", so the INFO follows the next PING.
		rc, _ := testutil.NewRawConn(t, s)
		rc.Send("PING\r\n")
		rc.Expect("PONG\r\n")
		rc.Send("CONNECT " + connProtocol1 + "\r\nPING\r\n")
		rc.Expect("PONG\r\n")
		if info := rc.ReadInfo(); !info.ConnectInfo {
			t.Errorf("no connect_info INFO after the first post-CONNECT PING")
		}
	})
}

func TestProtoVerbose(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	rc, _ := testutil.NewRawConn(t, s)
	rc.Send("CONNECT {}\r\n")
	rc.Expect("+OK\r\n")
	rc.Send("SUB foo 1\r\n")
	rc.Expect("+OK\r\n")
	rc.Send("PUB foo 2\r\nhi\r\n")
	rc.Expect("+OK\r\nMSG foo 1 2\r\nhi\r\n")
	rc.Send("PUB foo reply 0\r\n\r\n")
	rc.Expect("+OK\r\nMSG foo 1 reply 0\r\n\r\n")
	rc.Send("UNSUB 1\r\n")
	rc.Expect("+OK\r\n")
	rc.Send("UNSUB 99\r\n") // unknown sid: ignored, still acknowledged
	rc.Expect("+OK\r\n")
	rc.Send("PUB foo 2\r\nhi\r\n")
	rc.Expect("+OK\r\n")
	rc.Sync()

	// Verbose is the default even before CONNECT.
	rc2, _ := testutil.NewRawConn(t, s)
	rc2.Send("SUB bar 1\r\n")
	rc2.Expect("+OK\r\n")
	rc2.Sync()
}

// TestProtoFraming runs op sequences on a fresh server and connection
// (CONNECT with headers, not verbose, not pedantic) and compares every
// byte the server sends back up to the PONG of a final PING.
func TestProtoFraming(t *testing.T) {
	t.Parallel()
	const hdr = "NATS/1.0\r\nA: 1\r\nA: 2\r\nB: x y\r\n\r\n" // 32 bytes
	cases := []struct{ name, in, want string }{
		{"msg", "SUB foo 1\r\nPUB foo 5\r\nhello\r\n", "MSG foo 1 5\r\nhello\r\n"},
		{"reply", "SUB foo 1\r\nPUB foo bar.baz 5\r\nhello\r\n", "MSG foo 1 bar.baz 5\r\nhello\r\n"},
		{"empty payload", "SUB foo 1\r\nPUB foo 0\r\n\r\n", "MSG foo 1 0\r\n\r\n"},
		{"crlf in payload", "SUB foo 1\r\nPUB foo 6\r\na\r\nb\r\n\r\n", "MSG foo 1 6\r\na\r\nb\r\n\r\n"},
		{"star keeps published subject and sid", "SUB foo.* 22\r\nPUB foo.bar 2\r\nhi\r\n", "MSG foo.bar 22 2\r\nhi\r\n"},
		{"gt", "SUB foo.> abc\r\nPUB foo.bar.baz 1\r\nx\r\nPUB foo 1\r\ny\r\n", "MSG foo.bar.baz abc 1\r\nx\r\n"},
		{"star does not span tokens", "SUB foo.* 1\r\nPUB foo.a.b 1\r\nx\r\nPUB foo 1\r\ny\r\n", ""},
		{"queue", "SUB foo q.x 7\r\nPUB foo 1\r\nx\r\n", "MSG foo 7 1\r\nx\r\n"},
		{"resub same sid is a no-op", "SUB foo 1\r\nSUB foo 1\r\nPUB foo 1\r\nx\r\n", "MSG foo 1 1\r\nx\r\n"},
		{"literal star inside token", "SUB foo*.bar 1\r\nPUB foo*.bar 1\r\nx\r\nPUB fooX.bar 1\r\ny\r\n", "MSG foo*.bar 1 1\r\nx\r\n"},
		{"wildcard publish not pedantic", "SUB foo.> 1\r\nPUB foo.* 1\r\nx\r\n", "MSG foo.* 1 1\r\nx\r\n"},
		{"hmsg", "SUB foo 1\r\nHPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n", "HMSG foo 1 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"},
		{"hmsg reply multi-value", "SUB foo 9\r\nHPUB foo r 32 35\r\n" + hdr + "abc\r\n", "HMSG foo 9 r 32 35\r\n" + hdr + "abc\r\n"},
		{"hmsg headers only", "SUB foo 1\r\nHPUB foo 32 32\r\n" + hdr + "\r\n", "HMSG foo 1 32 32\r\n" + hdr + "\r\n"},
		{"unsub", "SUB foo 1\r\nUNSUB 1\r\nPUB foo 1\r\nx\r\n", ""},
		{"unsub max", "SUB foo 1\r\nUNSUB 1 2\r\nPUB foo 1\r\na\r\nPUB foo 1\r\nb\r\nPUB foo 1\r\nc\r\n",
			"MSG foo 1 1\r\na\r\nMSG foo 1 1\r\nb\r\n"},
		{"unsub max already reached", "SUB foo 1\r\nPUB foo 1\r\na\r\nPUB foo 1\r\nb\r\nUNSUB 1 2\r\nPUB foo 1\r\nc\r\n",
			"MSG foo 1 1\r\na\r\nMSG foo 1 1\r\nb\r\n"},
		{"unsub unreadable max removes", "SUB foo 1\r\nUNSUB 1 x\r\nPUB foo 1\r\na\r\n", ""},
		{"unsub unknown sid", "UNSUB 42\r\nUNSUB 43 5\r\n", ""},
		{"two sids one conn", "SUB foo 1\r\nSUB bar 2\r\nPUB bar 1\r\nb\r\nPUB foo 1\r\nf\r\n",
			"MSG bar 2 1\r\nb\r\nMSG foo 1 1\r\nf\r\n"},
		{"lower case ops", "sub foo 1\r\npub foo 2\r\nhi\r\nping\r\n", "MSG foo 1 2\r\nhi\r\nPONG\r\n"},
		{"mixed case ops", "SuB foo 1\r\npUb foo 2\r\nhi\r\nPiNg\r\nUnSuB 1\r\nPUB foo 1\r\nx\r\n", "MSG foo 1 2\r\nhi\r\nPONG\r\n"},
		{"hpub lower case", "SUB foo 1\r\nhpub foo 12 12\r\nNATS/1.0\r\n\r\n\r\n", "HMSG foo 1 12 12\r\nNATS/1.0\r\n\r\n\r\n"},
		{"tabs", "SUB\tfoo\t1\r\nPUB\tfoo\t2\r\nhi\r\n", "MSG foo 1 2\r\nhi\r\n"},
		{"extra blanks", "SUB  foo \t 1 \r\nPUB foo   r \t2\r\nhi\r\n", "MSG foo 1 r 2\r\nhi\r\n"},
		{"bare newlines", "SUB foo 1\nPUB foo 2\nhi\r\nPING\n", "MSG foo 1 2\r\nhi\r\nPONG\r\n"},
		{"client info and +OK ignored", "INFO {}\r\n+OK\r\nSUB foo 1\r\nPUB foo 1\r\nx\r\n", "MSG foo 1 1\r\nx\r\n"},
		{"pong ignored", "PONG\r\nSUB foo 1\r\nPUB foo 1\r\nx\r\n", "MSG foo 1 1\r\nx\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rc := rawConnect(t, testutil.RunServer(t), connHdrs)
			rc.Send(tc.in + "PING\r\n")
			rc.Expect(tc.want + "PONG\r\n")
		})
	}
}

// TestProtoBareNewlineConnect: the whole handshake with bare "\n".
func TestProtoBareNewlineConnect(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	rc, _ := testutil.NewRawConn(t, s)
	rc.Send("CONNECT {\"verbose\":false}\nPING\n")
	rc.Expect("PONG\r\n")
}

// TestProtoSplitWrites sends a stream one byte per write: the server must
// reassemble operations split anywhere.
func TestProtoSplitWrites(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	rc, _ := testutil.NewRawConn(t, s)
	in := "CONNECT " + connHdrs + "\r\nSUB foo.* 1\r\nPUB foo.a r 5\r\nhello\r\n" +
		"HPUB foo.b 12 15\r\nNATS/1.0\r\n\r\nabc\r\nPING\r\n"
	for i := 0; i < len(in); i++ {
		rc.Send(in[i : i+1])
	}
	rc.Expect("MSG foo.a 1 r 5\r\nhello\r\nHMSG foo.b 1 12 15\r\nNATS/1.0\r\n\r\nabc\r\nPONG\r\n")
}

// TestProtoLargePayload crosses many reads with a payload near max_payload.
func TestProtoLargePayload(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	rc := rawConnect(t, s, connQuiet)
	payload := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB = max_payload
	rc.Send("SUB big 1\r\nPUB big " + strconv.Itoa(len(payload)) + "\r\n" + payload + "\r\nPING\r\n")
	if l := rc.ReadLine(); l != "MSG big 1 1048576\r\n" {
		t.Fatalf("got %q", l)
	}
	if got := rc.ReadN(len(payload) + 2); string(got) != payload+"\r\n" {
		t.Fatalf("payload corrupted")
	}
	rc.Expect("PONG\r\n")
}

// TestProtoHeaderStripping: a subscriber that did not negotiate headers
// gets MSG with only the payload; one that did gets the HMSG untouched.
func TestProtoHeaderStripping(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	withHdrs := rawConnect(t, s, connHdrs)
	noHdrs := rawConnect(t, s, connQuiet)
	defaults := testutil.DialRaw(t, s) // never sends CONNECT: headers off
	defaults.ReadInfo()
	withHdrs.Send("SUB h.> 1\r\n")
	withHdrs.Sync()
	noHdrs.Send("SUB h.> 2\r\n")
	noHdrs.Sync()
	defaults.Send("SUB h.> 3\r\n")
	defaults.Expect("+OK\r\n")
	defaults.Sync()

	pub := rawConnect(t, s, connHdrs)
	const hdr = "NATS/1.0\r\nK: v1\r\nK: v2\r\n\r\n" // 26 bytes
	pub.Send("HPUB h.x reply.to 26 31\r\n" + hdr + "hello\r\n")
	pub.Send("HPUB h.y 12 12\r\nNATS/1.0\r\n\r\n\r\n")
	pub.Sync()

	withHdrs.Expect("HMSG h.x 1 reply.to 26 31\r\n" + hdr + "hello\r\nHMSG h.y 1 12 12\r\nNATS/1.0\r\n\r\n\r\n")
	noHdrs.Expect("MSG h.x 2 reply.to 5\r\nhello\r\nMSG h.y 2 0\r\n\r\n")
	defaults.Expect("MSG h.x 3 reply.to 5\r\nhello\r\nMSG h.y 3 0\r\n\r\n")

	// A plain PUB reaches a headers-capable subscriber as MSG.
	pub.Send("PUB h.z 2\r\nhi\r\n")
	withHdrs.Expect("MSG h.z 1 2\r\nhi\r\n")
}

// TestProtoNoHeaderSupportServer: with headers disabled server-side a
// client asking for headers does not get them, and HPUB is refused.
func TestProtoNoHeaderSupportServer(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, func(o *server.Options) { o.NoHeaderSupport = true })
	rc := rawConnect(t, s, connHdrs)
	rc.Send("HPUB foo 12 12\r\nNATS/1.0\r\n\r\n\r\n")
	if got := rc.ExpectClosed(); len(got) != 0 {
		t.Errorf("HPUB on a server without header support: got %q before close, want a silent close", got)
	}
}

// TestProtoNoResponders pins the exact 503 status message.
func TestProtoNoResponders(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	const conn = `{"verbose":false,"pedantic":false,"headers":true,"no_responders":true}`

	rc := rawConnect(t, s, conn)
	rc.Send("SUB _INBOX.x.* 1\r\nPUB nothere _INBOX.x.y 0\r\n\r\n")
	// h = 32 + len("nothere") = 39
	rc.Expect("HMSG _INBOX.x.y 1 39 39\r\nNATS/1.0 503\r\nNats-Subject: nothere\r\n\r\n\r\n")
	rc.Sync()

	// With a payload and an HPUB the status message is the same.
	rc.Send("HPUB some.subject _INBOX.x.z 12 15\r\nNATS/1.0\r\n\r\nabc\r\n")
	rc.Expect("HMSG _INBOX.x.z 1 44 44\r\nNATS/1.0 503\r\nNats-Subject: some.subject\r\n\r\n\r\n")
	rc.Sync()

	// No subscription of the requester matches the reply: nothing.
	rc.Send("PUB nothere other.inbox 0\r\n\r\n")
	rc.Sync()

	// Someone listening: a normal delivery, no 503.
	responder := rawConnect(t, s, connQuiet)
	responder.Send("SUB svc 5\r\n")
	responder.Sync()
	rc.Send("PUB svc _INBOX.x.w 1\r\nq\r\n")
	rc.Sync()
	responder.Expect("MSG svc 5 _INBOX.x.w 1\r\nq\r\n")

	// Without no_responders nothing comes back.
	quiet := rawConnect(t, s, connHdrs)
	quiet.Send("SUB _INBOX.y.* 1\r\nPUB nothere _INBOX.y.y 0\r\n\r\n")
	quiet.Sync()

	// No reply subject: nothing either.
	rc.Send("PUB nothere 0\r\n\r\n")
	rc.Sync()
}

// TestProtoPingBeforeConnect: without auth, ops before CONNECT work with
// nats-server's defaults (verbose).
func TestProtoPingBeforeConnect(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	rc, _ := testutil.NewRawConn(t, s)
	rc.Send("PING\r\nSUB foo 1\r\nPUB foo 2\r\nok\r\n")
	rc.Expect("PONG\r\n+OK\r\n+OK\r\nMSG foo 1 2\r\nok\r\n")
}

// TestProtoEchoOff: a raw connection with echo:false does not get its own
// messages, but others' messages still arrive.
func TestProtoEchoOff(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	rc := rawConnect(t, s, `{"verbose":false,"pedantic":false,"echo":false}`)
	other := rawConnect(t, s, connQuiet)
	rc.Send("SUB foo 1\r\nSUB foo q 2\r\nPUB foo 1\r\nx\r\n")
	rc.Sync()
	other.Send("PUB foo 1\r\ny\r\n")
	other.Sync()
	got := rc.ReadLine() + rc.ReadLine() + rc.ReadLine() + rc.ReadLine()
	// The two deliveries may come in either order.
	a, b := "MSG foo 1 1\r\ny\r\n", "MSG foo 2 1\r\ny\r\n"
	if got != a+b && got != b+a {
		t.Fatalf("echo off: got %q, want both subs to get only y", got)
	}
	rc.Sync()
}
