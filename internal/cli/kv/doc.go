// Package kvcmd is `sluice kv`: key-value buckets (JetStream streams named
// KV_<bucket>) created, read, written, watched and removed through nats.go's
// jetstream KeyValue API, so the commands work against sluice and
// nats-server alike. Verbs and flags follow natscli's `nats kv`.
package kvcmd
