package edit

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
)

type pflagFlag = pflag.Flag

// limits are numeric flags kept as text, so that sizes read "1GB" and
// unlimited reads -1.
type limits map[string]*string

func (l limits) add(cmd *cobra.Command, name, usage string) {
	v := new(string)
	l[name] = v
	cmd.Flags().StringVar(v, name, "", usage)
}

// apply sets *dst from the flag when it was given.
func (l limits) apply(cmd *cobra.Command, name string, dst *int64) error {
	if !cmd.Flags().Changed(name) {
		return nil
	}
	n, err := authutil.ParseSize(name, *l[name])
	if err != nil {
		return err
	}
	*dst = n
	return nil
}
