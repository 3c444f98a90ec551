// Package objcmd is `sluice obj`: object store buckets (JetStream streams
// named OBJ_<bucket>) holding files in chunks, through nats.go's jetstream
// ObjectStore API, so the commands work against sluice and nats-server
// alike. Objects stream through in chunks; nothing holds a whole object in
// memory. Verbs and flags follow natscli's `nats object`.
package objcmd
