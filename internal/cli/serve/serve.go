// Package servecmd implements `sluice serve` and the nats-server
// personality. It is the only CLI package that imports internal/server.
package servecmd

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/logger"
	"github.com/sluicehq/sluice/internal/server"
)

// serveOptions is everything `serve` needs: the broker's options and how
// to log.
type serveOptions struct {
	srv     server.Options
	log     logger.Options
	logFile string
	pidFile string
	// sizes and durations as typed by the user, parsed in run
	maxPayload, maxPending string
}

// New returns the `serve` command.
func New(f *cmdutil.Factory) *cobra.Command {
	o := &serveOptions{log: logger.Options{Time: true, PID: true}}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the NATS-compatible broker",
		Long: `Run the broker. Clients connect with any NATS client library or tool.

Invoked through a link named nats-server, the binary accepts nats-server's
own flags (-a, -p, -n, -DV, ...), so harnesses that launch nats-server work.`,
		Example: `  sluice serve                 # listen on 0.0.0.0:4222
  sluice serve -p -1 -n edge1  # random port, named server`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(f.IO, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.srv.Host, "addr", "a", server.DefaultHost, "host address to listen on")
	fl.IntVarP(&o.srv.Port, "port", "p", server.DefaultPort, "client port (-1 for a random port)")
	fl.StringVarP(&o.srv.ServerName, "name", "n", "", "server name (default: the server ID)")
	fl.StringVar(&o.maxPayload, "max-payload", "1MB", "largest message payload accepted")
	fl.StringVar(&o.maxPending, "max-pending", "64MB", "bytes buffered for a client before it is cut as a slow consumer")
	fl.IntVar(&o.srv.MaxConn, "max-connections", server.DefaultMaxConnections, "most client connections at once")
	fl.IntVar(&o.srv.MaxSubs, "max-subscriptions", 0, "most subscriptions per connection (0 = unlimited)")
	fl.Int32Var(&o.srv.MaxControlLine, "max-control-line", server.DefaultMaxControlLine, "longest protocol line accepted")
	fl.DurationVar(&o.srv.PingInterval, "ping-interval", server.DefaultPingInterval, "interval between keep-alive PINGs")
	fl.IntVar(&o.srv.MaxPingsOut, "ping-max", server.DefaultPingMax, "unanswered PINGs before a connection is stale")
	fl.DurationVar(&o.srv.WriteDeadline, "write-deadline", server.DefaultWriteDeadline, "longest a write to a client may block")
	fl.DurationVar(&o.srv.AuthTimeout, "auth-timeout", server.DefaultAuthTimeout, "time a client has to authenticate")
	fl.StringVar(&o.srv.Username, "user", "", "user required of connections")
	fl.StringVar(&o.srv.Password, "pass", "", "password required of connections")
	fl.StringVar(&o.srv.Authorization, "auth", "", "token required of connections")
	fl.BoolVarP(&o.log.Debug, "debug", "D", false, "log debug messages")
	fl.BoolVarP(&o.log.Trace, "trace", "V", false, "log protocol traffic")
	fl.StringVarP(&o.logFile, "log", "l", "", "log to this file instead of stderr")
	fl.StringVarP(&o.pidFile, "pid", "P", "", "write the process id to this file")
	return cmd
}

// run starts the broker and blocks until a signal stops it.
func run(io *cmdutil.IOStreams, o *serveOptions) error {
	if o.maxPayload != "" {
		n, err := parseSize(o.maxPayload)
		if err != nil || n > 1<<31-1 {
			return &cmdutil.UsageError{Err: fmt.Errorf("invalid --max-payload %q: want a size such as 1048576 or 1MB", o.maxPayload)}
		}
		o.srv.MaxPayload = int32(n)
	}
	if o.maxPending != "" {
		n, err := parseSize(o.maxPending)
		if err != nil {
			return &cmdutil.UsageError{Err: fmt.Errorf("invalid --max-pending %q: want a size such as 67108864 or 64MB", o.maxPending)}
		}
		o.srv.MaxPending = n
	}
	logw := io.ErrOut
	if o.logFile != "" {
		f, err := os.OpenFile(o.logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
		if err != nil {
			return fmt.Errorf("open log file: %w", err)
		}
		defer f.Close()
		logw = f
	}
	log := logger.New(logw, o.log)
	o.srv.Logger = log
	o.srv.Debug, o.srv.Trace = o.log.Debug, o.log.Trace
	s, err := server.New(o.srv)
	if err != nil {
		return err
	}
	if o.pidFile != "" {
		if err := os.WriteFile(o.pidFile, []byte(fmt.Sprint(os.Getpid())), 0o644); err != nil {
			return fmt.Errorf("write pid file: %w", err)
		}
		defer os.Remove(o.pidFile)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	if err := s.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { s.WaitForShutdown(); close(done) }()
	select {
	case sig := <-sigs:
		if sig == syscall.SIGQUIT {
			log.Noticef("Trapped %q signal, exiting immediately", sig)
			os.Exit(0)
		}
		log.Noticef("Trapped %q signal", sig)
		stopped := make(chan struct{})
		go func() { s.Shutdown(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(30 * time.Second):
			log.Warnf("Shutdown took longer than 30s; exiting")
		}
	case <-done:
	}
	return nil
}
