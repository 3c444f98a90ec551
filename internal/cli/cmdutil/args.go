package cmdutil

import (
	"strings"

	"github.com/spf13/cobra"
)

// ExactArgs requires exactly n arguments, named in errors by names
// (e.g. "SUBJECT").
func ExactArgs(n int, names ...string) cobra.PositionalArgs {
	return RangeArgs(n, n, names...)
}

// RangeArgs requires between lo and hi arguments. Missing ones are named
// from names, so the error says which: "missing SUBJECT argument".
func RangeArgs(lo, hi int, names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < lo {
			missing := names[len(args):min(lo, len(names))]
			if len(missing) == 0 {
				return FlagErrorf("%s needs %d argument(s), got %d", cmd.CommandPath(), lo, len(args))
			}
			word := "argument"
			if len(missing) > 1 {
				word = "arguments"
			}
			return FlagErrorf("missing %s %s; see '%s --help'", strings.Join(missing, " and "), word, cmd.CommandPath())
		}
		if hi == 0 && len(args) > 0 {
			return FlagErrorf("%s takes no arguments, got %q", cmd.CommandPath(), args[0])
		}
		if hi >= 0 && len(args) > hi {
			return FlagErrorf("%s takes at most %d argument(s) (%s), got %d: unexpected %q",
				cmd.CommandPath(), hi, strings.Join(names, " "), len(args), args[hi])
		}
		return nil
	}
}
