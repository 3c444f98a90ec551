package monitor

import (
	"html/template"
	"net/http"
)

// indexEntries are the links of the index page, in the order shown.
var indexEntries = []struct{ Title, Path, Note string }{
	{"General", VarzPath, "server identity, limits, traffic counters"},
	{"JetStream", JszPath, "JetStream usage (disabled until configured)"},
	{"Connections", ConnzPath, "open and recently closed connections"},
	{"Accounts", AccountzPath, "accounts and their details"},
	{"Account Stats", AccountStatzPath, "per-account traffic"},
	{"Subscriptions", SubszPath, "the subscription index"},
	{"Routes", RoutezPath, "cluster routes"},
	{"LeafNodes", LeafzPath, "leafnode connections"},
	{"Gateways", GatewayzPath, "super-cluster gateways"},
	{"Health Probe", HealthzPath, "liveness and readiness"},
	{"Prometheus Metrics", MetricsPath, "the same figures, Prometheus text format"},
	{"Expvar", ExpvarzPath, "Go runtime variables"},
	{"Stacks", StackszPath, "goroutine dump"},
}

var indexTmpl = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>sluice monitoring</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222 }
h1 { font-size: 1.4rem; margin-bottom: 0.2rem }
p.version { color: #666; margin-top: 0 }
li { margin: 0.35rem 0 }
a { text-decoration: none; color: #2b4c9b; font-weight: 600 }
a:hover { text-decoration: underline }
code { color: #888 }
</style>
</head>
<body>
<h1>sluice</h1>
<p class="version">v{{.Version}} &middot; NATS monitoring endpoints</p>
<ul>
{{range .Links}}<li><a href="{{.Href}}">{{.Title}}</a> <code>{{.Path}}</code> &mdash; {{.Note}}</li>
{{end}}</ul>
</body>
</html>
`))

func (h *Handler) serveRoot(w http.ResponseWriter, _ *http.Request) {
	type link struct{ Title, Href, Path, Note string }
	data := struct {
		Version string
		Links   []link
	}{Version: h.version}
	for _, e := range indexEntries {
		data.Links = append(data.Links, link{e.Title, h.Path(e.Path), e.Path, e.Note})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := indexTmpl.Execute(w, data); err != nil {
		h.log.Errorf("Error rendering the monitoring index page: %v", err)
	}
}
