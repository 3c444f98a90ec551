package monitor

import (
	"encoding/json"
	"expvar"
	"maps"
	"net/http"
	"path"
	"runtime"
	"strings"
	"sync"

	"github.com/sluicehq/sluice/pkg/api"
)

// Source computes the monitoring reports. The broker implements it; errors
// are the caller's fault (a bad option) and are answered with 400.
type Source interface {
	Varz() (*api.Varz, error)
	Connz(*api.ConnzOptions) (*api.Connz, error)
	Routez(*api.RoutezOptions) (*api.Routez, error)
	Gatewayz(*api.GatewayzOptions) (*api.Gatewayz, error)
	Leafz(*api.LeafzOptions) (*api.Leafz, error)
	Subsz(*api.SubszOptions) (*api.Subsz, error)
	Accountz(*api.AccountzOptions) (*api.Accountz, error)
	AccountStatz(*api.AccountStatzOptions) (*api.AccountStatz, error)
	Jsz(*api.JSzOptions) (*api.JSInfo, error)
	Healthz(*api.HealthzOptions) *api.HealthStatus
	Ipqueuesz(*api.IpqueueszOptions) *api.IpqueueszStatus
}

// Logger is what the handler reports through.
type Logger interface {
	Warnf(format string, v ...any)
	Errorf(format string, v ...any)
}

// Endpoint paths, relative to the base path.
const (
	RootPath         = "/"
	VarzPath         = "/varz"
	ConnzPath        = "/connz"
	RoutezPath       = "/routez"
	GatewayzPath     = "/gatewayz"
	LeafzPath        = "/leafz"
	SubszPath        = "/subsz"
	SubszAliasPath   = "/subscriptionsz"
	AccountzPath     = "/accountz"
	AccountStatzPath = "/accstatz"
	JszPath          = "/jsz"
	HealthzPath      = "/healthz"
	RaftzPath        = "/raftz"
	IPQueuesPath     = "/ipqueuesz"
	StackszPath      = "/stacksz"
	ExpvarzPath      = "/debug/vars"
	MetricsPath      = "/metrics"
)

// Config sets up a Handler.
type Config struct {
	Source   Source
	Log      Logger
	BasePath string // prefix of every path; "" is the root
	Version  string // shown on the index page
}

// Handler is the monitoring http.Handler.
type Handler struct {
	src     Source
	log     Logger
	base    string
	version string
	routes  map[string]route

	mu    sync.Mutex
	stats map[string]uint64 // requests per endpoint path (without base)
}

type route struct {
	path  string // relative, for request stats
	serve func(h *Handler, w http.ResponseWriter, r *http.Request)
}

var _ http.Handler = (*Handler)(nil)

// New returns a Handler serving cfg.Source under cfg.BasePath.
func New(cfg Config) *Handler {
	h := &Handler{
		src:     cfg.Source,
		log:     cfg.Log,
		base:    NormalizeBasePath(cfg.BasePath),
		version: cfg.Version,
		stats:   make(map[string]uint64),
	}
	h.routes = make(map[string]route)
	add := func(p string, fn func(*Handler, http.ResponseWriter, *http.Request)) {
		h.routes[h.Path(p)] = route{path: p, serve: fn}
	}
	add(RootPath, (*Handler).serveRoot)
	add(VarzPath, (*Handler).serveVarz)
	add(ConnzPath, (*Handler).serveConnz)
	add(RoutezPath, (*Handler).serveRoutez)
	add(GatewayzPath, (*Handler).serveGatewayz)
	add(LeafzPath, (*Handler).serveLeafz)
	add(SubszPath, (*Handler).serveSubsz)
	add(AccountzPath, (*Handler).serveAccountz)
	add(AccountStatzPath, (*Handler).serveAccountStatz)
	add(JszPath, (*Handler).serveJsz)
	add(HealthzPath, (*Handler).serveHealthz)
	add(RaftzPath, (*Handler).serveRaftz)
	add(IPQueuesPath, (*Handler).serveIpqueuesz)
	add(StackszPath, (*Handler).serveStacksz)
	add(ExpvarzPath, func(_ *Handler, w http.ResponseWriter, r *http.Request) { expvar.Handler().ServeHTTP(w, r) })
	add(MetricsPath, (*Handler).serveMetrics)
	// The alias counts as /subsz, as in nats-server.
	h.routes[h.Path(SubszAliasPath)] = route{path: SubszPath, serve: (*Handler).serveSubsz}
	if h.base != "/" {
		h.routes[h.base+"/"] = h.routes[h.base]
	}
	return h
}

// NormalizeBasePath makes p absolute and clean; "" becomes "/".
func NormalizeBasePath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	return path.Clean(p)
}

// Path is the full path of endpoint p under the base path.
func (h *Handler) Path(p string) string { return path.Join(h.base, p) }

// RequestStats returns how many requests each endpoint has served, keyed by
// its path without the base path: Varz's http_req_stats.
func (h *Handler) RequestStats() map[string]uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.stats)
}

// ServeHTTP routes a request to its endpoint.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt, ok := h.routes[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Method == http.MethodOptions {
		// CORS preflight: every endpoint is a plain GET.
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
		w.Header().Set("Access-Control-Allow-Headers", "*")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h.mu.Lock()
	h.stats[rt.path]++
	h.mu.Unlock()
	rt.serve(h, w, r)
}

// badRequest answers a caller's mistake in plain text, as nats-server does.
func badRequest(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.WriteHeader(http.StatusBadRequest)
	w.Write([]byte(msg))
}

// respond writes v as indented JSON, wrapped in the JSONP callback if the
// request names one.
func (h *Handler) respond(w http.ResponseWriter, r *http.Request, code int, v any, indent bool) {
	cb := r.URL.Query().Get("callback")
	if cb != "" && !validCallback(cb) {
		badRequest(w, "invalid callback: "+cb)
		return
	}
	var b []byte
	var err error
	if indent {
		b, err = json.MarshalIndent(v, "", "  ")
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		h.log.Errorf("Error marshaling response to %s request: %v", r.URL.Path, err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Access-Control-Allow-Origin", "*")
	if cb != "" {
		hd.Set("Content-Type", "application/javascript")
		w.WriteHeader(code)
		w.Write([]byte(cb + "("))
		w.Write(b)
		w.Write([]byte(")"))
		return
	}
	hd.Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b)
}

// validCallback keeps JSONP names to JavaScript identifiers and dotted
// paths, so the parameter cannot inject script.
func validCallback(s string) bool {
	if len(s) > 128 {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_' || c == '$' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// result answers with v, or 400 with err's text.
func result[T any](h *Handler, w http.ResponseWriter, r *http.Request, v T, err error) {
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	h.respond(w, r, http.StatusOK, v, true)
}

func (h *Handler) serveVarz(w http.ResponseWriter, r *http.Request) {
	v, err := h.src.Varz()
	result(h, w, r, v, err)
}

func (h *Handler) serveConnz(w http.ResponseWriter, r *http.Request) {
	o, err := ParseConnzOptions(r.URL.Query())
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	v, err := h.src.Connz(o)
	result(h, w, r, v, err)
}

func (h *Handler) serveRoutez(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r.URL.Query())
	subs, detail := q.subs()
	if q.err != nil {
		badRequest(w, q.err.Error())
		return
	}
	v, err := h.src.Routez(&api.RoutezOptions{Subscriptions: subs, SubscriptionsDetail: detail})
	result(h, w, r, v, err)
}

func (h *Handler) serveGatewayz(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r.URL.Query())
	subs, detail := q.subs()
	o := &api.GatewayzOptions{
		Accounts:                   q.bool("accs"),
		Name:                       q.str("gw_name"),
		AccountName:                q.str("acc_name"),
		AccountSubscriptions:       subs,
		AccountSubscriptionsDetail: detail,
	}
	if q.err != nil {
		badRequest(w, q.err.Error())
		return
	}
	if o.AccountName != "" {
		o.Accounts = true
	}
	v, err := h.src.Gatewayz(o)
	result(h, w, r, v, err)
}

func (h *Handler) serveLeafz(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r.URL.Query())
	o := &api.LeafzOptions{Subscriptions: q.bool("subs"), Account: q.str("acc")}
	if q.err != nil {
		badRequest(w, q.err.Error())
		return
	}
	v, err := h.src.Leafz(o)
	result(h, w, r, v, err)
}

func (h *Handler) serveSubsz(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r.URL.Query())
	o := &api.SubszOptions{
		Subscriptions: q.bool("subs"),
		Offset:        q.int("offset"),
		Limit:         q.int("limit"),
		Test:          q.str("test"),
		Account:       q.str("acc"),
	}
	if q.err != nil {
		badRequest(w, q.err.Error())
		return
	}
	v, err := h.src.Subsz(o)
	result(h, w, r, v, err)
}

func (h *Handler) serveAccountz(w http.ResponseWriter, r *http.Request) {
	v, err := h.src.Accountz(&api.AccountzOptions{Account: r.URL.Query().Get("acc")})
	result(h, w, r, v, err)
}

func (h *Handler) serveAccountStatz(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r.URL.Query())
	o := &api.AccountStatzOptions{IncludeUnused: q.bool("unused")}
	if acc := q.str("acc"); acc != "" {
		o.Accounts = strings.Split(acc, ",")
	}
	if q.err != nil {
		badRequest(w, q.err.Error())
		return
	}
	v, err := h.src.AccountStatz(o)
	result(h, w, r, v, err)
}

func (h *Handler) serveJsz(w http.ResponseWriter, r *http.Request) {
	o, err := ParseJSzOptions(r.URL.Query())
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	v, err := h.src.Jsz(o)
	result(h, w, r, v, err)
}

func (h *Handler) serveHealthz(w http.ResponseWriter, r *http.Request) {
	o, err := ParseHealthzOptions(r.URL.Query())
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	if o.JSEnabled {
		h.log.Warnf("Healthcheck: js-enabled deprecated, use js-enabled-only instead")
	}
	hs := h.src.Healthz(o)
	code := hs.StatusCode
	if code == 0 {
		code = http.StatusOK
	}
	switch {
	case hs.Error != "":
		h.log.Warnf("Healthcheck failed: %q", hs.Error)
	case len(hs.Errors) > 0:
		h.log.Warnf("Healthcheck failed: %d errors", len(hs.Errors))
	}
	// The HTTP status carries the code; the body leaves it out.
	out := *hs
	out.StatusCode = 0
	h.respond(w, r, code, &out, false)
}

func (h *Handler) serveIpqueuesz(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r.URL.Query())
	o := &api.IpqueueszOptions{All: q.bool("all"), Filter: q.str("queues")}
	if q.err != nil {
		badRequest(w, q.err.Error())
		return
	}
	result(h, w, r, h.src.Ipqueuesz(o), nil)
}

// serveRaftz answers as nats-server does on a server without RAFT groups
// (no clustered JetStream yet).
func (h *Handler) serveRaftz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	w.Write([]byte("No Raft nodes registered"))
}

// serveStacksz dumps every goroutine's stack; it takes no locks so that it
// works even when the broker is deadlocked.
func (h *Handler) serveStacksz(w http.ResponseWriter, _ *http.Request) {
	buf := make([]byte, 64*1024)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write(buf)
}
