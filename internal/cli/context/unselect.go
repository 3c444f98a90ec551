package contextcmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// UnselectOptions are the inputs of `context unselect`.
type UnselectOptions struct{ f *cmdutil.Factory }

// NewCmdUnselect builds `context unselect`.
func NewCmdUnselect(f *cmdutil.Factory, runF func(*UnselectOptions) error) *cobra.Command {
	o := &UnselectOptions{f: f}
	return &cobra.Command{
		Use:   "unselect",
		Short: "Clear the selection, so no context is used by default",
		Args:  cmdutil.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(o)
			}
			return runUnselect(o)
		},
	}
}

func runUnselect(o *UnselectOptions) error {
	store, err := o.f.Contexts()
	if err != nil {
		return err
	}
	was, err := store.Unselect()
	if err != nil {
		return err
	}
	if was == "" {
		fmt.Fprintln(o.f.IO.ErrOut, "No context was selected")
		return nil
	}
	fmt.Fprintf(o.f.IO.ErrOut, "Unselected context %q; 'sluice context previous' selects it again\n", was)
	return nil
}
