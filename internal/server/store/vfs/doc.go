// Package vfs is the small filesystem interface the filestore does all its
// I/O through, with the operating system's implementation (OS) and a
// fault-injecting in-memory one for tests (FaultFS).
//
// The fault model (what a disk may do wrong, after tigerbeetle's): a write
// or fsync may fail (disk full, I/O error) and a failed write may leave part
// of its bytes behind; a crash (power loss) drops every write not yet
// fsynced, possibly keeping a torn prefix of them, and drops directory
// changes (create, rename, remove) not yet synced with SyncDir; a byte
// already on disk may later read back with a flipped bit.
package vfs
