package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	servecmd "github.com/sluicehq/sluice/internal/cli/serve"
)

// Main runs the program and returns its exit code.
func Main() int {
	io := cmdutil.System()
	name := strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe")
	if name == "nats-server" {
		return servecmd.RunNATSServer(io, name, os.Args[1:])
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return RunWith(ctx, &cmdutil.Factory{IO: io}, os.Args[1:])
}

// Run executes the sluice command tree with args and returns the exit code.
func Run(io *cmdutil.IOStreams, args []string) int {
	return RunWith(context.Background(), &cmdutil.Factory{IO: io}, args)
}

// RunWith executes the command tree with a prepared factory (tests use
// it to set a prompter) until ctx is done. Errors are printed once, on
// stderr; the connection, if one was made, is closed.
func RunWith(ctx context.Context, f *cmdutil.Factory, args []string) int {
	root := NewRoot(f)
	root.SetArgs(servecmd.NormalizeArgs(args))
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	_, err := root.ExecuteContextC(ctx)
	f.Close()
	if err != nil {
		err = classify(err)
		if !cmdutil.IsSilent(err) {
			fmt.Fprintf(f.IO.ErrOut, "sluice: %v\n", err)
		}
	}
	return cmdutil.ExitCode(err)
}

// classify marks cobra's own argument errors as usage errors.
func classify(err error) error {
	var ue *cmdutil.UsageError
	if errors.As(err, &ue) {
		return err
	}
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "requires at most", "invalid argument"} {
		if strings.HasPrefix(msg, p) {
			return &cmdutil.UsageError{Err: err}
		}
	}
	return err
}
