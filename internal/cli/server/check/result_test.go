package checkcmd

import (
	"strings"
	"testing"
)

func TestPerfItemString(t *testing.T) {
	for _, c := range []struct {
		p    PerfItem
		want string
	}{
		{PerfItem{Name: "rtt", Value: 0.000218, Warn: 0.5, Crit: 1, Unit: "s"}, "rtt=0.0002s;0.5000;1.0000"},
		{PerfItem{Name: "cpu", Value: 12.6, Unit: "%"}, "cpu=13%"},
		{PerfItem{Name: "mem", Value: 16433152}, "mem=16433152"},
		{PerfItem{Name: "conns", Value: 3, Crit: 9}, "conns=3;;9"},
		{PerfItem{Name: "conns", Value: 3, Warn: 5}, "conns=3;5"},
		{PerfItem{Name: "two words", Value: 1}, "'two words'=1"},
	} {
		if got := c.p.String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.p, got, c.want)
		}
	}
}

func TestNagiosLineAndStatus(t *testing.T) {
	r := newResult("server", "n1")
	r.settle()
	if r.Nagios() != "OK n1" || r.Status.ExitCode() != 0 {
		t.Fatalf("empty: %q", r.Nagios())
	}
	r.okf("Up %s", "3s")
	r.warnf("CPU %d", 80)
	r.perf(PerfItem{Name: "cpu", Value: 80, Warn: 70, Crit: 90, Unit: "%"})
	r.settle()
	if got := r.Nagios(); got != "WARNING n1 Warn:CPU 80 OK:Up 3s | cpu=80%;70;90" || r.Status.ExitCode() != 1 {
		t.Fatalf("warning: %q", got)
	}
	r.unknownf("bad thresholds")
	r.settle()
	if r.Status != Unknown || r.Status.ExitCode() != 3 {
		t.Fatalf("unknown: %s", r.Status)
	}
	r.critf("down")
	r.settle()
	if !strings.HasPrefix(r.Nagios(), "CRITICAL n1 Crit:down Unknown:bad thresholds Warn:CPU 80") || r.Status.ExitCode() != 2 {
		t.Fatalf("critical: %q", r.Nagios())
	}
}

func TestThreshold(t *testing.T) {
	for _, c := range []struct {
		warn, crit, value float64
		invert            bool
		want              Status
	}{
		{0, 0, 100, false, OK},
		{70, 90, 50, false, OK},
		{70, 90, 70, false, Warning},
		{70, 90, 95, false, Critical},
		{70, 0, 95, false, Warning},
		{0, 90, 95, false, Critical},
		{90, 70, 95, false, Unknown},
		{100, 50, 200, true, OK},
		{100, 50, 80, true, Warning},
		{100, 50, 50, true, Critical},
		{50, 100, 80, true, Warning},
	} {
		r := newResult("t", "t")
		threshold(r, "X", c.warn, c.crit, c.value, c.invert)
		r.settle()
		if r.Status != c.want {
			t.Errorf("warn %v crit %v value %v invert %v: %s, want %s (%+v)", c.warn, c.crit, c.value, c.invert, r.Status, c.want, r)
		}
	}
}

func TestAPIPrefix(t *testing.T) {
	for _, c := range [][3]string{{"", "", "$JS.API"}, {"", "hub", "$JS.hub.API"}, {"$JS.x.API.", "hub", "$JS.x.API"}} {
		if got := apiPrefix(c[0], c[1]); got != c[2] {
			t.Errorf("apiPrefix(%q, %q) = %q", c[0], c[1], got)
		}
	}
}
