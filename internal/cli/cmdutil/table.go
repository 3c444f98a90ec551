package cmdutil

import (
	"fmt"
	"io"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
)

// Table is a go-pretty table styled for where it is printed: rounded
// boxes on a terminal, plain ASCII otherwise.
type Table struct {
	t  table.Writer
	io *IOStreams
}

// NewTable starts a table with an optional title.
func NewTable(io *IOStreams, title string) *Table {
	t := table.NewWriter()
	if io.IsStdoutTTY() {
		t.SetStyle(table.StyleRounded)
	} else {
		t.SetStyle(table.StyleDefault)
	}
	t.Style().Format.Header = text.FormatDefault
	t.Style().Format.Footer = text.FormatDefault
	t.Style().Title.Align = text.AlignCenter
	if title != "" {
		t.SetTitle(title)
	}
	return &Table{t: t, io: io}
}

// AddHeader sets the column headers.
func (t *Table) AddHeader(cols ...any) { t.t.AppendHeader(table.Row(cols)) }

// AddRow adds one row.
func (t *Table) AddRow(cols ...any) { t.t.AppendRow(table.Row(cols)) }

// AddFooter sets a footer row, for totals.
func (t *Table) AddFooter(cols ...any) { t.t.AppendFooter(table.Row(cols)) }

// AlignRight right-aligns the given (1-based) columns, for numbers.
func (t *Table) AlignRight(cols ...int) {
	var cfg []table.ColumnConfig
	for _, c := range cols {
		cfg = append(cfg, table.ColumnConfig{Number: c, Align: text.AlignRight, AlignFooter: text.AlignRight})
	}
	t.t.SetColumnConfigs(cfg)
}

// Render prints the table on stdout.
func (t *Table) Render() { fmt.Fprintln(t.io.Out, t.t.Render()) }

// KV renders labelled values, one per line with right-aligned labels,
// under a heading: the shape of `sluice context info`.
type KV struct {
	title string
	rows  [][2]string
}

// NewKV starts a listing.
func NewKV(title string) *KV { return &KV{title: title} }

// Add adds a row.
func (k *KV) Add(label string, value any) {
	k.rows = append(k.rows, [2]string{label, fmt.Sprint(value)})
}

// AddIf adds a row when the value is not empty.
func (k *KV) AddIf(label, value string) {
	if value != "" {
		k.Add(label, value)
	}
}

// Write prints the listing.
func (k *KV) Write(w io.Writer) {
	width := 0
	for _, r := range k.rows {
		width = max(width, len(r[0]))
	}
	if k.title != "" {
		fmt.Fprintf(w, "%s\n\n", k.title)
	}
	for _, r := range k.rows {
		fmt.Fprintf(w, "  %s%s: %s\n", strings.Repeat(" ", width-len(r[0])), r[0], r[1])
	}
}
