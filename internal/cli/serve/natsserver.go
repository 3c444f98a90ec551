package servecmd

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
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
	{[]string{"VV"}, true, "system account tracing"},
}

// RunNATSServer runs the nats-server personality: nats-server's own flag
// spellings in front of the same broker as `sluice serve`.
func RunNATSServer(io *cmdutil.IOStreams, prog string, args []string) int {
	o := newServeOptions()
	fo := &o.flags
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	fs.SetOutput(io.ErrOut)
	// canonical maps each nats-server spelling to the serve flag it sets.
	canonical := map[string][]string{}
	str := func(p *string, def, canon, usage string, names ...string) {
		for _, n := range names {
			fs.StringVar(p, n, def, usage)
			canonical[n] = []string{canon}
		}
	}
	num := func(p *int, def int, canon, usage string, names ...string) {
		for _, n := range names {
			fs.IntVar(p, n, def, usage)
			canonical[n] = []string{canon}
		}
	}
	boolean := func(p *bool, def bool, canon []string, usage string, names ...string) {
		for _, n := range names {
			fs.BoolVar(p, n, def, usage)
			canonical[n] = canon
		}
	}
	var showVersion, dv, dvv, helpTLS bool
	str(&fo.Host, server.DefaultHost, "addr", "host address to listen on", "a", "addr", "net")
	num(&fo.Port, server.DefaultPort, "port", "client port (-1 for random)", "p", "port")
	str(&fo.ServerName, "", "name", "server name", "n", "name", "server_name")
	str(&fo.ClientAdvertise, "", "client-advertise", "client URL advertised to peers", "client_advertise")
	str(&o.configFile, "", "config", "configuration file", "c", "config")
	boolean(&o.testOnly, false, nil, "test the configuration and exit", "t")
	str(&o.signal, "", "signal", "send a signal to a running server: reload, reopen, ldm, stop, quit, term [=PID|PIDFILE]", "sl", "signal")
	boolean(&showVersion, false, nil, "print the version and exit", "v", "version")
	boolean(&helpTLS, false, nil, "show TLS help", "help_tls")
	boolean(&fo.Debug, false, []string{"debug"}, "enable debug logging", "D", "debug")
	boolean(&fo.Trace, false, []string{"trace"}, "enable protocol tracing", "V", "trace")
	boolean(&dv, false, []string{"debug", "trace"}, "debug and trace", "DV")
	boolean(&dvv, false, []string{"debug", "trace"}, "debug and verbose trace", "DVV")
	boolean(&fo.Logtime, true, []string{"logtime"}, "timestamp log lines", "T", "logtime")
	boolean(&fo.LogtimeUTC, false, []string{"logtime-utc"}, "log timestamps in UTC", "logtime_utc")
	str(&fo.LogFile, "", "log", "log file", "l", "log")
	num(&fo.MaxTracedMsgLen, 0, "max-traced-msg-len", "maximum printable length of traced messages", "max_traced_msg_len")
	str(&o.logSizeLimit, "0", "log-size-limit", "rotate the log file at this size", "log_size_limit")
	boolean(&fo.Syslog, false, []string{"syslog"}, "log to syslog", "s", "syslog")
	str(&fo.RemoteSyslog, "", "remote-syslog", "remote syslog address", "r", "remote_syslog")
	num(&fo.HTTPPort, 0, "http-port", "HTTP monitoring port", "m", "http_port")
	num(&fo.HTTPSPort, 0, "https-port", "HTTPS monitoring port", "ms", "https_port")
	str(&fo.HTTPBasePath, "", "http-base-path", "HTTP monitoring base path", "http_base_path")
	num(&fo.ProfPort, 0, "prof-port", "profiling port", "profile")
	boolean(&o.jetstream, false, []string{"jetstream"}, "enable JetStream", "js", "jetstream")
	str(&o.storeDir, "", "store-dir", "JetStream storage directory", "sd", "store_dir")
	str(&o.domain, "", "domain", "JetStream domain", "domain")
	str(&fo.PidFile, "", "pid", "pid file", "P", "pid")
	str(&fo.PortsFileDir, "", "ports-file-dir", "directory for the ports file", "ports_file_dir")
	boolean(&fo.TLS, false, []string{"tls"}, "enable TLS", "tls")
	boolean(&fo.TLSVerify, false, []string{"tlsverify"}, "enable TLS with client verification", "tlsverify")
	str(&fo.TLSCert, "", "tlscert", "server certificate file", "tlscert")
	str(&fo.TLSKey, "", "tlskey", "server private key file", "tlskey")
	str(&fo.TLSCaCert, "", "tlscacert", "client certificate CA for verification", "tlscacert")
	str(&o.cluster, "", "cluster", "cluster URL for solicited routes", "cluster", "cluster_listen")
	str(&o.clusterName, "", "cluster-name", "cluster name", "cluster_name")
	str(&o.routes, "", "routes", "routes to solicit and connect", "routes")
	str(&o.clusterAdvertise, "", "cluster-advertise", "cluster URL to advertise to other servers", "cluster_advertise")
	boolean(&o.noAdvertise, false, []string{"no-advertise"}, "do not advertise known cluster IPs to clients", "no_advertise")
	num(&o.connectRetries, 0, "connect-retries", "number of connect retries for implicit routes", "connect_retries")
	str(&fo.Username, "", "user", "user required for connections", "user")
	str(&fo.Password, "", "pass", "password required for connections", "pass")
	str(&fo.Authorization, "", "auth", "token required for connections", "auth")
	warned := map[string]string{}
	for _, u := range unsupportedFlags {
		for _, n := range u.names {
			if u.boolean {
				fs.Bool(n, false, u.feature+" (not supported yet)")
			} else {
				fs.String(n, "", u.feature+" (not supported yet)")
			}
			warned[n] = u.feature
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cmdutil.ExitOK
		}
		return cmdutil.ExitUsage
	}
	if rest := fs.Args(); len(rest) > 0 {
		switch rest[0] {
		case "version":
			showVersion = true
		case "help":
			fs.Usage()
			return cmdutil.ExitOK
		default:
			fmt.Fprintf(io.ErrOut, "%s: unrecognized command: %q\n", prog, rest[0])
			return cmdutil.ExitUsage
		}
	}
	if showVersion {
		fmt.Fprintf(io.Out, "nats-server: v%s (sluice %s)\n", version.NATSCompat, version.Version)
		return cmdutil.ExitOK
	}
	if helpTLS {
		fmt.Fprint(io.Out, tlsHelp)
		return cmdutil.ExitOK
	}
	if dv || dvv {
		fo.Debug, fo.Trace = true, true
	}
	fs.Visit(func(f *flag.Flag) {
		for _, c := range canonical[f.Name] {
			o.changed[c] = true
		}
	})
	warnUnsupported(io.ErrOut, fs, warned)
	var err error
	if o.signal != "" {
		err = sendSignal(io.Out, o.signal)
	} else {
		err = run(io, o)
	}
	if err != nil {
		fmt.Fprintf(io.ErrOut, "%s: %v\n", prog, err)
		return cmdutil.ExitCode(err)
	}
	return cmdutil.ExitOK
}

const tlsHelp = `TLS options:
    --tls                        Enable TLS; --tls=false turns a tls {} block off
    --tlscert <file>             Server certificate file
    --tlskey <file>              Private key for the server certificate
    --tlsverify                  Enable TLS and require verified client certificates
    --tlscacert <file>           CA certificates client certificates are verified against

Any of these builds the client TLS settings from the flags, replacing the
cipher suites, curves and minimum version of a tls {} block; its timeout,
pinned_certs, handshake_first and verify_and_map still apply.
`

func warnUnsupported(w io.Writer, fs *flag.FlagSet, warned map[string]string) {
	var lines []string
	fs.Visit(func(f *flag.Flag) {
		if feature, ok := warned[f.Name]; ok {
			lines = append(lines, fmt.Sprintf("warning: flag -%s (%s) is not supported yet; ignored", f.Name, feature))
		}
	})
	sort.Strings(lines)
	if len(lines) > 0 {
		fmt.Fprintln(w, strings.Join(lines, "\n"))
	}
}
