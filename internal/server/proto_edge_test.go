package server_test

// Wire edge cases. Every expectation here was first observed against
// nats-server v2.15.2 on 127.0.0.1 with the same bytes.

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

type wireCase struct {
	name   string
	opts   func(*server.Options)
	writes []string // sent one after another, after reading INFO
	want   string   // all bytes the server sends after INFO
	closes bool     // the server closes after want; else PING/PONG follows
}

// runWire runs one case on a fresh server. Open cases end with a PING so
// the comparison covers every byte up to the PONG.
func runWire(t *testing.T, tc wireCase) {
	t.Helper()
	s := runServer(t, tc.opts)
	rc, _ := testutil.NewRawConn(t, s)
	for _, w := range tc.writes {
		rc.Send(w)
	}
	if tc.closes {
		if got := string(rc.ExpectClosed()); got != tc.want {
			t.Fatalf("got  %q then close\nwant %q then close", testutil.Snip(got), testutil.Snip(tc.want))
		}
		return
	}
	rc.Send("PING\r\n")
	rc.Expect(tc.want + "PONG\r\n")
}

func TestProtoEdgeCases(t *testing.T) {
	t.Parallel()
	const quiet = "CONNECT " + connQuiet + "\r\n"
	const hdrs = "CONNECT " + connHdrs + "\r\n"
	const nr = `CONNECT {"verbose":false,"headers":true,"no_responders":true}` + "\r\n"
	pubViolation := func(subj string) string {
		return errLine(`Permissions Violation for Publish to "` + subj + `"`)
	}
	replyViolation := func(reply string) string {
		return errLine(`Permissions Violation for Publish with Reply of "` + reply + `"`)
	}
	one := func(s ...string) []string { return []string{strings.Join(s, "")} }

	cases := []wireCase{
		// CONNECT.
		{name: "second connect changes options", writes: one(quiet, `CONNECT {"verbose":true}`+"\r\n", "SUB a 1\r\n"), want: "+OK\r\n+OK\r\n"},
		{name: "connect unknown field", writes: one(`CONNECT {"verbose":false,"unknown_field":1}` + "\r\n")},
		{name: "connect without json", writes: one("CONNECT\r\n"), closes: true},
		{name: "connect blank json", writes: one("CONNECT \r\n"), closes: true},
		{name: "connect trailing garbage", writes: one(`CONNECT {"verbose":false} trailing` + "\r\n"), closes: true},

		// Reserved subjects: dropped with a permissions error, connection open.
		{name: "publish to _GR_", writes: one(quiet, "SUB _GR_.> 1\r\nPUB _GR_.x 1\r\nx\r\n"), want: pubViolation("_GR_.x")},
		{name: "publish to $GR", writes: one(quiet, "PUB $GR.x 1\r\nx\r\n"), want: pubViolation("$GR.x")},
		{name: "publish to $NRG", writes: one(quiet, "SUB $NRG.> 1\r\nPUB $NRG.x 1\r\nx\r\n"), want: pubViolation("$NRG.x")},
		{name: "reply _R_", writes: one(quiet, "SUB foo 1\r\nPUB foo _R_.x 1\r\nx\r\n"), want: replyViolation("_R_.x")},
		{name: "reply $JS.ACK", writes: one(quiet, "SUB foo 1\r\nPUB foo $JS.ACK.x 1\r\nx\r\n"), want: replyViolation("$JS.ACK.x")},
		{name: "reply _GR_", writes: one(quiet, "SUB foo 1\r\nPUB foo _GR_.x 1\r\nx\r\n"), want: replyViolation("_GR_.x")},
		{name: "reply $GR", writes: one(quiet, "SUB foo 1\r\nPUB foo $GR.x 1\r\nx\r\n"), want: replyViolation("$GR.x")},
		{name: "reserved publish verbose", writes: one(`CONNECT {"verbose":true}`+"\r\n", "PUB _GR_.x 1\r\nx\r\n"), want: "+OK\r\n" + pubViolation("_GR_.x")},
		{name: "reserved reply verbose", writes: one(`CONNECT {"verbose":true}`+"\r\n", "PUB foo _R_.x 1\r\nx\r\n"), want: "+OK\r\n" + replyViolation("_R_.x")},
		{name: "publish to _R_ is allowed", writes: one(quiet, "SUB _R_.> 2\r\nPUB _R_.x 1\r\nx\r\n"), want: "MSG _R_.x 2 1\r\nx\r\n"},
		{name: "queue _sys_ refused", writes: one(quiet, "SUB foo _sys_ 1\r\nPUB foo 1\r\nx\r\n"),
			want: errLine(`Permissions Violation for Subscription to "foo" using queue "_sys_"`)},
		{name: "subject _sys_ allowed", writes: one(quiet, "SUB _sys_ 1\r\nPUB _sys_ 1\r\nx\r\n"), want: "MSG _sys_ 1 1\r\nx\r\n"},

		// Publishing.
		{name: "pedantic does not check reply", writes: one(connectLine(connPedantic), "SUB foo 1\r\nPUB foo bar.* 1\r\nx\r\n"), want: "MSG foo 1 bar.* 1\r\nx\r\n"},
		{name: "hpub empty header is a plain message", writes: one(hdrs, "SUB foo 1\r\nHPUB foo 0 2\r\nhi\r\n"), want: "MSG foo 1 2\r\nhi\r\n"},
		{name: "hpub empty header and payload", writes: one(hdrs, "SUB foo 1\r\nHPUB foo r 0 0\r\n\r\n"), want: "MSG foo 1 r 0\r\n\r\n"},
		{name: "size with leading zero", writes: one(quiet, "SUB foo 1\r\nPUB foo 01\r\nx\r\n"), want: "MSG foo 1 1\r\nx\r\n"},
		{name: "size with plus sign", writes: one(quiet, "PUB foo +2\r\nhi\r\n"), closes: true},
		{name: "size of ten digits", writes: one(quiet, "PUB foo 1000000000\r\n"), closes: true},
		{name: "size of nine digits over max payload", writes: one(quiet, "PUB foo 999999999\r\n"), want: errLine("Maximum Payload Violation"), closes: true},
		{name: "utf8 subject", writes: one(quiet, "SUB fö.ü 1\r\nPUB fö.ü 1\r\nx\r\n"), want: "MSG fö.ü 1 1\r\nx\r\n"},
		{name: "wildcard-like queue name", writes: one(quiet, "SUB foo.* q* 1\r\nPUB foo.a 1\r\nx\r\n"), want: "MSG foo.a 1 1\r\nx\r\n"},

		// Subscriptions.
		{name: "sid reuse keeps the first subject", writes: one(quiet, "SUB foo 1\r\nSUB bar 1\r\nPUB bar 1\r\nx\r\nPUB foo 1\r\ny\r\n"), want: "MSG foo 1 1\r\ny\r\n"},
		{name: "unsub max zero removes", writes: one(quiet, "SUB foo 1\r\nUNSUB 1 0\r\nPUB foo 1\r\nx\r\n")},
		{name: "unsub one queue member", writes: one(quiet, "SUB foo q 1\r\nSUB foo q 2\r\nUNSUB 1\r\nPUB foo 1\r\nx\r\n"), want: "MSG foo 2 1\r\nx\r\n"},
		{name: "echo off own queue member", writes: one(`CONNECT {"verbose":false,"echo":false}`+"\r\n", "SUB foo q 1\r\nPUB foo 1\r\nx\r\n")},

		// No responders.
		{name: "no responders for hpub", writes: one(nr, "SUB _INBOX.> 1\r\nHPUB nothere _INBOX.a 0 2\r\nhi\r\n"),
			want: "HMSG _INBOX.a 1 39 39\r\nNATS/1.0 503\r\nNats-Subject: nothere\r\n\r\n\r\n"},
		{name: "no responders not to a queue sub", writes: one(nr, "SUB _INBOX.a q 1\r\nPUB nothere _INBOX.a 0\r\n\r\n")},

		// Op names and blank lines.
		{name: "ping trailing blanks", writes: one(quiet, "PING   \r\n"), want: "PONG\r\n"},
		{name: "ping trailing junk", writes: one(quiet, "PINGX\r\n"), want: "PONG\r\n"},
		{name: "pong trailing junk", writes: one(quiet, "PONGX\r\n")},
		{name: "truncated op", writes: one(quiet, "PIN\r\n"), want: errLine("Unknown Protocol Operation"), closes: true},
		{name: "empty line", writes: one(quiet, "\r\n"), want: errLine("Unknown Protocol Operation"), closes: true},
		{name: "blank line", writes: one(quiet, " \r\n"), want: errLine("Unknown Protocol Operation"), closes: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runWire(t, tc)
		})
	}
}

func connectLine(js string) string { return "CONNECT " + js + "\r\n" }

// TestProtoEdgeLimits: exact limit boundaries.
func TestProtoEdgeLimits(t *testing.T) {
	t.Parallel()
	const quiet = "CONNECT " + connQuiet + "\r\n"
	mcl := func(o *server.Options) { o.MaxControlLine = 256 }
	subs := func(o *server.Options) { o.MaxSubs = 2 }
	maxLine := errLine("maximum control line exceeded")
	cases := []wireCase{
		// "SUB " + 254 + " 1": the argument part is exactly 256 bytes.
		{name: "control line at limit", opts: mcl, writes: []string{quiet, "SUB " + strings.Repeat("a", 254) + " 1\r\n"}},
		{name: "control line over limit", opts: mcl, writes: []string{quiet, "SUB " + strings.Repeat("a", 255) + " 1\r\n"}, want: maxLine, closes: true},
		{name: "split control line at limit", opts: mcl, writes: []string{quiet + "SUB " + strings.Repeat("a", 200), strings.Repeat("a", 54) + " 1\r\n"}},
		{name: "split control line over limit", opts: mcl, writes: []string{quiet + "SUB " + strings.Repeat("a", 200), strings.Repeat("a", 55) + " 1\r\n"}, want: maxLine, closes: true},
		{name: "long ping line is fine", opts: mcl, writes: []string{quiet, "PING " + strings.Repeat("a", 1000) + "\r\n"}, want: "PONG\r\n"},
		{name: "long +OK line is fine", opts: mcl, writes: []string{quiet, "+OK " + strings.Repeat("a", 1000) + "\r\n"}},
		{name: "long INFO line", opts: mcl, writes: []string{quiet, "INFO {" + strings.Repeat(" ", 1000) + "}\r\n"}, want: maxLine, closes: true},
		{name: "long CONNECT line", opts: mcl, writes: []string{`CONNECT {"name":"` + strings.Repeat("n", 300) + `"}` + "\r\n"}, want: maxLine, closes: true},
		{name: "max subs two over", opts: subs, writes: []string{quiet, "SUB a 1\r\nSUB b 2\r\nSUB c 3\r\nSUB d 4\r\n"},
			want: errLine("maximum subscriptions exceeded") + errLine("maximum subscriptions exceeded")},
		{name: "max subs duplicate sid at limit", opts: subs, writes: []string{quiet, "SUB a 1\r\nSUB b 2\r\nSUB a 1\r\n"},
			want: errLine("maximum subscriptions exceeded")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runWire(t, tc)
		})
	}
}

// TestProtoEdgeAuth: the first-op rule and a second CONNECT under auth.
func TestProtoEdgeAuth(t *testing.T) {
	t.Parallel()
	auth := func(o *server.Options) { o.Username, o.Password = "alice", "pw" }
	good := `CONNECT {"verbose":false,"user":"alice","pass":"pw"}` + "\r\n"
	violation := errLine("Authorization Violation")
	cases := []wireCase{
		{name: "second connect bad password", opts: auth, writes: []string{good + `CONNECT {"verbose":false,"user":"alice","pass":"bad"}` + "\r\n"}, want: violation, closes: true},
		{name: "info first", opts: auth, writes: []string{"INFO {}\r\n" + good}, want: violation, closes: true},
		{name: "+OK first", opts: auth, writes: []string{"+OK\r\n" + good}, want: violation, closes: true},
		{name: "pong first", opts: auth, writes: []string{"PONG\r\n" + good}, want: violation, closes: true},
		{name: "-ERR first", opts: auth, writes: []string{"-ERR x\r\n"}, want: violation, closes: true},
		{name: "account with good creds", opts: auth, writes: []string{`CONNECT {"verbose":false,"user":"alice","pass":"pw","account":"A"}` + "\r\n"}, want: violation, closes: true},
		{name: "good creds", opts: auth, writes: []string{good, "SUB a 1\r\nPUB a 1\r\nx\r\n"}, want: "MSG a 1 1\r\nx\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runWire(t, tc)
		})
	}
}

// TestProtoNoRespondersOncePerRequest: a requester with two subscriptions
// matching the reply gets one 503, not one per subscription.
func TestProtoNoRespondersOncePerRequest(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	rc := rawConnect(t, s, `{"verbose":false,"headers":true,"no_responders":true}`)
	rc.Send("SUB _INBOX.> 1\r\nSUB _INBOX.a 2\r\nPUB nothere _INBOX.a 0\r\n\r\n")
	got := rc.ReadLine()
	if got != "HMSG _INBOX.a 1 39 39\r\n" && got != "HMSG _INBOX.a 2 39 39\r\n" {
		t.Fatalf("got %q, want one HMSG to sid 1 or 2", got)
	}
	rc.Expect("NATS/1.0 503\r\nNats-Subject: nothere\r\n\r\n\r\n")
	rc.Sync() // a second 503 would arrive before the PONG
}
