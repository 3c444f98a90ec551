package filestore

import (
	"io"
	"sync"
)

// readAheadSize is what one read brings in once reads look sequential.
const readAheadSize = 128 << 10

// readAhead serves sequential reads (a consumer catching up, the dedupe
// window rebuilt at restart, batched gets) from one larger read instead of
// one pread per record. Reads run under the engine's read lock, so it has
// its own lock; writers that change bytes already on disk (erase, block
// compaction) call forget under the engine's write lock.
type readAhead struct {
	mu  sync.Mutex
	blk uint32 // 0: empty
	off int64  // file offset of buf[0]
	buf []byte
	end int64 // end of the last record read (sequential detection)
	at  uint32
}

// read copies the record at l into r when it is buffered, or when it
// follows the previous read and a read-ahead brings it in.
func (ra *readAhead) read(blk *block, l loc, r []byte) bool {
	ra.mu.Lock()
	defer ra.mu.Unlock()
	off, n := int64(l.off), int64(l.len)
	seqNext := ra.at == blk.id && ra.end == off
	ra.at, ra.end = blk.id, off+n
	if ra.blk == blk.id && off >= ra.off && off+n <= ra.off+int64(len(ra.buf)) {
		copy(r, ra.buf[off-ra.off:])
		return true
	}
	if !seqNext || n > readAheadSize/2 {
		return false
	}
	// Up to what is in the file: the tail's buffered records are not.
	limit := min(off+readAheadSize, blk.size-int64(len(blk.pend)))
	if limit < off+n {
		return false
	}
	if ra.buf == nil {
		ra.buf = make([]byte, readAheadSize)
	}
	got, err := blk.f.ReadAt(ra.buf[:limit-off], off)
	if err != nil && err != io.EOF || int64(got) < n {
		ra.blk = 0
		return false
	}
	ra.blk, ra.off, ra.buf = blk.id, off, ra.buf[:got]
	copy(r, ra.buf[:n])
	return true
}

// forget drops what is buffered of block id.
func (ra *readAhead) forget(id uint32) {
	ra.mu.Lock()
	if ra.blk == id {
		ra.blk = 0
	}
	ra.at = 0
	ra.mu.Unlock()
}
