package contextcmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/natscontext"
)

// LsOptions are the inputs of `context ls`.
type LsOptions struct {
	f     *cmdutil.Factory
	JSON  bool
	Names bool
}

// NewCmdLs builds `context ls`.
func NewCmdLs(f *cmdutil.Factory, runF func(*LsOptions) error) *cobra.Command {
	o := &LsOptions{f: f}
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List contexts; the selected one is marked with *",
		Args:    cmdutil.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(o)
			}
			return runLs(o)
		},
	}
	cmdutil.AddJSONFlag(cmd, &o.JSON)
	cmd.Flags().BoolVar(&o.Names, "names", false, "print only the names, one per line")
	return cmd
}

func runLs(o *LsOptions) error {
	f := o.f
	store, err := f.Contexts()
	if err != nil {
		return err
	}
	names, err := store.List()
	if err != nil {
		return err
	}
	sel, _ := store.Selected()
	if o.Names {
		for _, n := range names {
			fmt.Fprintln(f.IO.Out, n)
		}
		return nil
	}
	contexts := []*natscontext.Context{}
	for _, n := range names {
		c, err := store.Load(n)
		if err != nil {
			fmt.Fprintf(f.IO.ErrOut, "sluice: skipping context %q: %v\n", n, err)
			continue
		}
		contexts = append(contexts, c)
	}
	if o.JSON {
		return cmdutil.WriteJSON(f.IO.Out, contexts)
	}
	if len(contexts) == 0 {
		fmt.Fprintln(f.IO.ErrOut, "No contexts yet; create one with 'sluice context add NAME --server URL'")
		return nil
	}
	t := cmdutil.NewTable(f.IO, "Contexts")
	t.AddHeader("Name", "Server", "Description")
	for _, c := range contexts {
		name := c.Name
		if name == sel {
			name += "*"
		}
		t.AddRow(name, redactURL(c.ServerURL()), c.Description)
	}
	t.Render()
	return nil
}
