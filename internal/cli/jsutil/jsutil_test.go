package jsutil

import (
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"": 0, "-1": 0, "0": 0, "90s": 90 * time.Second, "1h30m": 90 * time.Minute,
		"2d": 48 * time.Hour, "1w": 7 * 24 * time.Hour, "1y": 365 * 24 * time.Hour,
		"1M": 30 * 24 * time.Hour, "1d12h": 36 * time.Hour, "1.5h": 90 * time.Minute,
	} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"soon", "1x", "-5s", "d"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) did not fail", bad)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "unlimited", 1500 * time.Microsecond: "2ms", 90 * time.Second: "1m30s",
		26 * time.Hour: "1d2h", 400 * 24 * time.Hour: "1y35d",
	} {
		if got := HumanDuration(d); got != want {
			t.Errorf("HumanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestParseSizeAndLimits(t *testing.T) {
	if n, err := ParseSize("-1"); n != -1 || err != nil {
		t.Fatal(n, err)
	}
	if n, err := ParseSize("1MB"); n != 1<<20 || err != nil {
		t.Fatal(n, err)
	}
	if Limit(-1) != "unlimited" || Limit(1234) != "1,234" || SizeLimit(0) != "unlimited" || SizeLimit(2048) != "2.0 KiB" {
		t.Fatal(Limit(-1), Limit(1234), SizeLimit(0), SizeLimit(2048))
	}
}

func TestValidName(t *testing.T) {
	for _, ok := range []string{"ORDERS", "a-b_c", "x1"} {
		if err := ValidName("STREAM", ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a.b", "a b", "a*", "a>", "a/b", strings.Repeat("x", 256)} {
		err := ValidName("STREAM", bad)
		if err == nil || cmdutil.ExitCode(err) != cmdutil.ExitUsage || !strings.Contains(err.Error(), "STREAM") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestDiff(t *testing.T) {
	a := map[string]any{"name": "S", "max_msgs": -1, "subjects": []string{"a"}}
	b := map[string]any{"name": "S", "max_msgs": 100, "subjects": []string{"a"}}
	d, err := Diff(a, b)
	if err != nil || !strings.Contains(d, `-   "max_msgs": -1,`) || !strings.Contains(d, `+   "max_msgs": 100,`) || !strings.Contains(d, `    "name": "S",`) {
		t.Fatalf("%v:\n%s", err, d)
	}
	if d, _ := Diff(a, a); d != "" {
		t.Fatalf("same values differ:\n%s", d)
	}
}
