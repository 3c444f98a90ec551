package route

import (
	"net"
	"sync"
)

// chunkSize is the unit of a route's pending output: appending never
// copies what is queued, and the writer hands the chunks to one writev.
const chunkSize = 64 * 1024

var chunkPool = sync.Pool{New: func() any { b := make([]byte, 0, chunkSize); return &b }}

// outbound is a route's pending output. Guarded by Conn.mu.
type outbound struct {
	chunks net.Buffers
	size   int
}

// reserve returns the last chunk with room for n more bytes.
func (o *outbound) reserve(n int) []byte {
	if k := len(o.chunks); k > 0 {
		last := o.chunks[k-1]
		if cap(last)-len(last) >= n {
			return last
		}
	}
	var c []byte
	if n > chunkSize {
		c = make([]byte, 0, n)
	} else {
		c = (*chunkPool.Get().(*[]byte))[:0]
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

func (o *outbound) write(p []byte) {
	o.commit(append(o.reserve(len(p)), p...))
}

// take hands every queued chunk to the writer.
func (o *outbound) take(spare net.Buffers) net.Buffers {
	bufs := o.chunks
	o.chunks, o.size = spare[:0], 0
	return bufs
}

func recycle(bufs net.Buffers) {
	for _, b := range bufs {
		if cap(b) == chunkSize {
			b = b[:0]
			chunkPool.Put(&b)
		}
	}
}
