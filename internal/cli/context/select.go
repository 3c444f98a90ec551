package contextcmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// SelectOptions are the inputs of `context select`.
type SelectOptions struct {
	f    *cmdutil.Factory
	Name string
}

// NewCmdSelect builds `context select`.
func NewCmdSelect(f *cmdutil.Factory, runF func(*SelectOptions) error) *cobra.Command {
	o := &SelectOptions{f: f}
	cmd := &cobra.Command{
		Use:     "select [NAME]",
		Aliases: []string{"switch", "set"},
		Short:   "Select the context client commands use",
		Long: `Select the context client commands use. Without NAME, choose from a
list (on a terminal).`,
		Args:              cmdutil.RangeArgs(0, 1, "NAME"),
		ValidArgsFunction: completeNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				o.Name = args[0]
			}
			if runF != nil {
				return runF(o)
			}
			return runSelect(o)
		},
	}
	return cmd
}

func runSelect(o *SelectOptions) error {
	f := o.f
	store, err := f.Contexts()
	if err != nil {
		return err
	}
	if o.Name == "" {
		if o.Name, err = pickContext(f, store, "Select a context:", "missing NAME argument: sluice context select NAME"); err != nil {
			return err
		}
	}
	c, err := loadNamed(store, o.Name)
	if err != nil {
		return err
	}
	if err := store.Select(o.Name); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.ErrOut, "Selected context %q (%s)\n", o.Name, redactURL(c.ServerURL()))
	return nil
}
