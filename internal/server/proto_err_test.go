package server_test

// The -ERR catalogue and the silent closes, over raw TCP. Every closing
// case also proves that the server, a bystander nats.go client and a fresh
// connection are unaffected.

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

type closeCase struct {
	name string
	opts func(*server.Options)
	in   string // everything sent after reading INFO
	more string // sent in a second write, after in
	want string // every byte the server sends after INFO, up to the close
}

func TestProtoClosingErrors(t *testing.T) {
	t.Parallel()
	const quiet = "CONNECT " + connQuiet + "\r\n"
	const hdrs = "CONNECT " + connHdrs + "\r\n"
	unknown := errLine("Unknown Protocol Operation")
	authViolation := errLine("Authorization Violation")
	smallLine := func(o *server.Options) { o.MaxControlLine = 256 }
	smallPayload := func(o *server.Options) { o.MaxPayload = 1024 }
	userPass := func(o *server.Options) { o.Username, o.Password = "alice", "pw" }
	token := func(o *server.Options) { o.Authorization = "s3cr3t" }

	cases := []closeCase{
		// Unknown Protocol Operation.
		{name: "garbage", in: "XYZ\r\n", want: unknown},
		{name: "garbage after connect", in: quiet + "FOO bar\r\n", want: unknown},
		{name: "msg from client", in: quiet + "MSG foo 1 2\r\nhi\r\n", want: unknown},
		{name: "hmsg from client", in: hdrs + "HMSG foo 1 12 12\r\nNATS/1.0\r\n\r\n\r\n", want: unknown},
		{name: "route op RS+", in: quiet + "RS+ $G foo\r\n", want: unknown},
		{name: "route op RMSG", in: quiet + "RMSG $G foo 2\r\nhi\r\n", want: unknown},
		{name: "account op A+", in: quiet + "A+ foo\r\n", want: unknown},
		{name: "leaf op LS+", in: quiet + "LS+ foo\r\n", want: unknown},
		{name: "bad payload terminator", in: quiet + "PUB foo 2\r\nabc\r\n", want: unknown},
		{name: "payload CR not LF", in: quiet + "PUB foo 2\r\nhi\rX\r\n", want: unknown},
		{name: "payload split bad terminator", in: quiet + "PUB foo 3\r\nab", more: "cX\r\n", want: unknown},
		{name: "unsub without args", in: quiet + "UNSUB\r\n", want: unknown},
		{name: "pub without args", in: quiet + "PUB\r\n", want: unknown},
		{name: "op glued to arg", in: quiet + "SUBfoo 1\r\n", want: unknown},

		// Limits.
		{name: "max control line", opts: smallLine, in: quiet + "SUB " + strings.Repeat("a", 300) + " 1\r\n", want: errLine("maximum control line exceeded")},
		{name: "max control line no newline", opts: smallLine, in: quiet + "PUB " + strings.Repeat("a", 3000), want: errLine("maximum control line exceeded")},
		{name: "max payload pub", opts: smallPayload, in: quiet + "PUB foo 1025\r\n", want: errLine("Maximum Payload Violation")},
		{name: "max payload hpub", opts: smallPayload, in: hdrs + "HPUB foo 12 2000\r\n", want: errLine("Maximum Payload Violation")},

		// CONNECT.
		{name: "invalid protocol 2", in: `CONNECT {"protocol":2}` + "\r\n", want: errLine("invalid client protocol")},
		{name: "invalid protocol -1", in: `CONNECT {"protocol":-1}` + "\r\n", want: errLine("invalid client protocol")},
		{name: "no responders without headers", in: `CONNECT {"no_responders":true}` + "\r\n", want: errLine("no responders requires headers support")},
		{name: "account in connect", in: `CONNECT {"verbose":false,"account":"A"}` + "\r\n", want: authViolation},
		{name: "new_account in connect", in: `CONNECT {"verbose":false,"new_account":true}` + "\r\n", want: authViolation},

		// Authentication.
		{name: "auth first op ping", opts: userPass, in: "PING\r\n", want: authViolation},
		{name: "auth first op sub", opts: userPass, in: "SUB foo 1\r\n", want: authViolation},
		{name: "auth first op pub", opts: token, in: "PUB foo 2\r\nhi\r\n", want: authViolation},
		{name: "auth wrong password", opts: userPass, in: `CONNECT {"verbose":false,"user":"alice","pass":"nope"}` + "\r\n", want: authViolation},
		{name: "auth wrong user", opts: userPass, in: `CONNECT {"verbose":false,"user":"bob","pass":"pw"}` + "\r\n", want: authViolation},
		{name: "auth missing creds", opts: userPass, in: `CONNECT {"verbose":false}` + "\r\n", want: authViolation},
		{name: "auth wrong token", opts: token, in: `CONNECT {"verbose":false,"auth_token":"nope"}` + "\r\n", want: authViolation},
		{name: "auth token given as password", opts: token, in: `CONNECT {"verbose":false,"user":"x","pass":"s3cr3t"}` + "\r\n", want: authViolation},

		// Silent closes.
		{name: "pub one arg", in: quiet + "PUB foo\r\n"},
		{name: "pub four args", in: quiet + "PUB foo a b 2\r\nhi\r\n"},
		{name: "pub bad size", in: quiet + "PUB foo abc\r\n"},
		{name: "pub negative size", in: quiet + "PUB foo -1\r\n"},
		{name: "hpub header larger than total", in: hdrs + "HPUB foo 20 10\r\n"},
		{name: "hpub bad header size", in: hdrs + "HPUB foo x 10\r\n"},
		{name: "hpub two args", in: hdrs + "HPUB foo 12\r\n"},
		{name: "sub one arg", in: quiet + "SUB foo\r\n"},
		{name: "sub four args", in: quiet + "SUB a b c d\r\n"},
		{name: "unsub three args", in: quiet + "UNSUB 1 2 3\r\n"},
		{name: "invalid connect json", in: "CONNECT {bad json}\r\n"},
		{name: "connect json wrong type", in: `CONNECT {"verbose":"yes"}` + "\r\n"},
		{name: "hpub without headers", in: quiet + "HPUB foo 12 12\r\nNATS/1.0\r\n\r\n\r\n"},
		{name: "hpub before connect", in: "HPUB foo 12 12\r\nNATS/1.0\r\n\r\n\r\n"},
		{name: "client -ERR", in: quiet + "-ERR 'boom'\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runCloseCase(t, tc)
		})
	}
}

func runCloseCase(t *testing.T, tc closeCase) {
	t.Helper()
	s := runServer(t, tc.opts)
	// The bystander must authenticate like anyone else.
	bystander := testutil.Connect(t, s, natsAuth(tc.opts)...)
	rc, _ := testutil.NewRawConn(t, s)
	rc.Send(tc.in)
	if tc.more != "" {
		rc.Send(tc.more)
	}
	got := rc.ExpectClosed()
	if string(got) != tc.want {
		t.Errorf("sent %q\n got  %q then close\n want %q then close", testutil.Snip(tc.in), got, tc.want)
	}
	waitClients(t, s, 1)
	checkHealthy(t, s, bystander, natsAuth(tc.opts)...)
}

// TestProtoErrorsKeepOpen: errors after which the connection stays usable.
func TestProtoErrorsKeepOpen(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		opts    func(*server.Options)
		connect string
		in      string
		want    string
	}{
		{name: "invalid subject empty token", connect: connQuiet, in: "SUB foo..bar 1\r\n", want: errLine("Invalid Subject")},
		{name: "invalid subject leading dot", connect: connQuiet, in: "SUB .foo 1\r\n", want: errLine("Invalid Subject")},
		{name: "invalid subject trailing dot", connect: connQuiet, in: "SUB foo. 1\r\n", want: errLine("Invalid Subject")},
		{name: "invalid subject gt not last", connect: connQuiet, in: "SUB foo.>.x 1\r\n", want: errLine("Invalid Subject")},
		{name: "invalid subject not created", connect: connQuiet,
			in:   "SUB foo..bar 1\r\nSUB ok 2\r\nPUB foo..bar 1\r\nx\r\nPUB ok 1\r\ny\r\n",
			want: errLine("Invalid Subject") + "MSG ok 2 1\r\ny\r\n"},
		{name: "invalid subject verbose no +OK", connect: `{"verbose":true,"pedantic":false}`,
			in: "SUB foo..bar 1\r\n", want: "+OK\r\n" + errLine("Invalid Subject")},
		{name: "pedantic wildcard publish still delivered", connect: connPedantic,
			in:   "SUB foo.> 1\r\nPUB foo.* 1\r\nx\r\n",
			want: errLine("Invalid Publish Subject") + "MSG foo.* 1 1\r\nx\r\n"},
		{name: "pedantic gt publish still delivered", connect: connPedantic,
			in:   "SUB foo.> 1\r\nPUB foo.> 1\r\nx\r\n",
			want: errLine("Invalid Publish Subject") + "MSG foo.> 1 1\r\nx\r\n"},
		{name: "pedantic empty token", connect: connPedantic,
			in: "SUB foo.> 1\r\nPUB foo..bar 1\r\nx\r\n", want: errLine("Invalid Publish Subject")},
		{name: "pedantic valid subject", connect: connPedantic,
			in: "SUB foo.> 1\r\nPUB foo.bar 1\r\nx\r\n", want: "MSG foo.bar 1 1\r\nx\r\n"},
		{name: "pedantic verbose order", connect: `{"verbose":true,"pedantic":true}`,
			in:   "PUB foo.* 1\r\nx\r\n",
			want: "+OK\r\n" + errLine("Invalid Publish Subject") + "+OK\r\n"},
		{name: "max subscriptions", opts: func(o *server.Options) { o.MaxSubs = 2 }, connect: connQuiet,
			in:   "SUB a 1\r\nSUB b 2\r\nSUB c 3\r\nPUB c 1\r\nx\r\nPUB a 1\r\ny\r\n",
			want: errLine("maximum subscriptions exceeded") + "MSG a 1 1\r\ny\r\n"},
		{name: "max subscriptions freed by unsub", opts: func(o *server.Options) { o.MaxSubs = 1 }, connect: connQuiet,
			in:   "SUB a 1\r\nSUB b 2\r\nUNSUB 1\r\nSUB b 3\r\nPUB b 1\r\nx\r\n",
			want: errLine("maximum subscriptions exceeded") + "MSG b 3 1\r\nx\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := runServer(t, tc.opts)
			rc, _ := testutil.NewRawConn(t, s)
			rc.Send("CONNECT " + tc.connect + "\r\n" + tc.in + "PING\r\n")
			rc.Expect(tc.want + "PONG\r\n")
			rc.Sync()
		})
	}
}
