// Package jetstream is sluice's JetStream: streams (an internal
// subscription on their subjects plus a store.Store), the $JS.API request
// handlers with nats-server's JSON and error codes, publish acks and the
// publish headers (dedupe, expectations, rollups, TTLs, counters, batches),
// advisories on $JS.EVENT, per-account limits, and the jetstream {} and
// per-account configuration.
//
// It knows the broker only through the Broker interface (subscribe and
// publish internally in an account, list accounts, the server's identity);
// it must not import internal/server. Stores come from package store.
//
// Flow of a publish: the stream's internal subscription callback, run on
// the publishing client's read loop (on the server's internal queue for
// the server's own publishes), copies the message unless it was handed
// over, appends it to the stream's ingest queue and returns. When the
// queue is full, a client's read loop waits for room, reading nothing more
// of that client (TCP slows the publisher down to the disk's pace); a
// stream that takes nothing for 2 s meanwhile, or a publish from the
// internal queue, gets the 429 answer. The stream's ingest
// goroutine takes every queued message, checks and stores each, calls
// store.Sync once for the whole batch (group commit), and only then sends
// the acks. With persist_mode async, an explicit sync_interval, or memory
// storage, the Sync is a write without fsync and acks go out at once.
//
// Key-value and object stores are client conventions over streams; the
// few server behaviours they need beyond plain streams live in kv_*.go:
// subject delete markers when a subject's last message expires (by max
// age or its own TTL), and the $JS.<domain>.API.$KV/$OBJ subject spaces
// mapped back when a domain is set.
//
// Locks: JetStream.mu, then jsAccount.mu, then stream.mu (see
// internal/server/doc.go). No lock is held while publishing through the
// Broker.
package jetstream
