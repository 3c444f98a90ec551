package protocol

import (
	"fmt"
	"testing"
)

func TestEncoders(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"msg", AppendMsg(nil, []byte("foo.bar"), []byte("1"), nil, 5), "MSG foo.bar 1 5\r\n"},
		{"msg reply", AppendMsg(nil, []byte("foo"), []byte("22"), []byte("_INBOX.x"), 0), "MSG foo 22 _INBOX.x 0\r\n"},
		{"msg appends", AppendMsg([]byte("x"), []byte("a"), []byte("b"), nil, 1234567), "xMSG a b 1234567\r\n"},
		{"hmsg", AppendHMsg(nil, []byte("foo"), []byte("1"), nil, 12, 17), "HMSG foo 1 12 17\r\n"},
		{"hmsg reply", AppendHMsg(nil, []byte("foo"), []byte("1"), []byte("r"), 12, 12), "HMSG foo 1 r 12 12\r\n"},
		{"err", AppendErr(nil, "Unknown Protocol Operation"), "-ERR 'Unknown Protocol Operation'\r\n"},
		{"err quoted", AppendErr(nil, `Permissions Violation for Publish to "bad.x"`), `-ERR 'Permissions Violation for Publish to "bad.x"'` + "\r\n"},
		{"info", AppendInfo(nil, []byte(`{"server_id":"x"}`)), "INFO {\"server_id\":\"x\"} \r\n"},
		{"no responders", AppendNoResponders(nil, []byte("nothere")), "NATS/1.0 503\r\nNats-Subject: nothere\r\n\r\n"},
		{"ping", []byte(PingProto), "PING\r\n"},
		{"pong", []byte(PongProto), "PONG\r\n"},
		{"ok", []byte(OKProto), "+OK\r\n"},
	}
	for _, tt := range tests {
		if string(tt.got) != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

// TestNoRespondersSize pins the reference's h = 32 + len(subject) (39 for
// "nothere") and that the block parses back through HPUB.
func TestNoRespondersSize(t *testing.T) {
	hdr := AppendNoResponders(nil, []byte("nothere"))
	if len(hdr) != 39 {
		t.Fatalf("len = %d, want 39", len(hdr))
	}
	line := AppendHMsg(nil, []byte("_INBOX.x"), []byte("1"), nil, len(hdr), len(hdr))
	if string(line) != "HMSG _INBOX.x 1 39 39\r\n" {
		t.Fatalf("line = %q", line)
	}
	stream := fmt.Appendf(nil, "HPUB _INBOX.x %d %d\r\n%s\r\n", len(hdr), len(hdr), hdr)
	calls, err := parseChunks(0, 0, stream)
	if err != nil || len(calls) != 1 || calls[0] != `HPUB "_INBOX.x" "" "NATS/1.0 503\r\nNats-Subject: nothere\r\n\r\n" ""` {
		t.Fatalf("parsed %q, %v", calls, err)
	}
}

func TestEncodersZeroAllocs(t *testing.T) {
	dst := make([]byte, 0, 256)
	subject, sid, reply := []byte("foo.bar.baz"), []byte("12345"), []byte("_INBOX.abcdef.ghi")
	allocs := testing.AllocsPerRun(100, func() {
		b := AppendMsg(dst[:0], subject, sid, reply, 1048576)
		b = AppendHMsg(b, subject, sid, reply, 120, 1048576)
		b = AppendErr(b, "Maximum Payload Violation")
		b = AppendNoResponders(b, subject)
		_ = append(b, PongProto...)
	})
	if allocs != 0 {
		t.Fatalf("allocs = %v, want 0", allocs)
	}
}
