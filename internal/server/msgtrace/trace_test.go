package msgtrace

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"testing"

	"github.com/klauspost/compress/s2"

	"github.com/sluicehq/sluice/pkg/api"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name, hdr      string
		traced         bool
		external, only bool
		dest           string
	}{
		{"none", "NATS/1.0\r\nFoo: bar\r\n\r\n", false, false, false, ""},
		{"dest", "NATS/1.0\r\nNats-Trace-Dest: tr.x\r\n\r\n", true, false, false, "tr.x"},
		{"only true", "NATS/1.0\r\nNats-Trace-Dest: tr\r\nNats-Trace-Only: true\r\n\r\n", true, false, true, "tr"},
		{"only 1", "NATS/1.0\r\nNats-Trace-Dest: tr\r\nNats-Trace-Only: 1\r\n\r\n", true, false, true, "tr"},
		{"only ON", "NATS/1.0\r\nNats-Trace-Dest: tr\r\nNats-Trace-Only: ON\r\n\r\n", true, false, true, "tr"},
		{"only no", "NATS/1.0\r\nNats-Trace-Dest: tr\r\nNats-Trace-Only: no\r\n\r\n", true, false, false, "tr"},
		{"disabled", "NATS/1.0\r\nNats-Trace-Dest: trace disabled\r\n\r\n", false, false, false, ""},
		{"disabled beats traceparent", "NATS/1.0\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\nNats-Trace-Dest: trace disabled\r\n\r\n", false, false, false, ""},
		{"dest name is case sensitive", "NATS/1.0\r\nnats-trace-dest: tr\r\n\r\n", false, false, false, ""},
		{"traceparent sampled", "NATS/1.0\r\nTraceParent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n", true, true, false, ""},
		{"traceparent not sampled", "NATS/1.0\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00\r\n\r\n", false, false, false, ""},
		{"traceparent malformed", "NATS/1.0\r\ntraceparent: 00-01\r\n\r\n", false, false, false, ""},
		{"trace-only ignored for external", "NATS/1.0\r\ntraceparent: 00-a-b-03\r\nNats-Trace-Only: true\r\n\r\n", true, true, false, ""},
		{"status line", "NATS/1.0 503\r\n\r\n", false, false, false, ""},
		{"garbage", "HTTP/1.1\r\nNats-Trace-Dest: x\r\n\r\n", false, false, false, ""},
	}
	for _, tc := range cases {
		w, ok := Parse([]byte(tc.hdr))
		if ok != tc.traced || w.External != tc.external || w.Only != tc.only || w.Dest != tc.dest {
			t.Errorf("%s: got traced=%v %+v", tc.name, ok, w)
		}
	}
	w, _ := Parse([]byte("NATS/1.0\r\nNats-Trace-Dest: tr\r\nX-Case: a\r\nX-Case: b\r\n\r\n"))
	if got := w.Headers["X-Case"]; len(got) != 2 || got[1] != "b" {
		t.Errorf("headers keep every value in order: %v", w.Headers)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("NATS/1.0\r\nNats-Trace-Dest: tr\r\nNats-Trace-Only: true\r\n\r\n"))
	f.Add([]byte("NATS/1.0\r\ntraceparent: 00-a-b-01\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		w, ok := Parse(b)
		if ok && w.Headers == nil {
			t.Fatal("traced without headers")
		}
	})
}

func TestEncode(t *testing.T) {
	w, _ := Parse([]byte("NATS/1.0\r\nNats-Trace-Dest: tr\r\n\r\n"))
	srv := api.EventServer{Name: "s1", ID: "ID"}
	tr := New(w, "tr", KindClient, 7, "app", "A", "foo", 40)
	tr.Mapped("bar")
	tr.Egress(8, "sub", "A", "bar", "q", "")
	tr.Egress(9, "other", "B", "bar", "", ErrSubDeny)
	plain, enc, err := tr.Encode(srv)
	if err != nil || enc != "" {
		t.Fatalf("plain: %q %v", enc, err)
	}
	var got struct {
		Server  map[string]any   `json:"server"`
		Request map[string]any   `json:"request"`
		Events  []map[string]any `json:"events"`
	}
	if err := json.Unmarshal(plain, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Events) != 4 || got.Events[0]["type"] != "in" || got.Events[0]["subj"] != "foo" ||
		got.Events[1]["to"] != "bar" || got.Events[2]["acc"] != nil || got.Events[3]["acc"] != "B" ||
		got.Events[3]["error"] != ErrSubDeny || got.Request["msgsize"] != 40.0 || got.Server["name"] != "s1" {
		t.Errorf("event: %s", plain)
	}

	for _, tc := range []struct{ accept, want string }{{"snappy", "snappy"}, {"s2", "snappy"}, {"gzip", "gzip"}, {"br", "identity"}} {
		w.Headers[AcceptEncoding] = []string{tc.accept}
		tr := New(w, "tr", KindClient, 7, "app", "A", "foo", 40)
		b, enc, err := tr.Encode(srv)
		if err != nil || enc != tc.want {
			t.Fatalf("%s: encoding %q %v", tc.accept, enc, err)
		}
		var r io.Reader = bytes.NewReader(b)
		switch enc {
		case "snappy":
			r = s2.NewReader(r)
		case "gzip":
			if r, err = gzip.NewReader(r); err != nil {
				t.Fatal(err)
			}
		}
		dec, err := io.ReadAll(r)
		if err != nil || !json.Valid(dec) {
			t.Errorf("%s: decoded %q %v", tc.accept, dec, err)
		}
	}
}

// What every message with headers pays (published, or now also arriving
// over a route) when it asks for no trace.
func BenchmarkParseUntraced(b *testing.B) {
	hdr := []byte("NATS/1.0\r\nNats-Msg-Id: 1234567890\r\nNats-Request-Info: {\"acc\":\"A\",\"rtt\":123}\r\nX-App: y\r\n\r\n")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := Parse(hdr); ok {
			b.Fatal("traced")
		}
	}
}
