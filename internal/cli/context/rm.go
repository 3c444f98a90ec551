package contextcmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// RmOptions are the inputs of `context rm`.
type RmOptions struct {
	f     *cmdutil.Factory
	Name  string
	Force bool
}

// NewCmdRm builds `context rm`.
func NewCmdRm(f *cmdutil.Factory, runF func(*RmOptions) error) *cobra.Command {
	o := &RmOptions{f: f}
	cmd := &cobra.Command{
		Use:     "rm [NAME]",
		Aliases: []string{"remove"},
		Short:   "Remove a context",
		Long: `Remove a context. Asks for confirmation on a terminal; elsewhere --force
is required. Removing the selected context clears the selection. Without
NAME, choose from a list (on a terminal).`,
		Args:              cmdutil.RangeArgs(0, 1, "NAME"),
		ValidArgsFunction: completeNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				o.Name = args[0]
			}
			if runF != nil {
				return runF(o)
			}
			return runRm(o)
		},
	}
	cmd.Flags().BoolVarP(&o.Force, "force", "f", false, "remove without asking")
	return cmd
}

func runRm(o *RmOptions) error {
	f := o.f
	store, err := f.Contexts()
	if err != nil {
		return err
	}
	if o.Name == "" {
		if o.Name, err = pickContext(f, store, "Context to remove:", "NAME argument is required: sluice context rm NAME"); err != nil {
			return err
		}
	}
	if _, err := loadNamed(store, o.Name); err != nil {
		return err
	}
	sel, _ := store.Selected()
	q := fmt.Sprintf("Remove context %q?", o.Name)
	if sel == o.Name {
		q = fmt.Sprintf("Remove context %q? It is the selected context; the selection will be cleared.", o.Name)
	}
	if err := f.ConfirmDestructive(o.Force, q); err != nil {
		return err
	}
	if err := store.Delete(o.Name); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.ErrOut, "Removed context %q\n", o.Name)
	if sel == o.Name {
		fmt.Fprintln(f.IO.ErrOut, "No context is selected now; choose one with 'sluice context select'")
	}
	return nil
}
