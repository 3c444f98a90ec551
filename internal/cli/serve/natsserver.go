package servecmd

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/logger"
	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/version"
)

// unsupportedFlags are nats-server flags for features sluice has not built
// yet: accepted, so harnesses keep working, with a warning each.
var unsupportedFlags = []struct {
	names   []string
	boolean bool
	feature string
}{
	{[]string{"c", "config"}, false, "configuration files"},
	{[]string{"m", "http_port"}, false, "HTTP monitoring"},
	{[]string{"ms", "https_port"}, false, "HTTPS monitoring"},
	{[]string{"http_base_path"}, false, "HTTP monitoring"},
	{[]string{"js", "jetstream"}, true, "JetStream"},
	{[]string{"sd", "store_dir"}, false, "JetStream"},
	{[]string{"tls", "tlsverify"}, true, "TLS"},
	{[]string{"tlscert", "tlskey", "tlscacert"}, false, "TLS"},
	{[]string{"cluster", "cluster_listen", "cluster_name", "cluster_advertise", "routes"}, false, "clustering"},
	{[]string{"no_advertise", "connect_retries"}, false, "clustering"},
	{[]string{"r", "remote_syslog"}, false, "remote syslog"},
	{[]string{"s", "syslog"}, true, "syslog"},
	{[]string{"ports_file_dir"}, false, "ports files"},
	{[]string{"client_advertise"}, false, "client_advertise"},
	{[]string{"signal", "sl"}, false, "signals to a running server"},
	{[]string{"t"}, true, "configuration testing"},
	{[]string{"user_auth_timeout"}, false, "auth timeout flag"},
}

// RunNATSServer runs the nats-server personality: nats-server's own flag
// spellings in front of the same broker as `sluice serve`.
func RunNATSServer(io *cmdutil.IOStreams, prog string, args []string) int {
	o := &serveOptions{log: logger.Options{Time: true, PID: true}}
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	fs.SetOutput(io.ErrOut)
	var showVersion, dv, dvv, noLogTime bool
	var maxPayload string
	for _, n := range []string{"a", "addr", "net"} {
		fs.StringVar(&o.srv.Host, n, server.DefaultHost, "host address to listen on")
	}
	for _, n := range []string{"p", "port"} {
		fs.IntVar(&o.srv.Port, n, server.DefaultPort, "client port (-1 for random)")
	}
	for _, n := range []string{"n", "name", "server_name"} {
		fs.StringVar(&o.srv.ServerName, n, "", "server name")
	}
	for _, n := range []string{"v", "version"} {
		fs.BoolVar(&showVersion, n, false, "print the version and exit")
	}
	for _, n := range []string{"D", "debug"} {
		fs.BoolVar(&o.log.Debug, n, false, "enable debug logging")
	}
	for _, n := range []string{"V", "trace"} {
		fs.BoolVar(&o.log.Trace, n, false, "enable protocol tracing")
	}
	fs.BoolVar(&dv, "DV", false, "debug and trace")
	fs.BoolVar(&dvv, "DVV", false, "debug and verbose trace")
	for _, n := range []string{"T", "logtime"} {
		fs.BoolVar(&o.log.Time, n, true, "timestamp log lines")
	}
	fs.BoolVar(&noLogTime, "no_logtime", false, "no timestamps in log lines")
	fs.BoolVar(&o.log.UTC, "logtime_utc", false, "log timestamps in UTC")
	for _, n := range []string{"l", "log"} {
		fs.StringVar(&o.logFile, n, "", "log file")
	}
	for _, n := range []string{"P", "pid"} {
		fs.StringVar(&o.pidFile, n, "", "pid file")
	}
	fs.StringVar(&o.srv.Username, "user", "", "user required for connections")
	fs.StringVar(&o.srv.Password, "pass", "", "password required for connections")
	fs.StringVar(&o.srv.Authorization, "auth", "", "token required for connections")
	fs.IntVar(&o.srv.MaxConn, "max_connections", server.DefaultMaxConnections, "maximum client connections")
	fs.StringVar(&maxPayload, "max_payload", "", "maximum payload size")
	fs.DurationVar(&o.srv.PingInterval, "ping_interval", server.DefaultPingInterval, "keep-alive interval")
	warned := map[string]*string{}
	warnedBool := map[string]*bool{}
	for _, u := range unsupportedFlags {
		for _, n := range u.names {
			if u.boolean {
				warnedBool[n] = fs.Bool(n, false, u.feature+" (not supported yet)")
			} else {
				warned[n] = fs.String(n, "", u.feature+" (not supported yet)")
			}
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cmdutil.ExitOK
		}
		return cmdutil.ExitUsage
	}
	if showVersion {
		fmt.Fprintf(io.Out, "nats-server: v%s (sluice %s)\n", version.NATSCompat, version.Version)
		return cmdutil.ExitOK
	}
	if dv || dvv {
		o.log.Debug, o.log.Trace = true, true
	}
	if noLogTime {
		o.log.Time = false
	}
	o.maxPayload = maxPayload
	warnUnsupported(io.ErrOut, fs, warned, warnedBool)
	if err := run(io, o); err != nil {
		fmt.Fprintf(io.ErrOut, "%s: %v\n", prog, err)
		return cmdutil.ExitCode(err)
	}
	return cmdutil.ExitOK
}

func warnUnsupported(w io.Writer, fs *flag.FlagSet, str map[string]*string, b map[string]*bool) {
	fs.Visit(func(f *flag.Flag) {
		_, isStr := str[f.Name]
		_, isBool := b[f.Name]
		if isStr || isBool {
			usage := strings.TrimSuffix(f.Usage, " (not supported yet)")
			fmt.Fprintf(w, "warning: flag -%s (%s) is not supported yet; ignored\n", f.Name, usage)
		}
	})
}
