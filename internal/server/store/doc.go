// Package store is JetStream's message storage: one Store interface, an
// in-memory implementation (memstore) and a durable file implementation
// (filestore) that both pass one conformance suite (storetest).
//
// Packages: memstore.New(cfg, logger) and filestore.Open(dir, cfg,
// filestore.Options{FS, Logger, BlockSize}) make stores; vfs is the
// filesystem interface with its fault-injecting test implementation;
// storetest holds the conformance suite (storetest.Run), the reference
// model and the shared benchmarks. internal/engine is the in-memory index
// both stores share.
//
// A Store holds the messages of one stream in sequence order. It knows
// nothing of accounts, clients or the JetStream API: the stream (package
// jetstream) validates requests, maps the sentinel errors below to API error
// codes and decides when to call Sync. Arrows point down: store never imports
// internal/server or internal/server/jetstream.
//
// # Concurrency
//
// Every method of Store and ConsumerStore is safe for concurrent use. Sync
// may run while other goroutines Store: it makes durable every record whose
// Store returned before Sync was called (later ones may or may not be
// covered). The intended use is group commit: the stream's ingest loop
// stores a batch of queued publishes, calls Sync once, then acknowledges the
// whole batch. Sync is cheap when nothing was written since the last one.
//
// # Ownership
//
// A *Msg returned by a Load method belongs to the caller, but its Header and
// Data may share memory with the store (memstore): treat them as read-only.
// Slices passed to Store are copied before it returns.
//
// # Callbacks
//
// Callbacks (RegisterRemoveCallback, RegisterLostCallback) run without any
// store lock held, from the goroutine whose call caused them (limits
// enforced by Store) or from the store's expiry timer. They may call the
// store's read methods; they must not block for long, and a callback that
// wants to store a message (a subject delete marker) should queue it to the
// stream's ingest loop rather than call Store itself.
package store
