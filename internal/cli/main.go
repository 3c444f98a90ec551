package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

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
	return Run(io, os.Args[1:])
}

// Run executes the sluice command tree with args and returns the exit code.
func Run(io *cmdutil.IOStreams, args []string) int {
	f := &cmdutil.Factory{IO: io}
	root := NewRoot(f)
	root.SetArgs(args)
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	err := root.Execute()
	if err != nil {
		fmt.Fprintf(io.ErrOut, "sluice: %v\n", err)
	}
	return cmdutil.ExitCode(err)
}
