package server

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/conf"
)

// ConfigIssue is one problem found while reading a configuration file.
type ConfigIssue struct {
	Pos     conf.Pos
	Msg     string
	Warning bool
}

func (i ConfigIssue) String() string {
	if i.Pos.File == "" && i.Pos.Line == 0 {
		return i.Msg
	}
	return i.Pos.String() + ": " + i.Msg
}

// ConfigError lists every error found in a configuration, one per line.
type ConfigError struct{ Issues []ConfigIssue }

func (e *ConfigError) Error() string {
	lines := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		lines[i] = is.String()
	}
	return strings.Join(lines, "\n")
}

// ProcessConfigFile reads the configuration file at path into o, over
// whatever o already holds. It returns the warnings (options for features
// sluice has not built yet that are safe to ignore, deprecated forms); the
// error, a *ConfigError or a *conf.Error, lists every problem found. With
// strict (what sluice serve does unless --lenient), unknown keys are
// errors, as nats-server treats them; without it, unknown top-level keys
// only warn. Unknown keys inside security blocks and the options listed in
// refusedKeys are errors either way.
func (o *Options) ProcessConfigFile(path string, strict bool) ([]ConfigIssue, error) {
	m, err := conf.ParseFileWithPositions(path)
	if err != nil {
		return nil, err
	}
	digest, err := conf.Digest(m)
	if err != nil {
		return nil, err
	}
	r := &configReader{opts: o, strict: strict}
	for _, e := range sortedEntries(m) {
		k := strings.ToLower(e.key)
		if h, ok := topLevelKeys[k]; ok {
			h(r, e.key, e.item)
			continue
		}
		if r.refuse(k, e.key, e.item) {
			continue
		}
		if _, ok := unbuiltKeys[k]; ok {
			r.warnf(e.item.KeyPos, "'%s' is not supported yet; ignored", e.key)
			continue
		}
		if e.item.Referenced {
			continue // defined only to be used as a $variable
		}
		if strict {
			r.errorf(e.item.KeyPos, "unknown field %q%s", e.key, didYouMean(k))
		} else {
			r.warnf(e.item.KeyPos, "unknown field %q; ignored%s", e.key, didYouMean(k))
		}
	}
	o.ConfigFile, o.ConfigDigest = path, digest
	r.checkCombinations()
	if len(r.errs) > 0 {
		return r.warns, &ConfigError{Issues: r.errs}
	}
	return r.warns, nil
}

type entry struct {
	key  string
	item *conf.Item
}

// sortedEntries returns a map's entries in the order they were written,
// so messages come out in file order.
func sortedEntries(m map[string]any) []entry {
	es := make([]entry, 0, len(m))
	for k, v := range m {
		it, ok := v.(*conf.Item)
		if !ok {
			it = &conf.Item{Value: v}
		}
		es = append(es, entry{k, it})
	}
	sort.Slice(es, func(i, j int) bool {
		a, b := es[i].item.KeyPos, es[j].item.KeyPos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return es
}

type configReader struct {
	opts   *Options
	strict bool
	warns  []ConfigIssue
	errs   []ConfigIssue
	// positions of keys checked together after the pass
	userKeyPos, tokenPos, usersPos conf.Pos
	userPos                        map[string]conf.Pos // user or nkey -> its entry

	// tlsClient reads tls {} blocks for dialing out: no certificate needed.
	tlsClient bool
}

func (r *configReader) warnf(p conf.Pos, format string, a ...any) {
	r.warns = append(r.warns, ConfigIssue{Pos: p, Msg: fmt.Sprintf(format, a...), Warning: true})
}

func (r *configReader) errorf(p conf.Pos, format string, a ...any) {
	r.errs = append(r.errs, ConfigIssue{Pos: p, Msg: fmt.Sprintf(format, a...)})
}

// typeName describes a parsed value's type for error messages.
func typeName(v any) string { return conf.TypeName(v) }

func (r *configReader) str(key string, it *conf.Item) (string, bool) {
	s, ok := it.Value.(string)
	if !ok {
		r.errorf(it.Pos, "'%s' must be a string, not %s", key, typeName(it.Value))
	}
	return s, ok
}

func (r *configReader) integer(key string, it *conf.Item) (int64, bool) {
	n, ok := it.Value.(int64)
	if !ok {
		r.errorf(it.Pos, "'%s' must be a whole number (sizes such as 1MB allowed), not %s", key, typeName(it.Value))
	}
	return n, ok
}

func (r *configReader) boolean(key string, it *conf.Item) (bool, bool) {
	b, ok := it.Value.(bool)
	if !ok {
		r.errorf(it.Pos, "'%s' must be true or false, not %s", key, typeName(it.Value))
	}
	return b, ok
}

// duration reads a Go duration string; a bare number is taken as seconds
// with a warning, as nats-server does.
func (r *configReader) duration(key string, it *conf.Item) (time.Duration, bool) {
	switch v := it.Value.(type) {
	case string:
		d, err := time.ParseDuration(v)
		if err != nil {
			r.errorf(it.Pos, "'%s': invalid duration %q (want e.g. \"10s\", \"2m\")", key, v)
			return 0, false
		}
		return d, true
	case int64:
		r.warnf(it.Pos, "%s should be converted to a duration", key)
		return time.Duration(v) * time.Second, true
	case float64:
		r.warnf(it.Pos, "%s should be converted to a duration", key)
		return time.Duration(v * float64(time.Second)), true
	}
	r.errorf(it.Pos, "'%s' must be a duration such as \"10s\", not %s", key, typeName(it.Value))
	return 0, false
}

// seconds reads timeouts given as seconds (int or float) or a duration.
func (r *configReader) seconds(key string, it *conf.Item) (time.Duration, bool) {
	switch v := it.Value.(type) {
	case int64:
		return time.Duration(v) * time.Second, true
	case float64:
		return time.Duration(v * float64(time.Second)), true
	}
	return r.duration(key, it)
}

func (r *configReader) block(key string, it *conf.Item) (map[string]any, bool) {
	m, ok := it.Value.(map[string]any)
	if !ok {
		r.errorf(it.Pos, "'%s' must be a block {...}, not %s", key, typeName(it.Value))
	}
	return m, ok
}

type keyHandler func(r *configReader, key string, it *conf.Item)

// alias registers the same handler under several spellings.
func alias(m map[string]keyHandler, h keyHandler, names ...string) {
	for _, n := range names {
		m[n] = h
	}
}

func strOpt(set func(*Options, string)) keyHandler {
	return func(r *configReader, key string, it *conf.Item) {
		if s, ok := r.str(key, it); ok {
			set(r.opts, s)
		}
	}
}

func boolOpt(set func(*Options, bool)) keyHandler {
	return func(r *configReader, key string, it *conf.Item) {
		if b, ok := r.boolean(key, it); ok {
			set(r.opts, b)
		}
	}
}

func intOpt(min, max int64, set func(*Options, int64)) keyHandler {
	return func(r *configReader, key string, it *conf.Item) {
		n, ok := r.integer(key, it)
		if !ok {
			return
		}
		if n < min || n > max {
			r.errorf(it.Pos, "'%s' must be between %d and %d, got %d", key, min, max, n)
			return
		}
		set(r.opts, n)
	}
}

func durOpt(set func(*Options, time.Duration)) keyHandler {
	return func(r *configReader, key string, it *conf.Item) {
		if d, ok := r.duration(key, it); ok {
			set(r.opts, d)
		}
	}
}

const maxInt32 = 1<<31 - 1

var topLevelKeys = func() map[string]keyHandler {
	m := map[string]keyHandler{}
	m["listen"] = func(r *configReader, key string, it *conf.Item) {
		if n, ok := it.Value.(int64); ok { // a bare port
			if n < -1 || n > 65535 {
				r.errorf(it.Pos, "'listen' port must be between -1 and 65535, got %d", n)
				return
			}
			r.opts.Port = int(n)
			return
		}
		s, ok := r.str(key, it)
		if !ok {
			return
		}
		host, port, err := net.SplitHostPort(s)
		p, perr := strconv.Atoi(port)
		if err != nil || perr != nil {
			r.errorf(it.Pos, "'listen' must be host:port, got %q", s)
			return
		}
		r.opts.Host, r.opts.Port = host, p
	}
	alias(m, strOpt(func(o *Options, s string) { o.Host = s }), "host", "net")
	m["port"] = intOpt(-1, 65535, func(o *Options, n int64) { o.Port = int(n) })
	m["server_name"] = func(r *configReader, key string, it *conf.Item) {
		if s, ok := r.str(key, it); ok {
			if strings.ContainsAny(s, " \t") {
				r.errorf(it.Pos, "server name cannot contain spaces")
				return
			}
			r.opts.ServerName = s
		}
	}
	m["client_advertise"] = strOpt(func(o *Options, s string) { o.ClientAdvertise = s })
	m["debug"] = boolOpt(func(o *Options, b bool) { o.Debug = b })
	m["trace"] = boolOpt(func(o *Options, b bool) { o.Trace = b })
	m["trace_verbose"] = boolOpt(func(o *Options, b bool) { o.Trace, o.TraceVerbose = o.Trace || b, b })
	m["max_traced_msg_len"] = intOpt(0, 1<<31-1, func(o *Options, n int64) { o.MaxTracedMsgLen = int(n) })
	m["logtime"] = boolOpt(func(o *Options, b bool) { o.Logtime = b })
	m["logtime_utc"] = boolOpt(func(o *Options, b bool) { o.LogtimeUTC = b })
	m["syslog"] = boolOpt(func(o *Options, b bool) { o.Syslog = b })
	m["remote_syslog"] = strOpt(func(o *Options, s string) { o.RemoteSyslog = s })
	alias(m, strOpt(func(o *Options, s string) { o.LogFile = s }), "logfile", "log_file")
	alias(m, intOpt(0, 1<<62, func(o *Options, n int64) { o.LogSizeLimit = n }), "logfile_size_limit", "log_size_limit")
	alias(m, intOpt(-1<<31, maxInt32, func(o *Options, n int64) { o.LogMaxFiles = n }), "logfile_max_num", "log_max_num")
	alias(m, strOpt(func(o *Options, s string) { o.PidFile = s }), "pidfile", "pid_file")
	m["ports_file_dir"] = strOpt(func(o *Options, s string) { o.PortsFileDir = s })
	alias(m, intOpt(-1<<31, maxInt32, func(o *Options, n int64) {
		if n == 0 {
			n = -1 // nats-server stores 0 as "refuse everyone"
		}
		o.MaxConn = int(n)
	}), "max_connections", "max_conn")
	alias(m, intOpt(0, maxInt32, func(o *Options, n int64) { o.MaxSubs = int(n) }), "max_subscriptions", "max_subs")
	m["max_payload"] = intOpt(0, maxInt32, func(o *Options, n int64) { o.MaxPayload = int32(n) })
	m["max_control_line"] = intOpt(0, maxInt32, func(o *Options, n int64) { o.MaxControlLine = int32(n) })
	m["max_pending"] = intOpt(0, 1<<62, func(o *Options, n int64) { o.MaxPending = n })
	m["max_closed_clients"] = intOpt(0, maxInt32, func(o *Options, n int64) { o.MaxClosedClients = int(n) })
	m["ping_interval"] = durOpt(func(o *Options, d time.Duration) { o.PingInterval = d })
	m["ping_max"] = intOpt(1, maxInt32, func(o *Options, n int64) { o.MaxPingsOut = int(n) })
	m["write_deadline"] = durOpt(func(o *Options, d time.Duration) { o.WriteDeadline = d })
	m["lame_duck_duration"] = func(r *configReader, key string, it *conf.Item) {
		s, ok := r.str(key, it)
		if !ok {
			return
		}
		d, err := time.ParseDuration(s)
		switch {
		case err != nil:
			r.errorf(it.Pos, "invalid lame_duck_duration %q (want e.g. \"2m\")", s)
		case d < MinLameDuckDuration:
			r.errorf(it.Pos, "invalid lame_duck_duration of %v, minimum is 30 seconds", d)
		default:
			r.opts.LameDuckDuration = d
		}
	}
	m["lame_duck_grace_period"] = func(r *configReader, key string, it *conf.Item) {
		s, ok := r.str(key, it)
		if !ok {
			return
		}
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			r.errorf(it.Pos, "invalid lame_duck_grace_period %q (want e.g. \"10s\")", s)
			return
		}
		r.opts.LameDuckGracePeriod = d
	}
	m["no_header_support"] = boolOpt(func(o *Options, b bool) { o.NoHeaderSupport = b })
	alias(m, strOpt(func(o *Options, s string) { o.SystemAccount = s }), "system_account", "system")
	alias(m, boolOpt(func(o *Options, b bool) { o.NoSystemAccount = b }), "no_system_account", "no_system", "no_sys_acc")
	m["authorization"] = readAuthorization
	m["prof_port"] = intOpt(-1, 65535, func(o *Options, n int64) { o.ProfPort = int(n) })
	m["accounts"] = readAccounts
	m["jetstream"] = readJetStream
	m["cluster"] = readCluster
	alias(m, readStoreDir, "store_dir", "storedir")
	alias(m, readMappings, "mappings", "maps")
	m["no_auth_user"] = strOpt(func(o *Options, s string) { o.NoAuthUser = s })
	m["tls"] = readTLS
	m["allow_non_tls"] = boolOpt(func(o *Options, b bool) { o.AllowNonTLS = b })
	addMonitorKeys(m)
	addOperatorKeys(m)
	alias(m, readWebsocket, "websocket", "ws")
	// Accepted and meaningless for sluice: its match cache is always on and
	// error reports are not rate-limited.
	for _, k := range []string{"disable_sublist_cache", "no_sublist_cache", "connect_error_reports", "reconnect_error_reports"} {
		m[k] = func(r *configReader, key string, it *conf.Item) {
			r.warnf(it.KeyPos, "'%s' has no effect in sluice; ignored", key)
		}
	}
	return m
}()

// unbuiltKeys are nats-server options for features not built yet.
var unbuiltKeys = map[string]string{
	"ocsp": "TLS", "ocsp_cache": "TLS",
	"gateway": "gateways", "leaf": "leafnodes", "leafnodes": "leafnodes", "mqtt": "MQTT",
	"default_js_domain": "JetStream domains",
	"prof_block_rate":   "block profiling",
	"server_tags":       "server tags", "server_metadata": "server metadata", "max_sub_tokens": "subject token limits",
	"max_subscription_tokens": "subject token limits", "write_timeout": "write timeout policies",
	"proxy_protocol": "proxies", "proxies": "proxies", "feature_flags": "feature flags",
	"no_fast_producer_stall": "fast producer stalls", "trace_headers": "header tracing",
}

// checkCombinations reports settings that are fine alone but not together.
func (r *configReader) checkCombinations() {
	o := r.opts
	if o.Username != "" && o.Authorization != "" {
		r.errorf(r.tokenPos, "Cannot have a user/pass and token")
	}
	if len(o.Users)+len(o.Nkeys) > 0 && r.usersPos.Line > 0 {
		if o.Authorization != "" {
			r.errorf(r.tokenPos, "Can not have a token and a users array")
		}
		if o.Username != "" {
			r.errorf(r.userKeyPos, "Can not have a single user/pass and a users array")
		}
	}
	if o.MaxPayload > 0 && o.MaxPending > 0 && int64(o.MaxPayload) > o.MaxPending {
		r.errorf(conf.Pos{File: o.ConfigFile}, "max_payload (%d) can not be higher than max_pending (%d)", o.MaxPayload, o.MaxPending)
	}
}
