package server

import (
	"net"
	"strconv"

	"github.com/sluicehq/sluice/pkg/conf"
)

// addMonitorKeys registers the HTTP monitoring options: http_port (alias
// monitor_port), https_port, http and https ("host:port" or a port),
// http_host and http_base_path.
func addMonitorKeys(m map[string]keyHandler) {
	port := func(set func(*Options, int)) keyHandler {
		return intOpt(-1, 65535, func(o *Options, n int64) { set(o, int(n)) })
	}
	alias(m, port(func(o *Options, p int) { o.HTTPPort = p }), "http_port", "monitor_port")
	m["https_port"] = port(func(o *Options, p int) { o.HTTPSPort = p })
	m["http"] = hostPortOpt(func(o *Options, p int) { o.HTTPPort = p })
	m["https"] = hostPortOpt(func(o *Options, p int) { o.HTTPSPort = p })
	m["http_host"] = strOpt(func(o *Options, s string) { o.HTTPHost = s })
	m["http_base_path"] = strOpt(func(o *Options, s string) { o.HTTPBasePath = s })
}

// hostPortOpt reads a listen address given as "host:port" or as a port.
func hostPortOpt(setPort func(*Options, int)) keyHandler {
	return func(r *configReader, key string, it *conf.Item) {
		if n, ok := it.Value.(int64); ok {
			if n < -1 || n > 65535 {
				r.errorf(it.Pos, "'%s' port must be between -1 and 65535, got %d", key, n)
				return
			}
			setPort(r.opts, int(n))
			return
		}
		s, ok := it.Value.(string)
		if !ok {
			r.errorf(it.Pos, "'%s' must be host:port or a port, not %s", key, typeName(it.Value))
			return
		}
		host, port, err := net.SplitHostPort(s)
		p, perr := strconv.Atoi(port)
		if err != nil || perr != nil || p < -1 || p > 65535 {
			r.errorf(it.Pos, "'%s' must be host:port, got %q", key, s)
			return
		}
		r.opts.HTTPHost = host
		setPort(r.opts, p)
	}
}
