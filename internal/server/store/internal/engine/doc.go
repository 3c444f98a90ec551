// Package engine is the in-memory index shared by memstore and filestore:
// the sequence window, the per-subject index (a map for literal subjects,
// a token trie for wildcard filters, and a doubly linked list of each
// subject's sequences), limits, TTL and max-age expiry, and every query of
// store.Store. Where the bytes of a message live is the Backend's business:
// memstore keeps them in memory, filestore in block files. A Backend that
// can pack its payload into numbers (filestore) lets the engine freeze the
// older part of its index into compact columns (frozen.go). The engine calls
// the Backend under its lock, before changing its own state, so a failed
// write leaves the index as it was.
package engine
