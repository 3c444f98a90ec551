package jetstream

import (
	"bytes"
	"testing"

	"github.com/sluicehq/sluice/pkg/api"
)

func TestParseAckReply(t *testing.T) {
	for _, tc := range []struct {
		reply                   string
		sseq, dseq, dc, pending uint64
		ts                      int64
		ok                      bool
	}{
		{"$JS.ACK.O.C.1.7.3.1700000000000000000.12", 7, 3, 1, 12, 1700000000000000000, true},
		{"$JS.ACK.hub.ACCHASH.O.C.2.9.4.17.0.rnd", 9, 4, 2, 0, 17, true},
		{"$JS.ACK.O.C.1.7", 0, 0, 0, 0, 0, false},
		{"_INBOX.a.b.c.d.e.f.g.h", 0, 0, 0, 0, 0, false},
	} {
		sseq, dseq, dc, ts, pending, ok := parseAckReply(tc.reply)
		if ok != tc.ok || sseq != tc.sseq || dseq != tc.dseq || dc != tc.dc || ts != tc.ts || pending != tc.pending {
			t.Errorf("%s: %d %d %d %d %d %v", tc.reply, sseq, dseq, dc, ts, pending, ok)
		}
	}
}

func TestRemoveHeaders(t *testing.T) {
	hdr := []byte("NATS/1.0\r\nA: 1\r\nNats-Expected-Stream: x\r\nNats-Stream-Source: y\r\nB: 2\r\n\r\n")
	got := removeHeaders(hdr, func(k string) bool { return k == "Nats-Stream-Source" || k == "Nats-Expected-Stream" })
	if want := "NATS/1.0\r\nA: 1\r\nB: 2\r\n\r\n"; string(got) != want {
		t.Fatalf("%q", got)
	}
	if got := removeHeaders(hdr, func(string) bool { return false }); !bytes.Equal(got, hdr) {
		t.Fatalf("unchanged: %q", got)
	}
}

func TestSourceIndexName(t *testing.T) {
	for _, tc := range []struct {
		ss   api.StreamSource
		want string
	}{
		{api.StreamSource{Name: "O"}, "O > >"},
		{api.StreamSource{Name: "O", FilterSubject: "o.a"}, "O o.a >"},
		{api.StreamSource{Name: "O", SubjectTransforms: []api.SubjectTransformConfig{{Source: "a", Destination: "b"}, {Source: "c"}}}, "O a\fc b\f>"},
		{api.StreamSource{Name: "O", External: &api.ExternalStream{ApiPrefix: "JS.A.API"}}, "O:" + shortHash("JS.A.API") + " > >"},
	} {
		if got := sourceIndexName(&tc.ss); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.ss, got, tc.want)
		}
	}
	if h := shortHash("x"); len(h) != 8 {
		t.Fatal(h)
	}
	iname, seq, ident, ok := parseSourceHeader([]byte("O:ab12cd34 42 o.a\fo.b s.a\fs.b o.b IDENT"))
	if !ok || iname != "O:ab12cd34 o.a\fo.b s.a\fs.b" || seq != 42 || ident != "IDENT" {
		t.Fatalf("%q %d %q %v", iname, seq, ident, ok)
	}
	if _, _, _, ok := parseSourceHeader([]byte("garbage")); ok {
		t.Fatal("garbage parsed")
	}
}
