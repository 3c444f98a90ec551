package contextcmd

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/natscontext"
)

// EditOptions are the inputs of `context edit`.
type EditOptions struct {
	f    *cmdutil.Factory
	Name string
	// Edit opens the file in the user's editor and returns when it is
	// closed. Nil means $VISUAL, $EDITOR or vi; tests replace it.
	Edit func(path string) error
}

// NewCmdEdit builds `context edit`.
func NewCmdEdit(f *cmdutil.Factory, runF func(*EditOptions) error) *cobra.Command {
	o := &EditOptions{f: f}
	cmd := &cobra.Command{
		Use:     "edit [NAME]",
		Aliases: []string{"vi"},
		Short:   "Edit a context's file in your editor",
		Long: `Open a context's JSON in $VISUAL or $EDITOR (vi when neither is set) and
save it when the editor exits, after checking it. Without NAME the selected
context is edited. Fields sluice does not know are kept.

To change single settings from a script, use 'sluice context add NAME'
with the flags to change instead.`,
		Args:              cmdutil.RangeArgs(0, 1, "NAME"),
		ValidArgsFunction: completeNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				o.Name = args[0]
			}
			if runF != nil {
				return runF(o)
			}
			return runEdit(o)
		},
	}
	return cmd
}

func runEdit(o *EditOptions) error {
	f := o.f
	store, err := f.Contexts()
	if err != nil {
		return err
	}
	name, err := nameOrSelected(f, store, o.Name, "edit")
	if err != nil {
		return err
	}
	c, err := loadNamed(store, name)
	if err != nil {
		return err
	}
	orig, err := c.FileBytes()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp("", "sluice-context-"+name+"-*.json")
	if err != nil {
		return err
	}
	path := tmp.Name()
	_, err = tmp.Write(append(orig, '\n'))
	tmp.Close()
	if err != nil {
		os.Remove(path)
		return err
	}
	edit := o.Edit
	if edit == nil {
		edit = func(p string) error { return runEditor(f, p) }
	}
	for {
		if err := edit(path); err != nil {
			os.Remove(path)
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Equal(bytes.TrimSpace(data), bytes.TrimSpace(orig)) {
			os.Remove(path)
			fmt.Fprintf(f.IO.ErrOut, "No changes to context %q\n", name)
			return nil
		}
		edited, perr := natscontext.Parse(name, data)
		if perr == nil {
			perr = edited.Validate()
		}
		if perr == nil {
			os.Remove(path)
			if err := store.Save(edited); err != nil {
				return err
			}
			fmt.Fprintf(f.IO.ErrOut, "Updated context %q\n", name)
			warnMissingFiles(f, edited)
			return nil
		}
		p := f.Prompt()
		if p == nil {
			return cmdutil.WithHint(cmdutil.ExitError, fmt.Errorf("the edited context is not valid: %w", perr),
				"nothing was saved; your edit is in %s", path)
		}
		fmt.Fprintf(f.IO.ErrOut, "The edited context is not valid: %v\n", perr)
		again, err := p.Confirm("Edit it again?", true)
		if err != nil || !again {
			fmt.Fprintf(f.IO.ErrOut, "Nothing was saved; your edit is in %s\n", path)
			if err == nil {
				err = cmdutil.ErrCancelled
			}
			return err
		}
	}
}

// runEditor runs the user's editor on path, attached to the terminal.
func runEditor(f *cmdutil.Factory, path string) error {
	editor := os.Getenv("VISUAL")
	if editor == "" {
		editor = os.Getenv("EDITOR")
	}
	if editor == "" {
		editor = "vi"
		if runtime.GOOS == "windows" {
			editor = "notepad"
		}
	}
	argv, err := cmdutil.SplitCommand(editor)
	if err != nil || len(argv) == 0 {
		return fmt.Errorf("cannot run editor %q: set $EDITOR to a command", editor)
	}
	cmd := exec.Command(argv[0], append(argv[1:], path)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = f.IO.In, f.IO.Out, f.IO.ErrOut
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("editor %q exited with %v; nothing was saved", editor, ee)
		}
		return cmdutil.WithHint(cmdutil.ExitError, fmt.Errorf("cannot run editor %q: %w", editor, err), "set $EDITOR to your editor")
	}
	return nil
}
