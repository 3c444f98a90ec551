package monitor

import (
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/pkg/api"
)

// /metrics renders the monitoring figures in the Prometheus text format
// (version 0.0.4), so no exporter sidecar is needed. Names follow
// prometheus-nats-exporter, <namespace>_<endpoint>_<json field> with a
// server_id label, so its dashboards work unchanged:
//
//	gnatsd_varz_*       every numeric /varz field; server_name, version and
//	                    sluice_version as "value" labels of a constant 1;
//	                    http_req_stats with an "endpoint" label
//	gnatsd_connz_*      num_connections, total and the sums over all open
//	                    connections of pending_bytes, subscriptions,
//	                    in/out_msgs and in/out_bytes
//	gnatsd_subsz_*      the subscription index statistics
//	gnatsd_routez_num_routes, gnatsd_leafz_leafnodes
//	gnatsd_healthz_status           0 healthy, 1 not
//	gnatsd_accstatz_*   per account (labels account, account_id,
//	                    account_name): current_connections,
//	                    total_connections, subscriptions, leaf_nodes,
//	                    sent/received_messages and _bytes, slow_consumers
//
// Cumulative figures are typed counter, the rest gauge.

const (
	metricsNamespace   = "gnatsd"
	metricsContentType = "text/plain; version=0.0.4; charset=utf-8"
)

type varzMetric struct {
	name, help string
	counter    bool
	value      func(v *api.Varz) float64
}

var varzMetrics = []varzMetric{
	{"connections", "Client connections open now", false, func(v *api.Varz) float64 { return float64(v.Connections) }},
	{"total_connections", "Client connections accepted since start", true, func(v *api.Varz) float64 { return float64(v.TotalConnections) }},
	{"routes", "Route connections open now", false, func(v *api.Varz) float64 { return float64(v.Routes) }},
	{"remotes", "Configured route remotes", false, func(v *api.Varz) float64 { return float64(v.Remotes) }},
	{"leafnodes", "Leafnode connections open now", false, func(v *api.Varz) float64 { return float64(v.Leafs) }},
	{"subscriptions", "Subscriptions in all accounts", false, func(v *api.Varz) float64 { return float64(v.Subscriptions) }},
	{"in_msgs", "Messages received", true, func(v *api.Varz) float64 { return float64(v.InMsgs) }},
	{"in_bytes", "Payload bytes received", true, func(v *api.Varz) float64 { return float64(v.InBytes) }},
	{"out_msgs", "Messages sent", true, func(v *api.Varz) float64 { return float64(v.OutMsgs) }},
	{"out_bytes", "Payload bytes sent", true, func(v *api.Varz) float64 { return float64(v.OutBytes) }},
	{"in_client_msgs", "Messages received from clients", true, func(v *api.Varz) float64 { return float64(v.InClientMsgs) }},
	{"in_client_bytes", "Payload bytes received from clients", true, func(v *api.Varz) float64 { return float64(v.InClientBytes) }},
	{"out_client_msgs", "Messages sent to clients", true, func(v *api.Varz) float64 { return float64(v.OutClientMsgs) }},
	{"out_client_bytes", "Payload bytes sent to clients", true, func(v *api.Varz) float64 { return float64(v.OutClientBytes) }},
	{"slow_consumers", "Connections closed as slow consumers", true, func(v *api.Varz) float64 { return float64(v.SlowConsumers) }},
	{"stale_connections", "Connections closed as stale", true, func(v *api.Varz) float64 { return float64(v.StaleConnections) }},
	{"stalled_clients", "Times a publisher was stalled by a slow reader", true, func(v *api.Varz) float64 { return float64(v.StalledClients) }},
	{"mem", "Resident memory in bytes", false, func(v *api.Varz) float64 { return float64(v.Mem) }},
	{"cpu", "CPU use in percent of one core", false, func(v *api.Varz) float64 { return v.CPU }},
	{"cores", "CPU cores available", false, func(v *api.Varz) float64 { return float64(v.Cores) }},
	{"gomaxprocs", "GOMAXPROCS", false, func(v *api.Varz) float64 { return float64(v.MaxProcs) }},
	{"gomemlimit", "GOMEMLIMIT in bytes, 0 when unset", false, func(v *api.Varz) float64 { return float64(v.MemLimit) }},
	{"proto", "Client protocol version", false, func(v *api.Varz) float64 { return float64(v.Proto) }},
	{"port", "Client port", false, func(v *api.Varz) float64 { return float64(v.Port) }},
	{"http_port", "HTTP monitoring port", false, func(v *api.Varz) float64 { return float64(v.HTTPPort) }},
	{"https_port", "HTTPS monitoring port", false, func(v *api.Varz) float64 { return float64(v.HTTPSPort) }},
	{"max_connections", "Connection limit", false, func(v *api.Varz) float64 { return float64(v.MaxConn) }},
	{"max_subscriptions", "Subscriptions allowed per connection, 0 unlimited", false, func(v *api.Varz) float64 { return float64(v.MaxSubs) }},
	{"max_payload", "Largest payload accepted, bytes", false, func(v *api.Varz) float64 { return float64(v.MaxPayload) }},
	{"max_pending", "Output buffered per connection before it is a slow consumer, bytes", false, func(v *api.Varz) float64 { return float64(v.MaxPending) }},
	{"max_control_line", "Longest protocol line accepted, bytes", false, func(v *api.Varz) float64 { return float64(v.MaxControlLine) }},
	{"ping_interval", "Keep-alive PING interval, nanoseconds", false, func(v *api.Varz) float64 { return float64(v.PingInterval) }},
	{"ping_max", "Unanswered PINGs before a connection is stale", false, func(v *api.Varz) float64 { return float64(v.MaxPingsOut) }},
	{"auth_timeout", "Time allowed to authenticate, seconds", false, func(v *api.Varz) float64 { return v.AuthTimeout }},
	{"tls_timeout", "Time allowed for the TLS handshake, seconds", false, func(v *api.Varz) float64 { return v.TLSTimeout }},
	{"write_deadline", "Longest a write to a connection may block, nanoseconds", false, func(v *api.Varz) float64 { return float64(v.WriteDeadline) }},
}

type subszMetric struct {
	name, help string
	counter    bool
	value      func(s *api.SublistStats) float64
}

var subszMetrics = []subszMetric{
	{"num_subscriptions", "Subscriptions in the index", false, func(s *api.SublistStats) float64 { return float64(s.NumSubs) }},
	{"num_cache", "Cached match results", false, func(s *api.SublistStats) float64 { return float64(s.NumCache) }},
	{"num_inserts", "Subscriptions inserted since start", true, func(s *api.SublistStats) float64 { return float64(s.NumInserts) }},
	{"num_removes", "Subscriptions removed since start", true, func(s *api.SublistStats) float64 { return float64(s.NumRemoves) }},
	{"num_matches", "Subject lookups since start", true, func(s *api.SublistStats) float64 { return float64(s.NumMatches) }},
	{"cache_hit_rate", "Share of lookups answered from the cache", false, func(s *api.SublistStats) float64 { return s.CacheHitRate }},
	{"max_fanout", "Largest cached match result", false, func(s *api.SublistStats) float64 { return float64(s.MaxFanout) }},
	{"avg_fanout", "Mean size of cached match results", false, func(s *api.SublistStats) float64 { return s.AvgFanout }},
}

func (h *Handler) serveMetrics(w http.ResponseWriter, _ *http.Request) {
	var p promWriter
	h.writeMetrics(&p)
	w.Header().Set("Content-Type", metricsContentType)
	w.Write([]byte(p.b.String()))
}

// writeMetrics gathers every report and renders it; a report that fails is
// left out rather than failing the scrape.
func (h *Handler) writeMetrics(p *promWriter) {
	v, err := h.src.Varz()
	if err != nil {
		h.log.Errorf("metrics: varz: %v", err)
		return
	}
	id := v.ID
	for _, m := range varzMetrics {
		p.one(varzName(m.name), m.help, m.counter, m.value(v), "server_id", id)
	}
	p.one(varzName("server_name"), "Server name, as the value label", false, 1, "server_id", id, "value", v.Name)
	p.one(varzName("version"), "nats-server version matched, as the value label", false, 1, "server_id", id, "value", v.Version)
	p.one(varzName("sluice_version"), "sluice version, as the value label", false, 1, "server_id", id, "value", v.SluiceVersion)
	p.one(varzName("start_time_seconds"), "Server start, seconds since the epoch", false, float64(v.Start.UnixNano())/1e9, "server_id", id)
	if len(v.HTTPReqStats) > 0 {
		name := varzName("http_req_stats")
		p.header(name, "counter", "HTTP monitoring requests per endpoint")
		eps := make([]string, 0, len(v.HTTPReqStats))
		for ep := range v.HTTPReqStats {
			eps = append(eps, ep)
		}
		sort.Strings(eps)
		for _, ep := range eps {
			p.sample(name, float64(v.HTTPReqStats[ep]), "server_id", id, "endpoint", ep)
		}
	}

	if cz, err := h.src.Connz(&api.ConnzOptions{Limit: math.MaxInt32}); err == nil {
		var pending, subs, inM, outM, inB, outB float64
		for _, c := range cz.Conns {
			pending += float64(c.Pending)
			subs += float64(c.NumSubs)
			inM, outM = inM+float64(c.InMsgs), outM+float64(c.OutMsgs)
			inB, outB = inB+float64(c.InBytes), outB+float64(c.OutBytes)
		}
		cn := func(s string) string { return metricsNamespace + "_connz_" + s }
		p.one(cn("num_connections"), "Open connections", false, float64(cz.NumConns), "server_id", id)
		p.one(cn("total"), "Open connections (before paging)", false, float64(cz.Total), "server_id", id)
		p.one(cn("pending_bytes"), "Output waiting to be written, all connections", false, pending, "server_id", id)
		p.one(cn("subscriptions"), "Subscriptions of open connections", false, subs, "server_id", id)
		p.one(cn("in_msgs"), "Messages received from open connections", true, inM, "server_id", id)
		p.one(cn("out_msgs"), "Messages sent to open connections", true, outM, "server_id", id)
		p.one(cn("in_bytes"), "Payload bytes received from open connections", true, inB, "server_id", id)
		p.one(cn("out_bytes"), "Payload bytes sent to open connections", true, outB, "server_id", id)
	}

	if sz, err := h.src.Subsz(nil); err == nil && sz.SublistStats != nil {
		for _, m := range subszMetrics {
			p.one(metricsNamespace+"_subsz_"+m.name, m.help, m.counter, m.value(sz.SublistStats), "server_id", id)
		}
	}
	if rz, err := h.src.Routez(nil); err == nil {
		p.one(metricsNamespace+"_routez_num_routes", "Route connections", false, float64(rz.NumRoutes), "server_id", id)
	}
	if lz, err := h.src.Leafz(nil); err == nil {
		p.one(metricsNamespace+"_leafz_leafnodes", "Leafnode connections", false, float64(lz.NumLeafs), "server_id", id)
	}
	health := 1.0
	if hs := h.src.Healthz(&api.HealthzOptions{}); hs.Status == "ok" {
		health = 0
	}
	p.one(metricsNamespace+"_healthz_status", "0 when /healthz reports ok, 1 otherwise", false, health, "server_id", id)

	h.writeJetStreamMetrics(p, id)
	if as, err := h.src.AccountStatz(&api.AccountStatzOptions{IncludeUnused: true}); err == nil {
		h.writeAccountMetrics(p, id, as.Accounts)
	}
}

func (h *Handler) writeAccountMetrics(p *promWriter, id string, accs []*api.AccountStat) {
	type accMetric struct {
		name, help string
		counter    bool
		value      func(a *api.AccountStat) float64
	}
	for _, m := range []accMetric{
		{"current_connections", "Connections open in the account", false, func(a *api.AccountStat) float64 { return float64(a.Conns) }},
		{"total_connections", "Client and leafnode connections open in the account", false, func(a *api.AccountStat) float64 { return float64(a.TotalConns) }},
		{"subscriptions", "Subscriptions in the account", false, func(a *api.AccountStat) float64 { return float64(a.NumSubs) }},
		{"leaf_nodes", "Leafnode connections in the account", false, func(a *api.AccountStat) float64 { return float64(a.LeafNodes) }},
		{"sent_messages", "Messages delivered to the account's connections", true, func(a *api.AccountStat) float64 { return float64(a.Sent.Msgs) }},
		{"sent_bytes", "Payload bytes delivered to the account's connections", true, func(a *api.AccountStat) float64 { return float64(a.Sent.Bytes) }},
		{"received_messages", "Messages published in the account", true, func(a *api.AccountStat) float64 { return float64(a.Received.Msgs) }},
		{"received_bytes", "Payload bytes published in the account", true, func(a *api.AccountStat) float64 { return float64(a.Received.Bytes) }},
		{"slow_consumers", "Slow consumers in the account", true, func(a *api.AccountStat) float64 { return float64(a.SlowConsumers) }},
	} {
		name := metricsNamespace + "_accstatz_" + m.name
		p.header(name, typeName(m.counter), m.help)
		for _, a := range accs {
			p.sample(name, m.value(a), "server_id", id, "account", a.Account, "account_id", a.Account, "account_name", a.Name)
		}
	}
}

func varzName(s string) string { return metricsNamespace + "_varz_" + s }

func typeName(counter bool) string {
	if counter {
		return "counter"
	}
	return "gauge"
}

// promWriter renders the text exposition format.
type promWriter struct{ b strings.Builder }

// one writes a family holding a single sample.
func (p *promWriter) one(name, help string, counter bool, v float64, labels ...string) {
	p.header(name, typeName(counter), help)
	p.sample(name, v, labels...)
}

func (p *promWriter) header(name, typ, help string) {
	p.b.WriteString("# HELP " + name + " " + escapeHelp(help) + "\n")
	p.b.WriteString("# TYPE " + name + " " + typ + "\n")
}

// sample writes one line; labels are name, value pairs.
func (p *promWriter) sample(name string, v float64, labels ...string) {
	p.b.WriteString(name)
	if len(labels) > 0 {
		p.b.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				p.b.WriteByte(',')
			}
			p.b.WriteString(labels[i] + `="` + escapeLabel(labels[i+1]) + `"`)
		}
		p.b.WriteByte('}')
	}
	p.b.WriteByte(' ')
	p.b.WriteString(formatValue(v))
	p.b.WriteByte('\n')
}

func formatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func escapeHelp(s string) string  { return helpEscaper.Replace(s) }
func escapeLabel(s string) string { return labelEscaper.Replace(s) }
