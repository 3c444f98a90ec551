package contextcmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/natscontext"
)

// CopyOptions are the inputs of `context copy`.
type CopyOptions struct {
	f *cmdutil.Factory

	Source, Name string
	Description  string
	Select       bool
}

// NewCmdCopy builds `context copy`.
func NewCmdCopy(f *cmdutil.Factory, runF func(*CopyOptions) error) *cobra.Command {
	o := &CopyOptions{f: f}
	cmd := &cobra.Command{
		Use:     "copy [SOURCE [NAME]] [flags]",
		Aliases: []string{"cp"},
		Short:   "Copy a context, changing what the flags say",
		Long: `Copy context SOURCE to a new context NAME, changing the settings the
connection flags give. Missing names are asked for on a terminal.`,
		Example: `  sluice context copy prod prod-admin --creds ~/admin.creds
  sluice context cp dev dev2 --server nats://127.0.0.1:4333 --select`,
		Args:              cmdutil.RangeArgs(0, 2, "SOURCE", "NAME"),
		ValidArgsFunction: completeNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				o.Source = args[0]
			}
			if len(args) > 1 {
				o.Name = args[1]
			}
			if runF != nil {
				return runF(o)
			}
			return runCopy(o)
		},
	}
	cmd.Flags().StringVar(&o.Description, "description", "", "a description for the copy")
	cmd.Flags().BoolVar(&o.Select, "select", false, "select the copy")
	return cmd
}

func runCopy(o *CopyOptions) error {
	f := o.f
	store, err := f.Contexts()
	if err != nil {
		return err
	}
	if o.Source == "" {
		if o.Source, err = pickContext(f, store, "Context to copy:", "SOURCE and NAME arguments are required: sluice context copy SOURCE NAME"); err != nil {
			return err
		}
	}
	src, err := loadNamed(store, o.Source)
	if err != nil {
		return err
	}
	if err := f.RequireInput(&o.Name, "NAME argument", "Name of the copy:"); err != nil {
		return err
	}
	if err := natscontext.ValidateName(o.Name); err != nil {
		return &cmdutil.UsageError{Err: err}
	}
	if store.Exists(o.Name) {
		return cmdutil.WithHint(cmdutil.ExitError, fmt.Errorf("context %q already exists", o.Name),
			"change it with 'sluice context add %s ...' or remove it first", o.Name)
	}
	c := src.Clone()
	c.Name = o.Name
	f.ApplyOverrides(c)
	if o.Description != "" {
		c.Description = o.Description
	}
	if err := store.Save(c); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.ErrOut, "Copied context %q to %q in %s\n", o.Source, o.Name, c.Path())
	if o.Select {
		if err := store.Select(c.Name); err != nil {
			return err
		}
		fmt.Fprintf(f.IO.ErrOut, "Selected context %q\n", c.Name)
	}
	return nil
}
