package jetstream

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/server/store"
)

func TestSeqOnlyRequest(t *testing.T) {
	for in, want := range map[string]uint64{`{"seq":1}`: 1, `{"seq":18446744073}`: 18446744073} {
		if n, ok := seqOnlyRequest([]byte(in)); !ok || n != want {
			t.Fatalf("%s: %d %v", in, n, ok)
		}
	}
	for _, in := range []string{``, `{}`, `{"seq":}`, `{"seq":0}`, `{"seq":01}`, `{"seq":-1}`, `{"seq":1.5}`, `{"seq": 1}`,
		`{"seq":1,"batch":2}`, `{"seq":12345678901234567890}`, `{"seq":1`, `{"seq":"1"}`} {
		if n, ok := seqOnlyRequest([]byte(in)); ok {
			t.Fatalf("%s taken for %d", in, n)
		}
	}
}

func TestDirectKey(t *testing.T) {
	cases := []struct {
		subj, key string
		ok        bool
	}{
		{"$JS.API.DIRECT.GET.S.a.b", "a.b", true},
		{"$JS.API.DIRECT.GET.S.", "", true},
		{"$JS.API.DIRECT.GET.S", "", false},
		{"$JS.API.DIRECT.GET.SX.a", "", false},
		{"$JS.API.STREAM.MSG.GET.S.a", "", false},
	}
	for _, c := range cases {
		if k, ok := directKey(c.subj, "S"); k != c.key || ok != c.ok {
			t.Fatalf("%s: %q %v", c.subj, k, ok)
		}
	}
}

// directHeader builds what appendHeaders would, with or without the
// message's own header, batched or not.
func TestDirectHeaderMatchesAppendHeaders(t *testing.T) {
	s := &stream{name: "ORDERS"}
	ts := time.Date(2026, 12, 4, 19, 0, 0, 123456789, time.UTC).UnixNano()
	for _, h := range [][]byte{nil, []byte("NATS/1.0\r\nA: b\r\n\r\n"), []byte("garbage")} {
		for _, batch := range []bool{false, true} {
			m := &store.Msg{Subject: "o.1", Seq: 42, Time: ts, Header: h}
			kv := []string{hdrStream, s.name, hdrSubject, m.Subject, hdrSequence, "42",
				hdrTimeStamp, time.Unix(0, ts).UTC().Format(time.RFC3339Nano)}
			if batch {
				kv = append(kv, hdrNumPend, "7", hdrLastSeq, "41")
			}
			want := appendHeaders(h, kv...)
			if got := s.directHeader(m, batch, 7, 41); !bytes.Equal(got, want) {
				t.Fatalf("header %q batch %v:\n%q\n%q", h, batch, got, want)
			}
		}
	}
}

func TestAppendAckMatchesFormat(t *testing.T) {
	for _, domain := range []string{"", "hub"} {
		s := &stream{name: `we"ird`, js: &JetStream{cfg: Config{Domain: domain}}}
		want := fmt.Sprintf(`{"stream":%q,%s"seq":%d}`, s.name, s.domainField(), 123)
		if got := string(s.appendAck(nil, 123)); got != want {
			t.Fatalf("%s, want %s", got, want)
		}
		// The arena's acks are the same, and stay intact across chunks.
		var acks [][]byte
		for seq := uint64(0); seq < 3*ackChunk/20; seq++ {
			acks = append(acks, s.acks.ack(s, seq*1e9))
		}
		for i, a := range acks {
			want := fmt.Sprintf(`{"stream":%q,%s"seq":%d}`, s.name, s.domainField(), uint64(i)*1e9)
			if string(a) != want || cap(a) != len(a) {
				t.Fatalf("arena ack %d: %s (cap %d), want %s", i, a, cap(a), want)
			}
		}
	}
}
