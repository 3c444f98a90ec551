package server

import (
	"net"
	"sync"
)

// Chunk size classes for pending output. Small connections take small
// chunks; a busy one moves up to the large class so writev gets big
// contiguous pieces. Chunks go back to their pool once written.
const (
	chunkSmall  = 1024
	chunkMedium = 16 * 1024
	chunkLarge  = 64 * 1024
)

var chunkPools = [...]struct {
	size int
	pool sync.Pool
}{{size: chunkSmall}, {size: chunkMedium}, {size: chunkLarge}}

func getChunk(class int) []byte {
	if b, ok := chunkPools[class].pool.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, chunkPools[class].size)
}

func putChunk(b []byte) {
	for i := range chunkPools {
		if cap(b) == chunkPools[i].size {
			b = b[:0]
			chunkPools[i].pool.Put(&b)
			return
		}
	}
}

// outbound is a connection's pending output: a list of chunks appended to
// without ever copying what is already queued. Guarded by client.mu.
type outbound struct {
	chunks net.Buffers
	size   int // bytes queued
}

// reserve returns the last chunk with room for at least n more bytes,
// starting a new chunk when it lacks room. The caller appends to the
// returned slice and hands it back with commit.
func (o *outbound) reserve(n int) []byte {
	if k := len(o.chunks); k > 0 {
		last := o.chunks[k-1]
		if cap(last)-len(last) >= n {
			return last
		}
	}
	var c []byte
	switch {
	case n > chunkLarge:
		c = make([]byte, 0, n) // oversize message: a chunk of its own
	case o.size >= chunkMedium:
		c = getChunk(2)
	case o.size > 0 || n > chunkSmall:
		c = getChunk(1 + boolToInt(n > chunkMedium))
	default:
		c = getChunk(0)
	}
	o.chunks = append(o.chunks, c)
	return c
}

// commit records that the last chunk grew to b.
func (o *outbound) commit(b []byte) {
	k := len(o.chunks) - 1
	o.size += len(b) - len(o.chunks[k])
	o.chunks[k] = b
}

// write appends p, which may be of any length.
func (o *outbound) write(p []byte) {
	b := o.reserve(len(p))
	o.commit(append(b, p...))
}

// crlf ends a message whose payload was borrowed.
var crlf = []byte("\r\n")

// borrow queues p itself, not a copy: p must never change afterwards (a
// stored message as a store loads it). Cut to its length, it takes no
// appends, and its capacity keeps it out of the chunk pools; one whose
// length is a pool's size is copied instead.
func (o *outbound) borrow(p []byte) {
	p = p[:len(p):len(p)]
	for i := range chunkPools {
		if len(p) == chunkPools[i].size {
			o.write(p)
			return
		}
	}
	o.chunks = append(o.chunks, p)
	o.size += len(p)
}

// take hands the queued chunks to the writer, leaving the queue empty.
func (o *outbound) take(spare net.Buffers) (net.Buffers, int) {
	chunks, n := o.chunks, o.size
	o.chunks, o.size = spare[:0], 0
	return chunks, n
}

// drop discards everything queued.
func (o *outbound) drop() {
	releaseChunks(o.chunks)
	o.chunks, o.size = nil, 0
}

// releaseChunks returns written chunks to their pools.
func releaseChunks(chunks net.Buffers) {
	for i, c := range chunks {
		putChunk(c)
		chunks[i] = nil
	}
}

func boolToInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
