// Package checkcmd implements `sluice server check`: Nagios-style health
// checks of a connection, a server and JetStream. Each prints one status
// line with performance data (or JSON, or tables) and exits 0 (OK),
// 1 (WARNING), 2 (CRITICAL) or 3 (UNKNOWN), so monitoring systems can run
// it as a plugin.
package checkcmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// Output formats.
const (
	FormatNagios = "nagios"
	FormatJSON   = "json"
	FormatText   = "text"
)

// Common are the inputs every check shares.
type Common struct {
	f *cmdutil.Factory

	Format string
	JSON   bool
}

const checkLong = `Health checks for monitoring systems. Each check prints its result and
exits with the Nagios plugin status:

  0  OK        1  WARNING        2  CRITICAL        3  UNKNOWN

--format nagios (the default) prints one line,
"STATUS NAME Crit:... Warn:... OK:... | perfdata"; json prints the result
as an object; text prints tables. Several thresholds may be given at once;
give both the warning and the critical one of a pair. Where a check says
so, a critical threshold below the warning one inverts it: the value must
then stay above them. Contradicting thresholds give UNKNOWN.`

// New builds `server check` and its checks.
func New(f *cmdutil.Factory) *cobra.Command {
	c := &Common{f: f}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Health checks for monitoring systems (Nagios plugin)",
		Long:  checkLong,
		Example: `  sluice server check connection --rtt-warn 100ms --rtt-critical 500ms
  sluice server check server --name n1 --cpu-warn 70 --cpu-critical 90 --uptime-critical 5m --uptime-warn 1h
  sluice server check jetstream --mem-warn 70 --mem-critical 85 --format json`,
	}
	cmdutil.MakeGroup(cmd)
	fl := cmd.PersistentFlags()
	fl.StringVar(&c.Format, "format", FormatNagios, "output `FORMAT`: nagios, json or text")
	fl.BoolVarP(&c.JSON, "json", "j", false, "short for --format json")
	cmd.AddCommand(newConnection(c), newServer(c), newJetStream(c))
	return cmd
}

// validate checks the output flags before a check runs.
func (c *Common) validate() error {
	if c.JSON {
		c.Format = FormatJSON
	}
	switch c.Format {
	case FormatNagios, FormatJSON, FormatText:
		return nil
	}
	return cmdutil.FlagErrorf("--format must be nagios, json or text, not %q", c.Format)
}

// finish prints r and turns its status into the exit code.
func (c *Common) finish(r *Result) error {
	r.settle()
	io := c.f.IO
	switch c.Format {
	case FormatJSON:
		if err := cmdutil.WriteJSON(io.Out, r); err != nil {
			return err
		}
	case FormatText:
		r.text(io)
	default:
		fmt.Fprintln(io.Out, r.Nagios())
	}
	if code := r.Status.ExitCode(); code != 0 {
		return &cmdutil.SilentError{Code: code}
	}
	return nil
}

// threshold judges value against a warning and a critical level; 0
// means unset. With invert allowed and crit < warn, lower is worse. It
// records the outcome in r under label.
func threshold(r *Result, label string, warn, crit, value float64, invert bool) {
	if warn == 0 && crit == 0 {
		return
	}
	inverted := invert && warn != 0 && crit != 0 && crit < warn
	if !invert && warn != 0 && crit != 0 && crit < warn {
		r.unknownf("%s: the critical threshold %s is below the warning one %s", label, num(crit), num(warn))
		return
	}
	switch {
	case inverted && value <= crit, !inverted && crit != 0 && value >= crit:
		r.critf("%s %s", label, num(value))
	case inverted && value <= warn, !inverted && warn != 0 && value >= warn:
		r.warnf("%s %s", label, num(value))
	default:
		r.okf("%s %s", label, num(value))
	}
}
