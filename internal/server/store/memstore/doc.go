// Package memstore is the in-memory store.Store: the shared engine's index
// with each message's header and data kept in one buffer. Nothing survives
// the process; Sync is a no-op.
package memstore
