package msgutil

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func TestTemplates(t *testing.T) {
	for _, tc := range []struct {
		text string
		n    int
		want string // a regexp
	}{
		{"plain {body}", 1, `^plain \{body\}$`},
		{"#{{Count}} and {{Cnt}}", 7, `^#7 and 7$`},
		{"{{Time}}", 1, `^\d{1,2}:\d\d[AP]M$`},
		{"{{TimeStamp}}", 1, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d`},
		{"{{Unix}} {{UnixNano}}", 1, `^\d{10,} \d{19,}$`},
		{"{{ID}}", 1, `^[a-zA-Z0-9]{22}$`},
		{"{{Random 3 3}}", 1, `^[a-zA-Z0-9]{3}$`},
		{"{{Random 0 0}}", 1, `^$`},
		{"got {{Request}}", 1, `^got req$`},
	} {
		tp, err := Compile(tc.text, true)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tc.text, err)
		}
		out, err := tp.Execute(tc.n, []byte("req"))
		if err != nil {
			t.Fatalf("Execute(%q): %v", tc.text, err)
		}
		if !regexp.MustCompile(tc.want).Match(out) {
			t.Errorf("%q rendered %q, want /%s/", tc.text, out, tc.want)
		}
	}
	lit, _ := Compile("{{Count}}", false)
	if out, _ := lit.Execute(3, nil); string(out) != "{{Count}}" || !lit.IsLiteral() {
		t.Errorf("templates off: %q", out)
	}
	if _, err := Compile("{{Nope}}", true); err == nil || !strings.Contains(err.Error(), "bad template") {
		t.Errorf("unknown function: %v", err)
	}
	if _, err := Compile("{{Count", true); err == nil {
		t.Error("unclosed action compiled")
	}
}

func TestRandomStringBounds(t *testing.T) {
	for range 200 {
		if n := len(RandomString(5, 8)); n < 5 || n > 8 {
			t.Fatalf("RandomString(5, 8) gave %d characters", n)
		}
		if n := len(RandomString(8, 5)); n < 5 || n > 8 {
			t.Fatalf("swapped bounds gave %d characters", n)
		}
	}
	if RandomString(-3, -1) != "" {
		t.Fatal("negative lengths gave characters")
	}
}

func TestValidateSubject(t *testing.T) {
	for _, tc := range []struct {
		subj      string
		wildcards bool
		errPart   string
	}{
		{"orders.new", false, ""},
		{"orders.*", true, ""},
		{"orders.>", true, ""},
		{"", false, "empty"},
		{"a b", false, "whitespace"},
		{"a..b", true, "empty token"},
		{".a", true, "empty token"},
		{"a.", true, "empty token"},
		{"orders.*", false, "wildcard"},
		{"orders.>", false, "wildcard"},
		{"a.>.b", true, "last token"},
	} {
		err := ValidateSubject(tc.subj, tc.wildcards)
		if tc.errPart == "" && err != nil || tc.errPart != "" && (err == nil || !strings.Contains(err.Error(), tc.errPart)) {
			t.Errorf("ValidateSubject(%q, %v) = %v, want error with %q", tc.subj, tc.wildcards, err, tc.errPart)
		}
	}
}

func TestSubjectMatches(t *testing.T) {
	for _, tc := range []struct {
		pattern, subject string
		want             bool
	}{
		{"a.b", "a.b", true},
		{"a.b", "a.c", false},
		{"a.*", "a.b", true},
		{"a.*", "a.b.c", false},
		{"a.>", "a.b.c", true},
		{"a.>", "a", false},
		{"*.b", "a.b", true},
		{">", "x", true},
	} {
		if got := SubjectMatches(tc.pattern, tc.subject); got != tc.want {
			t.Errorf("SubjectMatches(%q, %q) = %v", tc.pattern, tc.subject, got)
		}
	}
}

func TestHeaders(t *testing.T) {
	h, err := ParseHeaders([]string{"A:1", " B : two words ", "N:{{Count}}", "A:again"}, true)
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.Build(4)
	if err != nil {
		t.Fatal(err)
	}
	if got.Values("A")[0] != "1" || got.Values("A")[1] != "again" || got.Get("B") != "two words" || got.Get("N") != "4" {
		t.Fatalf("headers: %v", got)
	}
	if empty, _ := ParseHeaders(nil, true); empty.Len() != 0 {
		t.Fatal("no headers has length")
	} else if b, _ := empty.Build(1); b != nil {
		t.Fatalf("no headers built %v", b)
	}
	for _, bad := range []string{"novalue", ":v", "bad name:v", "K:{{Nope}}"} {
		if _, err := ParseHeaders([]string{bad}, true); err == nil {
			t.Errorf("header %q accepted", bad)
		}
	}
}

func TestReadBodies(t *testing.T) {
	var got []string
	collect := func(b []byte) error { got = append(got, string(b)); return nil }
	if err := ReadBodies(context.Background(), strings.NewReader("a\nb\n"), SendOnEOF, collect); err != nil {
		t.Fatal(err)
	}
	if err := ReadBodies(context.Background(), strings.NewReader("one\ntwo\n"), SendOnNewline, collect); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "|") != "a\nb\n|one|two" {
		t.Fatalf("bodies: %q", got)
	}
	if err := ReadBodies(context.Background(), strings.NewReader(""), "sometimes", collect); err == nil {
		t.Fatal("unknown mode accepted")
	}
	// A cancelled read gives up even though the input never ends.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, w := io.Pipe()
	defer w.Close()
	if err := ReadBodies(ctx, r, SendOnEOF, collect); err != context.Canceled {
		t.Fatalf("cancelled read: %v", err)
	}
}

func TestMessageJSONAndText(t *testing.T) {
	now := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	m := &nats.Msg{Subject: "s", Reply: "r", Data: []byte("hi"), Header: nats.Header{"Status": {"503"}}}
	jm := NewMessage(m, 3, now)
	if jm.Seq != 3 || jm.Data != "hi" || jm.DataBase64 != "" || jm.Size != 2 || jm.Status != "503" || jm.Reply != "r" {
		t.Fatalf("message: %+v", jm)
	}
	bin := NewMessage(&nats.Msg{Subject: "s", Data: []byte{0xff, 0xfe}}, 1, now)
	if bin.Data != "" || bin.DataBase64 != "//4=" {
		t.Fatalf("binary body: %+v", bin)
	}
	var b bytes.Buffer
	WriteHeaders(&b, nats.Header{"Z": {"1"}, "A": {"2", "3"}})
	WriteBody(&b, nil)
	WriteBody(&b, []byte("x"))
	WriteBody(&b, []byte("y\n"))
	if b.String() != "A: 2\nA: 3\nZ: 1\n\nnil body\nx\ny\n" {
		t.Fatalf("text: %q", b.String())
	}
}
