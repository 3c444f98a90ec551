// Package servecmd implements `sluice serve` and the nats-server
// personality. It is the only CLI package that imports internal/server.
package servecmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/logger"
	"github.com/sluicehq/sluice/internal/server"
)

// New returns the `serve` command.
func New(f *cmdutil.Factory) *cobra.Command {
	o := newServeOptions()
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the NATS-compatible broker",
		Long: `Run the broker. Clients connect with any NATS client library or tool.

A nats-server configuration file works unchanged (--config); flags override
it. SIGHUP reloads the configuration, SIGUSR1 reopens the log file, SIGUSR2
enters lame duck mode, SIGINT/SIGTERM stop gracefully.

Invoked through a link named nats-server, the binary accepts nats-server's
own flags (-a, -p, -n, -c, -DV, --signal, ...), so harnesses that launch
nats-server work.`,
		Example: `  sluice serve                          # listen on 0.0.0.0:4222
  sluice serve -p -1 -n edge1           # random port, named server
  sluice serve -c nats-server.conf      # an existing nats-server configuration
  sluice serve -c nats-server.conf -t   # check it and exit
  sluice serve --tlscert server.pem --tlskey server-key.pem   # clients must use TLS
  sluice serve -js -sd /var/lib/sluice   # with JetStream, stored under /var/lib/sluice/jetstream
  sluice serve --signal reload          # reload the running server`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var client []string
			cmd.InheritedFlags().VisitAll(func(fl *pflag.Flag) {
				if fl.Changed {
					client = append(client, "--"+fl.Name)
				}
			})
			if len(client) > 0 {
				return &cmdutil.UsageError{Err: fmt.Errorf("%s: client connection flags have no meaning for serve", strings.Join(client, ", "))}
			}
			cmd.Flags().Visit(func(fl *pflag.Flag) { o.changed[fl.Name] = true })
			if o.signal != "" {
				return sendSignal(f.IO.Out, o.signal)
			}
			return run(f.IO, o)
		},
	}
	// A server command shows its own flags only, not the client
	// connection flags every other command inherits.
	cmd.SetUsageTemplate(globalFlagsSection.ReplaceAllString(cmd.UsageTemplate(), ""))
	fl := cmd.Flags()
	fo := &o.flags
	fl.StringVarP(&o.configFile, "config", "c", "", "nats-server configuration file")
	fl.BoolVarP(&o.testOnly, "test", "t", false, "check the configuration and exit")
	fl.BoolVar(&o.lenient, "lenient", false, "unknown top-level configuration keys only warn (unknown keys are errors by default; never inside security blocks)")
	fl.BoolVar(&o.strict, "strict", false, "unknown configuration keys are errors (the default)")
	fl.MarkHidden("strict")
	fl.StringVar(&o.signal, "signal", "", "send a signal to a running server: reload, reopen, ldm, stop, quit, term [=PID|PIDFILE]")
	fl.StringVarP(&fo.Host, "addr", "a", server.DefaultHost, "host address to listen on")
	fl.IntVarP(&fo.Port, "port", "p", server.DefaultPort, "client port (-1 for a random port)")
	fl.StringVarP(&fo.ServerName, "name", "n", "", "server name (default: the server ID)")
	fl.StringVar(&fo.ClientAdvertise, "client-advertise", "", "client URL advertised to other servers")
	fl.StringVar(&o.maxPayload, "max-payload", "1MB", "largest message payload accepted")
	fl.StringVar(&o.maxPending, "max-pending", "64MB", "bytes buffered for a client before it is cut as a slow consumer")
	fl.IntVar(&fo.MaxConn, "max-connections", server.DefaultMaxConnections, "most client connections at once")
	fl.IntVar(&fo.MaxSubs, "max-subscriptions", 0, "most subscriptions per connection (0 = unlimited)")
	fl.Int32Var(&fo.MaxControlLine, "max-control-line", server.DefaultMaxControlLine, "longest protocol line accepted")
	fl.DurationVar(&fo.PingInterval, "ping-interval", server.DefaultPingInterval, "interval between keep-alive PINGs")
	fl.IntVar(&fo.MaxPingsOut, "ping-max", server.DefaultPingMax, "unanswered PINGs before a connection is stale")
	fl.DurationVar(&fo.WriteDeadline, "write-deadline", server.DefaultWriteDeadline, "longest a write to a client may block")
	fl.DurationVar(&fo.AuthTimeout, "auth-timeout", server.DefaultAuthTimeout, "time a client has to authenticate")
	fl.StringVar(&fo.Username, "user", "", "user required of connections")
	fl.StringVar(&fo.Password, "pass", "", "password required of connections")
	fl.StringVar(&fo.Authorization, "auth", "", "token required of connections")
	fl.BoolVar(&fo.TLS, "tls", false, "require TLS on the client port (needs --tlscert and --tlskey); --tls=false turns a tls {} block off")
	fl.StringVar(&fo.TLSCert, "tlscert", "", "server certificate file (implies --tls)")
	fl.StringVar(&fo.TLSKey, "tlskey", "", "server private key file (implies --tls)")
	fl.StringVar(&fo.TLSCaCert, "tlscacert", "", "CA certificates client certificates are verified against (implies --tls)")
	fl.BoolVar(&fo.TLSVerify, "tlsverify", false, "require a client certificate that verifies (implies --tls)")
	fl.BoolVarP(&fo.Debug, "debug", "D", false, "log debug messages")
	fl.BoolVarP(&fo.Trace, "trace", "V", false, "log protocol traffic")
	fl.IntVar(&fo.MaxTracedMsgLen, "max-traced-msg-len", 0, "cut traced message payloads to this many bytes (0: whole)")
	fl.BoolVar(&fo.Logtime, "logtime", true, "timestamp log lines")
	fl.BoolVar(&fo.LogtimeUTC, "logtime-utc", false, "log timestamps in UTC")
	fl.StringVarP(&fo.LogFile, "log", "l", "", "log to this file instead of stderr")
	fl.StringVar(&o.logSizeLimit, "log-size-limit", "0", "rotate the log file at this size")
	fl.BoolVar(&fo.Syslog, "syslog", false, "log to the local syslog")
	fl.StringVar(&fo.RemoteSyslog, "remote-syslog", "", "log to a remote syslog, e.g. udp://host:514")
	fl.IntVarP(&fo.HTTPPort, "http-port", "m", 0, "HTTP monitoring port (-1 for a random port)")
	fl.IntVar(&fo.HTTPSPort, "https-port", 0, "HTTPS monitoring port (needs TLS configured)")
	fl.StringVar(&fo.HTTPBasePath, "http-base-path", "", "path prefix of the monitoring endpoints")
	fl.IntVar(&fo.ProfPort, "prof-port", 0, "serve Go's pprof profiles on this port (-1 for a random port)")
	fl.BoolVar(&o.jetstream, "jetstream", false, "enable JetStream (also -js)")
	fl.StringVar(&o.storeDir, "store-dir", "", "JetStream storage directory (also -sd)")
	fl.StringVar(&o.domain, "domain", "", "JetStream domain")
	fl.StringVar(&o.cluster, "cluster", "", "listen for routes at this URL, e.g. nats://0.0.0.0:6222")
	fl.StringVar(&o.clusterName, "cluster-name", "", "cluster name (all servers of a cluster must agree)")
	fl.StringVar(&o.routes, "routes", "", "routes to solicit, comma separated, e.g. nats://host1:6222,nats://host2:6222")
	fl.StringVar(&o.clusterAdvertise, "cluster-advertise", "", "route URL advertised to other servers")
	fl.BoolVar(&o.noAdvertise, "no-advertise", false, "do not push cluster members' client URLs to clients")
	fl.IntVar(&o.connectRetries, "connect-retries", 0, "times an implicit route is retried")
	for _, a := range []string{"cluster-name", "cluster-advertise", "no-advertise", "connect-retries"} {
		alias := strings.ReplaceAll(a, "-", "_")
		fl.AddFlag(&pflag.Flag{Name: alias, Usage: "alias of --" + a, Value: fl.Lookup(a).Value, DefValue: fl.Lookup(a).DefValue, NoOptDefVal: fl.Lookup(a).NoOptDefVal, Hidden: true})
	}
	fl.StringVarP(&fo.PidFile, "pid", "P", "", "write the process id to this file")
	fl.StringVar(&fo.PortsFileDir, "ports-file-dir", "", "write a <program>_<pid>.ports file listing the listen URLs here")
	return cmd
}

var globalFlagsSection = regexp.MustCompile(`(?s)\{\{if \.HasAvailableInheritedFlags\}\}.*?\{\{end\}\}`)

// run starts the broker and blocks until it is stopped.
func run(io *cmdutil.IOStreams, o *serveOptions) error {
	if err := o.parseSizeFlags(); err != nil {
		return &cmdutil.UsageError{Err: err}
	}
	opts, warns, err := o.load()
	if o.testOnly {
		return checkConfig(io.Out, io.ErrOut, o, opts, warns, err)
	}
	if err != nil {
		return configError(err)
	}
	log, err := newLogger(io.ErrOut, &opts)
	if err != nil {
		return err
	}
	defer log.Close()
	for _, w := range warns {
		log.Warnf("%s", w)
	}
	opts.Logger = log
	s, err := server.New(opts)
	if err != nil {
		return err
	}
	s.SetReloader(func() error { return reload(s, o, log, io.ErrOut) })
	if opts.PidFile != "" {
		if err := os.WriteFile(opts.PidFile, []byte(fmt.Sprint(os.Getpid())), 0o644); err != nil {
			return fmt.Errorf("write pid file: %w", err)
		}
		defer os.Remove(opts.PidFile)
	}
	stopSignals := handleSignals(s, log)
	defer stopSignals()
	var portsFile string
	if opts.PortsFileDir != "" {
		s.SetOnReady(func() {
			path, err := writePortsFile(opts.PortsFileDir, s)
			if err != nil {
				log.Errorf("Error writing ports file: %v", err)
				return
			}
			portsFile = path
		})
	}
	if err := s.Start(); err != nil {
		return err
	}
	if portsFile != "" {
		defer os.Remove(portsFile)
	}
	s.WaitForShutdown()
	return nil
}

// reload re-reads the configuration and applies what may change.
func reload(s *server.Server, o *serveOptions, log *logger.Logger, stderr io.Writer) error {
	prev := s.Options()
	opts, warns, err := o.load()
	if err != nil {
		log.Errorf("Configuration reload failed; the running configuration stays in force:\n%v", err)
		return err
	}
	for _, w := range warns {
		log.Warnf("%s", w)
	}
	res, err := s.ReloadOptions(opts)
	if err != nil {
		log.Errorf("Configuration reload failed; the running configuration stays in force: %v", err)
		return err
	}
	if logDestination(&prev) != logDestination(&opts) {
		next, err := newLogger(stderr, &opts)
		if err != nil {
			log.Errorf("Reload: keeping the current log destination: %v", err)
		} else {
			log.Redirect(next)
		}
	}
	log.SetOptions(loggerOptions(&opts))
	if len(res.Changed) > 0 {
		log.Noticef("Reload applied changes to %s", strings.Join(res.Changed, ", "))
	}
	return nil
}

// logDestination identifies where the logs go, to see if a reload moves them.
func logDestination(o *server.Options) string {
	return fmt.Sprintf("%s|%d|%d|%t|%s", o.LogFile, o.LogSizeLimit, o.LogMaxFiles, o.Syslog, o.RemoteSyslog)
}

func loggerOptions(o *server.Options) logger.Options {
	return logger.Options{
		Time: o.Logtime, UTC: o.LogtimeUTC, PID: true,
		Debug: o.Debug, Trace: o.Trace || o.TraceVerbose,
	}
}

// newLogger builds the logger the options ask for; as in nats-server a
// log file wins over remote syslog, which wins over local syslog.
func newLogger(stderr io.Writer, o *server.Options) (*logger.Logger, error) {
	lo := loggerOptions(o)
	switch {
	case o.LogFile != "":
		return logger.NewFile(logger.FileOptions{
			Path: o.LogFile, SizeLimit: o.LogSizeLimit, MaxFiles: int(o.LogMaxFiles),
		}, lo)
	case o.RemoteSyslog != "":
		return logger.NewSyslog(o.RemoteSyslog, syslogTag(), lo)
	case o.Syslog:
		return logger.NewSyslog("", syslogTag(), lo)
	}
	return logger.New(stderr, lo), nil
}

// syslogTag is the program name, so a nats-server link logs as nats-server.
func syslogTag() string { return filepath.Base(os.Args[0]) }

// checkConfig is --test: report every problem, exit non-zero on errors.
func checkConfig(out, errOut io.Writer, o *serveOptions, opts server.Options, warns []server.ConfigIssue, err error) error {
	if o.configFile == "" {
		return &cmdutil.UsageError{Err: errors.New("must specify --config to check a configuration file")}
	}
	for _, w := range warns {
		fmt.Fprintf(errOut, "warning: %s\n", w)
	}
	if err != nil {
		return configError(err)
	}
	if _, err := server.New(opts); err != nil {
		return fmt.Errorf("%s: %w", o.configFile, err)
	}
	fmt.Fprintf(out, "configuration file %s is valid (%s)\n", o.configFile, opts.ConfigDigest)
	return nil
}

func configError(err error) error {
	return fmt.Errorf("configuration error:\n%w", err)
}
