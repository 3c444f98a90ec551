package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/nats-io/nats.go"
)

func TestExitCodes(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{errors.New("x"), ExitError},
		{FlagErrorf("bad"), ExitUsage},
		{fmt.Errorf("wrapped: %w", FlagErrorf("bad")), ExitUsage},
		{NotFound("context", "x", "hint"), ExitNotFound},
		{WithHint(ExitConnect, errors.New("x"), "y"), ExitConnect},
		{ErrCancelled, ExitCancelled},
		{context.Canceled, ExitCancelled},
		{nats.ErrNoResponders, ExitNoResponders},
		{fmt.Errorf("req: %w", nats.ErrTimeout), ExitTimeout},
		{nats.ErrNoServers, ExitConnect},
		{&SilentError{Code: 7}, 7},
	}
	for _, tc := range cases {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
	e := NotFound("context", "prod", "list contexts with 'sluice context ls'")
	if e.Error() != `context "prod" not found; list contexts with 'sluice context ls'` {
		t.Errorf("NotFound prints %q", e)
	}
}

func TestSplitCommand(t *testing.T) {
	cases := map[string][]string{
		`echo hi`:                 {"echo", "hi"},
		`  a   b  `:               {"a", "b"},
		`sh -c 'echo $X | wc'`:    {"sh", "-c", "echo $X | wc"},
		`printf "a \"b\" c"`:      {"printf", `a "b" c`},
		`a\ b c`:                  {"a b", "c"},
		`curl -s wttr.in/x?f=3`:   {"curl", "-s", "wttr.in/x?f=3"},
		`x ''`:                    {"x", ""},
		`code --wait`:             {"code", "--wait"},
		`"/Program Files/ed" -w`:  {"/Program Files/ed", "-w"},
		`tr a-z A-Z`:              {"tr", "a-z", "A-Z"},
		`mixed"quo"'tes'and\ esc`: {"mixedquotesand esc"},
	}
	for in, want := range cases {
		got, err := SplitCommand(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("SplitCommand(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`a 'b`, `a "b`, `a\`} {
		if _, err := SplitCommand(bad); err == nil {
			t.Errorf("SplitCommand(%q) did not fail", bad)
		}
	}
}

func TestHumanUnits(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := Comma(n); got != want {
			t.Errorf("Comma(%d) = %q", n, got)
		}
	}
	for n, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 10 << 20: "10 MiB", 3 << 30: "3.0 GiB"} {
		if got := IBytes(n); got != want {
			t.Errorf("IBytes(%d) = %q, want %q", n, got, want)
		}
	}
	if got := CommaFloat(12345.678, 2); got != "12,345.68" {
		t.Errorf("CommaFloat = %q", got)
	}
	for in, want := range map[string]int64{"128": 128, "128B": 128, "1KB": 1024, "1k": 1024, "1.5MiB": 3 << 19, "2GB": 2 << 30} {
		got, err := ParseBytes(in)
		if err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "abc", "12XB", "-1"} {
		if _, err := ParseBytes(bad); err == nil {
			t.Errorf("ParseBytes(%q) did not fail", bad)
		}
	}
}

func TestRequireInputAndConfirm(t *testing.T) {
	io, _, _ := Test("")
	f := &Factory{IO: io}
	var v string
	err := f.RequireInput(&v, "SUBJECT argument", "Subject:")
	if ExitCode(err) != ExitUsage || err.Error() != "SUBJECT argument is required" {
		t.Fatalf("non-interactive: %v", err)
	}
	if err := f.ConfirmDestructive(false, "Sure?"); ExitCode(err) != ExitUsage {
		t.Fatalf("non-interactive confirm: %v", err)
	}
	if err := f.ConfirmDestructive(true, "Sure?"); err != nil {
		t.Fatalf("forced: %v", err)
	}

	io.SetTTY(true, true)
	stub := &PromptStub{Answers: []any{"orders.new", false, true}}
	f.Prompter = stub
	if err := f.RequireInput(&v, "SUBJECT argument", "Subject:"); err != nil || v != "orders.new" {
		t.Fatalf("prompted: %q, %v", v, err)
	}
	if err := f.ConfirmDestructive(false, "Sure?"); !errors.Is(err, ErrCancelled) {
		t.Fatalf("declined: %v", err)
	}
	if err := f.ConfirmDestructive(false, "Sure?"); err != nil {
		t.Fatalf("accepted: %v", err)
	}
	if !reflect.DeepEqual(stub.Asked, []string{"Subject:", "Sure?", "Sure?"}) {
		t.Fatalf("asked %q", stub.Asked)
	}
}
