// Package filestore is the durable store.Store: the shared engine's index
// in memory, the messages in append-only block files of checksummed
// records. All I/O goes through vfs.FS.
//
// # Layout
//
// One directory per stream (the caller picks it):
//
//	<dir>/blk/00000001.blk   block files, numbered in write order
//	<dir>/blk/00000001.idx   index of a block (optional, rebuilt when stale)
//	<dir>/blk/clean          left by a clean Stop, removed (durably) at open
//	<dir>/obs/<name>.cs      consumer state
//
// Messages are appended to the newest block (the tail) in sequence order; a
// new tail is started when it reaches Options.BlockSize. Deleting a message
// appends a tombstone to the block that holds it, so every block can be read
// on its own; a block with no live message left (other than the tail) is
// removed, and a block whose live records fill less than half of it is
// rewritten with those only (temporary file, fsync, rename). Purge and compaction append a base marker to the tail instead of
// one tombstone per message; truncation appends tombstones and a last
// marker. A new tail starts with a base marker repeating the current floor,
// so the newest floor survives the removal of older blocks.
//
// # Record
//
// Little endian. The header checksum lets recovery find record boundaries
// again after a corrupt header; the body checksum makes a flipped bit in a
// message lose that message alone, with its sequence known.
//
//	0       4       8               16  17  18      20      24      28      32
//	+-------+-------+---------------+---+---+-------+-------+-------+-------+
//	| magic | len   | seq           | k | 0 | slen  | hlen  | hcrc  | bcrc  |
//	+-------+-------+---------------+---+---+-------+-------+-------+-------+
//	body (kind message):  ts int64 | ttl int64 | subject | header | data
//	body (kind skip):     count uint64
//	(delete, base, last:  no body; seq is the operand)
//
// magic is "SLR1"; len is the whole record; hcrc is CRC-32C of bytes 0..24,
// bcrc of the body as stored. Byte 17 holds flags of a message record: 1,
// the body is s2-compressed (Config.Compression with a key, only when
// that makes it smaller; without a key whole blocks are compressed
// instead, below, and stores written before that have the flag without a
// key too); 2, the body is sealed (Config.Encryption): a 4-byte random
// nonce tail, then the AEAD (ChaCha20-Poly1305 or AES-256-GCM) of the
// possibly compressed body, whose nonce is the sequence and that tail and
// whose associated data is bytes 8..24. slen and hlen are those of the
// plain body. Flags are per record: blocks written before and after a
// change of compression or key are read alike; a flipped bit still fails
// bcrc and loses that record alone (in a compressed block, its chunk).
//
// # Keys
//
// A store with encryption keeps <dir>/key: a random data key sealed with
// a key derived (HMAC-SHA256) from the configured key and the stream
// name, and the cipher. Open checks it before reading or changing
// anything: no key configured, or a key (and previous key) that does not
// open it, refuses the store with store.ErrEncryption. Opened with the
// previous key, the data key is sealed again with the current one (key
// rotation: records are not rewritten). A cipher change applies to new
// stores; an existing one keeps the cipher of its key file. Consumer
// state files and the files the caller keeps beside the store (Sealer)
// are sealed whole with the data key. Sequences,
// record lengths and the block layout are not hidden. Kinds: 1 message, 2 delete (tombstone of seq in this
// block), 3 skip (seq..seq+count-1 hold no message), 4 base (every sequence
// below seq is gone), 5 last (every sequence above seq is gone).
//
// # Compressed blocks
//
// In a store with s2 compression and no key, a block that stops being the
// tail is compressed in the background (zjob.go, zblock.go): the same
// record bytes, in chunks of about 64 KiB cut at record boundaries, each
// s2-compressed on its own (stored as is when that does not shrink it).
// Offsets stay those of the uncompressed block (logical offsets): the
// index and the engine's locations do not change, and a read decompresses
// one chunk (the last 8 decompressed chunks of a store are kept, so a
// consumer reading in order decompresses each once).
//
//	file:   "SLC1" | nchunks u32 | ulen u64 | suffix u64 | 0 u32 | hcrc u32
//	chunk:  "SLZC" | uoff u32 | ulen u32 | clen u32 | crc u32 | nmsg u32 |
//	        first u64 | last u64 | flags u8 | 0 (3) | hcrc u32 | clen bytes
//	suffix: records appended after compression (tombstones), as they are
//
// ulen is the logical length the chunks hold; a chunk's crc is CRC-32C of
// its uncompressed bytes; first and last are the lowest and highest
// sequence of its nmsg messages. Flag 1: s2; flag 2: the records'
// checksums (hcrc, bcrc: 8 random bytes a record) were zeroed, and are
// recomputed after the chunk's crc is checked. Records that failed their
// checks (erased, damaged) stay as they were, in chunks without flag 2.
// Control records (tombstones, markers) go in chunks of their own, stored
// as they are. A damaged file header is rebuilt by walking the chunk
// headers, a damaged chunk header by looking for the next one.
//
// The unit of loss in a compressed block is the chunk: a flipped bit in
// its data loses the messages of that chunk (a read reports each lost; a
// recovery without the index reports them by sequence from the chunk
// header, or the first and last by sequence and the rest as bytes when
// its sequences have gaps), never the control records of the block nor
// other chunks. This is the trade-off for compressing headers, subjects
// and payloads together; uncompressed stores and every tail keep "a
// damaged record costs that record alone".
//
// Compression writes a temporary file (<id>.blk.z.tmp), fsyncs it, and
// under the store's lock copies the tombstones appended meanwhile after
// the chunks (fsynced), renames it over the block and fsyncs the
// directory; a crash leaves the old block or the new one (a temporary
// file is removed at open), never both. A block changed in place
// meanwhile (erase, compaction) is left for later. Erasing a message in
// a compressed block rewrites the block without it (block compaction),
// then compresses it again. Records appended to a compressed block
// (tombstones) follow the chunks; a compressed block left last by
// recovery takes no new messages (a new tail is started). With a key,
// records stay compressed one by one and then sealed, and blocks are not
// compressed again (sealed bytes do not compress). Blocks not yet
// compressed at Stop or a crash are compressed after the next open.
//
// # Index
//
// A block's index lists its records without payloads (kind, seq, offset,
// length, time, ttl, subject), the block length it covers and a CRC-32C of
// the whole index (format "SLI2", index2.go: the fields in columns of
// varints, most of them differences from the record before, which s2
// then shrinks to a few bytes a message; the first format, "SLI1", is
// still read); the file holds it s2-compressed ("SLZ1"), and sealed
// whole ("SLE1") in a store with a key. It is written, without fsync, when a block stops being
// the tail and at Stop. Recovery uses it for the bytes it covers and scans
// the block after them (tombstones appended later); a missing, corrupt or
// longer-than-the-block index is ignored and the block is scanned whole.
// The per-subject state is rebuilt from the indexes, which are its snapshot.
//
// # Recovery
//
// Blocks are read in order. A record that runs past the end of its block (a
// torn write) ends the block: the file is truncated there, and nothing after
// it is served. A record whose body checksum fails is lost alone: it is
// skipped, logged and reported in State().Lost and to the lost callback
// (unless a tombstone says it was erased). A record whose header fails is
// skipped by scanning forward for the next valid header. A corrupt record
// found later by a read is handled the same way. Corrupt tombstones or
// markers are logged; what they deleted may come back. A block left with
// nothing live is removed after the floor is repeated in the tail (it may
// hold the only base marker).
//
// Unless the clean marker says the last Stop fsynced everything, recovery
// fsyncs every block before serving it: after a crash or a failed fsync,
// what the OS shows may not be on disk, and must not be served as if it
// were. Memory: the index keeps 48 bytes per message for the newest 8,192
// sequences and, for older ones, the engine's frozen chunks (the record's
// location packed as three numbers): about 8 bytes per message for a
// stream of one subject and one message size, plus each distinct subject
// once; payloads stay on disk.
//
// # Durability
//
// Records appended to the tail are buffered in memory (reads serve them
// from there) and written with one write per group: at Sync, when the
// buffer holds 1 MiB, when a new tail starts, and at Stop. Writes to older
// blocks (tombstones) happen at once and fail their call. With
// Config.SyncAlways, Sync writes the buffer, fsyncs every block written
// since the last Sync and the directory when blocks were created or
// removed; it is cheap when nothing changed and may run concurrently with
// Store (group commit: store a batch, Sync once, acknowledge the batch). A
// write error fails that Sync, so its batch is not acknowledged; the
// records stay buffered and the next Sync writes them. A failed fsync
// fails the store for writes until it is reopened. Without SyncAlways,
// Sync only writes the buffer (a killed process loses nothing
// acknowledged) and a background goroutine fsyncs every SyncInterval.
// Flush writes the buffer in either mode (records acknowledged before
// they are durable, made durable by the next Sync with all before them).
//
// Blocks are fsynced with fdatasync. A tail taking small appends is
// preallocated: zeros are written up to 1 MiB ahead of its last record,
// so that most fsyncs of a group commit write data only, not also the
// file's new size and extents (a journal commit). Zeros cannot start a
// record: recovery takes them, and a record torn into them (failing its
// body checksum, ending in zeros, only zeros after it), for an unwritten
// tail and cuts them; a tail that stops being one, and a clean Stop, cut
// them at once. Large writes are not preallocated for; the kernel is
// asked to start writing them out at once (sync_file_range).
package filestore
