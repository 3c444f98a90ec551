package contextcmd

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// PreviousOptions are the inputs of `context previous`.
type PreviousOptions struct{ f *cmdutil.Factory }

// NewCmdPrevious builds `context previous`.
func NewCmdPrevious(f *cmdutil.Factory, runF func(*PreviousOptions) error) *cobra.Command {
	o := &PreviousOptions{f: f}
	return &cobra.Command{
		Use:     "previous",
		Aliases: []string{"-"},
		Short:   "Switch back to the context selected before this one",
		Args:    cmdutil.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(o)
			}
			return runPrevious(o)
		},
	}
}

func runPrevious(o *PreviousOptions) error {
	store, err := o.f.Contexts()
	if err != nil {
		return err
	}
	prev, err := store.Previous()
	if err != nil {
		return err
	}
	if prev == "" {
		return cmdutil.WithHint(cmdutil.ExitNotFound, errors.New("there is no previous context"),
			"select one with 'sluice context select'")
	}
	if _, err := loadNamed(store, prev); err != nil {
		return err
	}
	if err := store.Select(prev); err != nil {
		return err
	}
	fmt.Fprintf(o.f.IO.ErrOut, "Selected context %q\n", prev)
	return nil
}
