// Package generate is `sluice auth generate`: creds files, nkeys, server
// configurations and activation tokens.
package generate

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// New returns `auth generate` and its objects.
func New(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Generate creds files, nkeys, server configurations or activation tokens",
	}
	cmd.AddCommand(newCreds(f), newNKey(f), newConfig(f), newActivation(f), newContext(f))
	return cmd
}

// output writes data to file (0600) or stdout.
func output(f *cmdutil.Factory, file string, data []byte, what string) error {
	if file == "" || file == "-" {
		_, err := f.IO.Out.Write(data)
		return err
	}
	if err := writePrivate(file, data); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.ErrOut, "Wrote %s to %s\n", what, file)
	return nil
}

// writePrivate writes through a temporary file and a rename, 0600.
func writePrivate(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
