// Package mappingscmd implements `sluice server mappings`: try a subject
// mapping on sample subjects, offline, with the broker's own transform
// code, so what it prints is what the server would do. That makes it the
// one client command importing broker code: internal/server/subject,
// which does no I/O and knows nothing of servers.
package mappingscmd

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/msgutil"
	"github.com/sluicehq/sluice/internal/server/subject"
)

// Options are the inputs of `server mappings`.
type Options struct {
	f *cmdutil.Factory

	Source, Dest string
	Subjects     []string
	JSON         bool
}

// Mapping is one tried subject, as --json prints it.
type Mapping struct {
	Subject string `json:"subject"`
	Mapped  string `json:"mapped,omitempty"`
	Error   string `json:"error,omitempty"`
}

// New builds `server mappings`.
func New(f *cmdutil.Factory) *cobra.Command { return NewCmd(f, nil) }

// NewCmd builds `server mappings` with an optional run function for tests.
func NewCmd(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	o := &Options{f: f}
	cmd := &cobra.Command{
		Use:     "mappings SOURCE DEST [SUBJECT...]",
		Aliases: []string{"mapping"},
		Short:   "Test a subject mapping on sample subjects",
		Long: `Apply the subject mapping SOURCE -> DEST to each SUBJECT and print the
result, one per line. Without SUBJECT, subjects are asked for on a
terminal (an empty one ends) or read from stdin, one per line.

This only tests the mapping, offline; nothing is added to any server.
A subject that does not match SOURCE is reported on stderr, and the
command then fails.`,
		Example: `  sluice server mappings 'orders.*.*' 'orders.{{wildcard(2)}}.{{wildcard(1)}}' orders.eu.new
  sluice server mappings 'bench.*' 'bench.{{partition(3,1)}}.{{wildcard(1)}}' < subjects.txt`,
		Args: cmdutil.RangeArgs(0, -1, "SOURCE", "DEST", "SUBJECT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				o.Source = args[0]
			}
			if len(args) > 1 {
				o.Dest = args[1]
			}
			if len(args) > 2 {
				o.Subjects = args[2:]
			}
			if runF != nil {
				return runF(o)
			}
			return run(cmd.Context(), o)
		},
	}
	cmdutil.AddJSONFlag(cmd, &o.JSON)
	return cmd
}

func run(ctx context.Context, o *Options) error {
	f := o.f
	if err := f.RequireInput(&o.Source, "SOURCE argument", "Source subject pattern:"); err != nil {
		return err
	}
	if err := f.RequireInput(&o.Dest, "DEST argument", "Destination subject pattern:"); err != nil {
		return err
	}
	tr, err := subject.NewTransform(o.Source, o.Dest)
	if err != nil {
		return cmdutil.FlagErrorf("cannot map %q to %q: %v", o.Source, o.Dest, err)
	}
	var results []Mapping
	failed := 0
	try := func(subj string) {
		m := Mapping{Subject: subj}
		if err := msgutil.ValidateSubject(subj, false); err != nil {
			m.Error = err.Error()
		} else if out, ok := tr.Apply(subj); ok {
			m.Mapped = out
		} else {
			m.Error = fmt.Sprintf("%q does not match %q", subj, o.Source)
		}
		if m.Error != "" {
			failed++
		}
		results = append(results, m)
		if o.JSON {
			return
		}
		if m.Error != "" {
			fmt.Fprintf(f.IO.ErrOut, "sluice: %s\n", m.Error)
			return
		}
		fmt.Fprintln(f.IO.Out, m.Mapped)
	}
	switch {
	case len(o.Subjects) > 0:
		for _, s := range o.Subjects {
			try(s)
		}
	case f.Prompt() != nil:
		fmt.Fprintln(f.IO.ErrOut, "Enter subjects to map; an empty one ends. Nothing is added to any server.")
		for {
			s, err := f.Prompt().Input("Subject:", "")
			if err != nil {
				return err
			}
			if s == "" {
				break
			}
			try(s)
		}
	default:
		if err := readLines(ctx, f.IO.In, try); err != nil {
			return err
		}
		if len(results) == 0 {
			return cmdutil.FlagErrorf("no subjects to map: give SUBJECT arguments or subjects on stdin, one per line")
		}
	}
	if o.JSON {
		if err := cmdutil.WriteJSON(f.IO.Out, results); err != nil {
			return err
		}
	}
	if failed > 0 {
		return &cmdutil.SilentError{Code: cmdutil.ExitError}
	}
	return nil
}

// readLines calls fn with each non-blank line of r.
func readLines(ctx context.Context, r io.Reader, fn func(string)) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if line := strings.TrimSpace(sc.Text()); line != "" {
			fn(line)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("cannot read subjects from stdin: %w", err)
	}
	return nil
}
