package sysreq

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// Uptime formats how long a server has run: "3.08s", "4m12s",
// "2d3h4m".
func Uptime(d time.Duration) string {
	if d < time.Minute {
		return cmdutil.Duration(d)
	}
	d = d.Round(time.Second)
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	h, m, s := d/time.Hour, (d%time.Hour)/time.Minute, (d%time.Minute)/time.Second
	switch {
	case days > 0:
		return fmt.Sprintf("%dd%dh%dm", days, h, m)
	case h > 0:
		return fmt.Sprintf("%dh%dm%ds", h, m, s)
	}
	return fmt.Sprintf("%dm%ds", m, s)
}

// CompactNames drops the dot-separated suffix all names share
// (n1.east.example.com, n2.east.example.com -> n1, n2), so that tables
// of many servers stay narrow. Fewer than two names, or names that would
// become empty, are left alone.
func CompactNames(names []string) []string {
	if len(names) < 2 {
		return names
	}
	split := make([][]string, len(names))
	shortest := -1
	for i, n := range names {
		split[i] = strings.Split(n, ".")
		if shortest < 0 || len(split[i]) < shortest {
			shortest = len(split[i])
		}
	}
	common := 0
	for common < shortest-1 {
		tok := split[0][len(split[0])-1-common]
		same := true
		for _, s := range split[1:] {
			if s[len(s)-1-common] != tok {
				same = false
				break
			}
		}
		if !same {
			break
		}
		common++
	}
	if common == 0 {
		return names
	}
	out := make([]string, len(names))
	for i, s := range split {
		out[i] = strings.Join(s[:len(s)-common], ".")
	}
	return out
}

// Sections prints labelled values in titled sections with the labels of
// all sections right-aligned together, the shape of `server info`.
type Sections struct {
	heading string
	items   []sectionItem
}

type sectionItem struct {
	title        string // set for a section title
	label, value string
}

// NewSections starts a listing under heading.
func NewSections(heading string) *Sections { return &Sections{heading: heading} }

// Section starts a new section.
func (s *Sections) Section(title string) { s.items = append(s.items, sectionItem{title: title}) }

// Add adds a row to the current section.
func (s *Sections) Add(label string, value any) {
	s.items = append(s.items, sectionItem{label: label, value: fmt.Sprint(value)})
}

// Addf adds a row with a formatted value.
func (s *Sections) Addf(label, format string, args ...any) {
	s.Add(label, fmt.Sprintf(format, args...))
}

// AddIf adds a row when value is not empty.
func (s *Sections) AddIf(label, value string) {
	if value != "" {
		s.Add(label, value)
	}
}

// AddList adds one row per value, the label on the first only.
func (s *Sections) AddList(label string, values []string) {
	for i, v := range values {
		if i > 0 {
			label = ""
		}
		s.Add(label, v)
	}
}

// Write prints the listing.
func (s *Sections) Write(w io.Writer) {
	width := 0
	for _, it := range s.items {
		width = max(width, len(it.label))
	}
	fmt.Fprintf(w, "%s\n", s.heading)
	for _, it := range s.items {
		if it.title != "" {
			fmt.Fprintf(w, "\n%s:\n\n", it.title)
			continue
		}
		sep := ": "
		if it.label == "" {
			sep = "  "
		}
		fmt.Fprintf(w, "  %*s%s%s\n", width, it.label, sep, it.value)
	}
}
