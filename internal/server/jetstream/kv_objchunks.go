package jetstream

import "strings"

// Object chunks are acknowledged once written, not once fsynced: an
// object is put as its chunks ($O.<bucket>.C.<nuid>) then its meta
// message ($O.<bucket>.M.<name>), and the client's put returns only when
// every ack, the meta's last, is in. The meta's ack waits for an fsync of
// everything stored before it, chunks included, so a put that returned
// survives a power loss as before, while the chunks stream in at the
// speed of writes (the disk writes them meanwhile, see the filestore's
// StartWriteback) instead of one fsync per group, which on a slow disk
// also filled the ingest queue and refused chunks (429). A power loss in
// the middle of a put loses chunks of an object whose put never returned.
// Written chunks survive a killed process.

// objChunkPrefix is the chunk subject prefix of an object store's stream
// ("" for other streams).
func objChunkPrefix(stream string) string {
	bucket, ok := strings.CutPrefix(stream, "OBJ_")
	if !ok || bucket == "" {
		return ""
	}
	return "$O." + bucket + ".C."
}

// flusher is a store that can write what it buffers without an fsync
// (the file store).
type flusher interface{ Flush() error }
