package checkcmd

import (
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// Status is a Nagios service state.
type Status string

// The states, and their plugin exit codes.
const (
	OK       Status = "OK"
	Warning  Status = "WARNING"
	Critical Status = "CRITICAL"
	Unknown  Status = "UNKNOWN"
)

// ExitCode is the Nagios plugin exit code of s.
func (s Status) ExitCode() int {
	switch s {
	case OK:
		return 0
	case Warning:
		return 1
	case Critical:
		return 2
	}
	return 3
}

// Result is the outcome of one check; --format json prints it. The
// field names are natscli's.
type Result struct {
	Status    Status     `json:"status"`
	Check     string     `json:"check_suite"`
	Name      string     `json:"check_name"`
	Warnings  []string   `json:"warning,omitempty"`
	Criticals []string   `json:"critical,omitempty"`
	Unknowns  []string   `json:"unknown,omitempty"`
	OKs       []string   `json:"ok,omitempty"`
	PerfData  []PerfItem `json:"perf_data"`
}

// PerfItem is one measurement with its thresholds (0: none).
type PerfItem struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Warn  float64 `json:"warning"`
	Crit  float64 `json:"critical"`
	Unit  string  `json:"unit,omitempty"`
	Help  string  `json:"-"`
}

func newResult(check, name string) *Result {
	return &Result{Check: check, Name: name, PerfData: []PerfItem{}}
}

func (r *Result) okf(format string, a ...any) { r.OKs = append(r.OKs, fmt.Sprintf(format, a...)) }
func (r *Result) warnf(format string, a ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, a...))
}
func (r *Result) critf(format string, a ...any) {
	r.Criticals = append(r.Criticals, fmt.Sprintf(format, a...))
}

// unknownf records that the check could not judge, e.g. because its
// thresholds contradict each other.
func (r *Result) unknownf(format string, a ...any) {
	r.Unknowns = append(r.Unknowns, fmt.Sprintf(format, a...))
}

func (r *Result) perf(items ...PerfItem) { r.PerfData = append(r.PerfData, items...) }

// settle works out the status: any critical, else any unknown, else any
// warning, else OK.
func (r *Result) settle() {
	switch {
	case len(r.Criticals) > 0:
		r.Status = Critical
	case len(r.Unknowns) > 0:
		r.Status = Unknown
	case len(r.Warnings) > 0:
		r.Status = Warning
	default:
		r.Status = OK
	}
}

// String renders the perfdata item the Nagios way: name=value[unit]
// then ;warn;crit when thresholds are set. Seconds keep four decimals.
func (p PerfItem) String() string {
	f := "%0.0f"
	if p.Unit == "s" {
		f = "%0.4f"
	}
	name := p.Name
	if strings.ContainsAny(name, " \t") {
		name = "'" + name + "'"
	}
	out := fmt.Sprintf("%s="+f+"%s", name, p.Value, p.Unit)
	if p.Warn != 0 || p.Crit != 0 {
		out += ";"
		if p.Warn != 0 {
			out += fmt.Sprintf(f, p.Warn)
		}
		if p.Crit != 0 {
			out += ";" + fmt.Sprintf(f, p.Crit)
		}
	}
	return out
}

// Nagios renders the one-line plugin output:
// "STATUS name Crit:... Warn:... OK:... | perfdata".
func (r *Result) Nagios() string {
	parts := []string{string(r.Status), r.Name}
	for _, c := range r.Criticals {
		parts = append(parts, "Crit:"+c)
	}
	for _, u := range r.Unknowns {
		parts = append(parts, "Unknown:"+u)
	}
	for _, w := range r.Warnings {
		parts = append(parts, "Warn:"+w)
	}
	for _, o := range r.OKs {
		parts = append(parts, "OK:"+o)
	}
	line := strings.Join(parts, " ")
	if len(r.PerfData) == 0 {
		return line
	}
	perf := make([]string, len(r.PerfData))
	for i, p := range r.PerfData {
		perf[i] = p.String()
	}
	return line + " | " + strings.Join(perf, " ")
}

// text renders the result for people: a status table and a metrics
// table.
func (r *Result) text(io *cmdutil.IOStreams) {
	fmt.Fprintf(io.Out, "%s: %s\n\n", r.Name, r.Status)
	if n := len(r.OKs) + len(r.Warnings) + len(r.Criticals) + len(r.Unknowns); n > 0 {
		t := cmdutil.NewTable(io, "Status Detail")
		t.AddHeader("Status", "Message")
		for _, o := range r.OKs {
			t.AddRow("OK", o)
		}
		for _, w := range r.Warnings {
			t.AddRow("Warning", w)
		}
		for _, u := range r.Unknowns {
			t.AddRow("Unknown", u)
		}
		for _, c := range r.Criticals {
			t.AddRow("Critical", c)
		}
		t.Render()
	}
	if len(r.PerfData) > 0 {
		fmt.Fprintln(io.Out)
		t := cmdutil.NewTable(io, "Check Metrics")
		t.AddHeader("Metric", "Value", "Unit", "Critical Threshold", "Warning Threshold", "Description")
		t.AlignRight(2, 4, 5)
		for _, p := range r.PerfData {
			t.AddRow(p.Name, num(p.Value), p.Unit, num(p.Crit), num(p.Warn), p.Help)
		}
		t.Render()
	}
}

func num(v float64) string {
	if v == float64(int64(v)) {
		return cmdutil.Comma(int64(v))
	}
	return cmdutil.CommaFloat(v, 4)
}
