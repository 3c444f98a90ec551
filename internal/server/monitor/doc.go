// Package monitor serves sluice's HTTP monitoring endpoints: /varz, /connz,
// /routez, /gatewayz, /leafz, /subsz, /accountz, /accstatz, /jsz, /healthz,
// an index page, and /metrics in the Prometheus text format.
//
// It owns only the HTTP side: routing under a base path, query parameters
// (with nats-server's names, defaults and error texts), JSONP callbacks,
// CORS, request counting and rendering metrics. The figures themselves come
// from a Source, which the broker implements and which answers with pkg/api
// values; so the same structs serve HTTP, $SYS requests and the CLI.
//
// It must not import internal/server (the broker imports it).
package monitor
