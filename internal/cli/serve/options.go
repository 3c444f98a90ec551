package servecmd

import (
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/server/jetstream"
)

// serveOptions is what `serve` was asked to do: flag values, which flags
// were given, and the configuration file to read under them.
type serveOptions struct {
	flags      server.Options  // values from the command line
	changed    map[string]bool // canonical names of the flags given
	configFile string
	testOnly   bool
	lenient    bool // unknown top-level configuration keys only warn
	strict     bool // the default now; kept so scripts passing it still work
	signal     string
	// JetStream flags (-js, -sd, --domain), put over the file's settings
	jetstream        bool
	storeDir, domain string
	// cluster flags, put over the file's cluster {} block
	cluster, clusterName, routes, clusterAdvertise string
	noAdvertise                                    bool
	connectRetries                                 int
	// sizes as typed, parsed when the options are built
	maxPayload, maxPending, logSizeLimit string
}

func newServeOptions() *serveOptions {
	return &serveOptions{
		flags:   server.Options{Logtime: true},
		changed: map[string]bool{},
	}
}

// overlay copies one command-line value over the configuration's; flags
// always win over the file.
var overlay = map[string]func(dst, src *server.Options){
	"addr":               func(d, s *server.Options) { d.Host = s.Host },
	"port":               func(d, s *server.Options) { d.Port = s.Port },
	"name":               func(d, s *server.Options) { d.ServerName = s.ServerName },
	"client-advertise":   func(d, s *server.Options) { d.ClientAdvertise = s.ClientAdvertise },
	"max-payload":        func(d, s *server.Options) { d.MaxPayload = s.MaxPayload },
	"max-pending":        func(d, s *server.Options) { d.MaxPending = s.MaxPending },
	"max-connections":    func(d, s *server.Options) { d.MaxConn = s.MaxConn },
	"max-subscriptions":  func(d, s *server.Options) { d.MaxSubs = s.MaxSubs },
	"max-control-line":   func(d, s *server.Options) { d.MaxControlLine = s.MaxControlLine },
	"ping-interval":      func(d, s *server.Options) { d.PingInterval = s.PingInterval },
	"ping-max":           func(d, s *server.Options) { d.MaxPingsOut = s.MaxPingsOut },
	"write-deadline":     func(d, s *server.Options) { d.WriteDeadline = s.WriteDeadline },
	"auth-timeout":       func(d, s *server.Options) { d.AuthTimeout = s.AuthTimeout },
	"user":               func(d, s *server.Options) { d.Username = s.Username },
	"pass":               func(d, s *server.Options) { d.Password = s.Password },
	"auth":               func(d, s *server.Options) { d.Authorization = s.Authorization },
	"debug":              func(d, s *server.Options) { d.Debug = s.Debug },
	"trace":              func(d, s *server.Options) { d.Trace = s.Trace },
	"trace-verbose":      func(d, s *server.Options) { d.TraceVerbose = s.TraceVerbose },
	"max-traced-msg-len": func(d, s *server.Options) { d.MaxTracedMsgLen = s.MaxTracedMsgLen },
	"logtime":            func(d, s *server.Options) { d.Logtime = s.Logtime },
	"logtime-utc":        func(d, s *server.Options) { d.LogtimeUTC = s.LogtimeUTC },
	"log":                func(d, s *server.Options) { d.LogFile = s.LogFile },
	"log-size-limit":     func(d, s *server.Options) { d.LogSizeLimit = s.LogSizeLimit },
	"syslog":             func(d, s *server.Options) { d.Syslog = s.Syslog },
	"remote-syslog":      func(d, s *server.Options) { d.RemoteSyslog = s.RemoteSyslog },
	"http-port":          func(d, s *server.Options) { d.HTTPPort = s.HTTPPort },
	"https-port":         func(d, s *server.Options) { d.HTTPSPort = s.HTTPSPort },
	"http-base-path":     func(d, s *server.Options) { d.HTTPBasePath = s.HTTPBasePath },
	"prof-port":          func(d, s *server.Options) { d.ProfPort = s.ProfPort },
	"pid":                func(d, s *server.Options) { d.PidFile = s.PidFile },
	"ports-file-dir":     func(d, s *server.Options) { d.PortsFileDir = s.PortsFileDir },
}

// parseSizeFlags turns the size flags typed as text into numbers.
func (o *serveOptions) parseSizeFlags() error {
	for _, f := range []struct {
		name, text string
		max        int64
		set        func(int64)
	}{
		{"max-payload", o.maxPayload, 1<<31 - 1, func(n int64) { o.flags.MaxPayload = int32(n) }},
		{"max-pending", o.maxPending, 1 << 62, func(n int64) { o.flags.MaxPending = n }},
		{"log-size-limit", o.logSizeLimit, 1 << 62, func(n int64) { o.flags.LogSizeLimit = n }},
	} {
		if !o.changed[f.name] {
			continue
		}
		n, err := parseSize(f.text)
		if err != nil || n > f.max {
			return fmt.Errorf("invalid --%s %q: want a size such as 1048576 or 1MB", f.name, f.text)
		}
		f.set(n)
	}
	return nil
}

// load builds the options in force: the configuration file, if any, with
// the command-line flags over it. It is run at start and on every reload.
func (o *serveOptions) load() (server.Options, []server.ConfigIssue, error) {
	opts := server.Options{Logtime: true}
	var warns []server.ConfigIssue
	if o.configFile != "" {
		w, err := opts.ProcessConfigFile(o.configFile, !o.lenient)
		if err != nil {
			return opts, w, err
		}
		warns = w
	}
	for name := range o.changed {
		if apply, ok := overlay[name]; ok {
			apply(&opts, &o.flags)
		}
	}
	if err := o.applyTLSFlags(&opts); err != nil {
		return opts, warns, err
	}
	o.applyJetStreamFlags(&opts)
	if err := o.applyClusterFlags(&opts); err != nil {
		return opts, warns, err
	}
	return opts, warns, nil
}

// tlsFlags are the --tls* flags; any of them given, and not --tls=false,
// builds the client TLS configuration from them, as in nats-server.
var tlsFlags = map[string]func(dst, src *server.Options){
	"tls":       func(d, s *server.Options) { d.TLS = s.TLS },
	"tlscert":   func(d, s *server.Options) { d.TLSCert = s.TLSCert },
	"tlskey":    func(d, s *server.Options) { d.TLSKey = s.TLSKey },
	"tlscacert": func(d, s *server.Options) { d.TLSCaCert = s.TLSCaCert },
	"tlsverify": func(d, s *server.Options) { d.TLSVerify = s.TLSVerify },
}

// applyTLSFlags puts the --tls* flags over the file's TLS settings. Files
// a flag leaves out come from the file's tls {} block, and are read again
// on every reload, so renewed certificates are picked up.
func (o *serveOptions) applyTLSFlags(opts *server.Options) error {
	given := false
	for name, apply := range tlsFlags {
		if o.changed[name] {
			apply(opts, &o.flags)
			given = true
		}
	}
	switch {
	case !given:
		return nil
	case o.changed["tls"] && !o.flags.TLS:
		opts.TLS, opts.TLSConfig = false, nil
		return nil
	}
	if err := opts.SetTLSFromFlags(); err != nil {
		return fmt.Errorf("TLS from command-line flags: %w", err)
	}
	return nil
}

// applyJetStreamFlags puts -js, -sd and --domain over the file's
// jetstream settings.
func (o *serveOptions) applyJetStreamFlags(opts *server.Options) {
	if !o.changed["jetstream"] && !o.changed["store-dir"] && !o.changed["domain"] {
		return
	}
	var c jetstream.Config
	if opts.JetStream != nil {
		c = *opts.JetStream
	}
	if o.changed["jetstream"] {
		c.Enabled = o.jetstream
	}
	if o.changed["store-dir"] {
		c.StoreDir = o.storeDir
	}
	if o.changed["domain"] {
		c.Domain = o.domain
	}
	opts.JetStream = &c
}

// NormalizeArgs turns nats-server's single-dash spellings that pflag
// cannot take (-js, -sd) into sluice serve's long flags.
func NormalizeArgs(args []string) []string {
	if len(args) == 0 || args[0] != "serve" {
		return args
	}
	out := make([]string, len(args))
	for i, a := range args {
		switch {
		case a == "-js":
			a = "--jetstream"
		case a == "-sd":
			a = "--store-dir"
		case strings.HasPrefix(a, "-sd="):
			a = "--store-dir=" + a[len("-sd="):]
		}
		out[i] = a
	}
	return out
}
