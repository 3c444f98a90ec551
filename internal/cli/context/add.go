package contextcmd

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/natscontext"
)

// AddOptions are the inputs of `context add`.
type AddOptions struct {
	f *cmdutil.Factory

	Name        string
	Description string
	Select      bool
	Embed       bool
}

// NewCmdAdd builds `context add`. runF replaces the run function in
// tests of flag parsing.
func NewCmdAdd(f *cmdutil.Factory, runF func(*AddOptions) error) *cobra.Command {
	o := &AddOptions{f: f}
	cmd := &cobra.Command{
		Use:     "add NAME [flags]",
		Aliases: []string{"create", "save"},
		Short:   "Create a context, or update one",
		Long: `Create a context, or update the named one, from the connection flags
(--server, --user, --creds, --tlsca, ...) and their NATS_* variables.

Only the settings given are changed when the context exists. Giving any
credential replaces the context's credentials as a whole.`,
		Example: `  sluice context add dev --server nats://127.0.0.1:4222 --select
  sluice context add prod --server tls://n1:4222,tls://n2:4222 --creds ~/prod.creds
  sluice context add ci --token env://CI_NATS_TOKEN --description "CI runners"
  sluice context add prod --creds ~/prod.creds --embed   # copy the file into the context`,
		Args:              cmdutil.RangeArgs(0, 1, "NAME"),
		ValidArgsFunction: completeNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				o.Name = args[0]
			}
			if runF != nil {
				return runF(o)
			}
			return runAdd(o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Description, "description", "", "a description shown when listing contexts")
	fl.BoolVar(&o.Select, "select", false, "select the context after saving it")
	fl.BoolVar(&o.Embed, "embed", false, "copy the contents of --creds and --nkey files into the context")
	return cmd
}

func runAdd(o *AddOptions) error {
	f := o.f
	if err := f.RequireInput(&o.Name, "NAME argument", "Context name:"); err != nil {
		return err
	}
	if err := natscontext.ValidateName(o.Name); err != nil {
		return &cmdutil.UsageError{Err: err}
	}
	store, err := f.Contexts()
	if err != nil {
		return err
	}
	c := &natscontext.Context{Name: o.Name}
	exists := store.Exists(o.Name)
	if exists {
		if c, err = loadNamed(store, o.Name); err != nil {
			return err
		}
	}
	applied := f.ApplyOverrides(c)
	if !exists && c.URL == "" {
		c.URL = natscontext.DefaultURL
		if p := f.Prompt(); p != nil && len(applied) == 0 {
			if c.URL, err = p.Input("Server URLs:", natscontext.DefaultURL); err != nil {
				return err
			}
		}
	}
	if o.Description != "" {
		c.Description = o.Description
	}
	if o.Embed {
		if err := c.Embed(os.Getenv); err != nil {
			return err
		}
	}
	if err := store.Save(c); err != nil {
		return err
	}
	verb := "Created"
	if exists {
		verb = "Updated"
	}
	fmt.Fprintf(f.IO.ErrOut, "%s context %q (%s) in %s\n", verb, c.Name, redactURL(c.ServerURL()), c.Path())
	if o.Select {
		if err := store.Select(c.Name); err != nil {
			return err
		}
		fmt.Fprintf(f.IO.ErrOut, "Selected context %q\n", c.Name)
	}
	warnMissingFiles(f, c)
	return nil
}

// warnMissingFiles tells the user, on stderr, about credential files a
// saved context refers to that cannot be read.
func warnMissingFiles(f *cmdutil.Factory, c *natscontext.Context) {
	var bad []string
	for _, st := range c.Check(os.Getenv) {
		if !st.OK {
			bad = append(bad, st.Field+": "+st.Detail)
		}
	}
	if len(bad) > 0 {
		fmt.Fprintf(f.IO.ErrOut, "Warning: the context refers to what cannot be read now:\n  %s\n", strings.Join(bad, "\n  "))
	}
}
