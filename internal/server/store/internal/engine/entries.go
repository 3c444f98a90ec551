package engine

// entries is the index window: entry i is sequence base+i. It is kept in
// chunks of chunkLen entries, so that growing never copies the window
// (one slice doubling its way to a million entries spent a fifth of an
// async publisher's server CPU in memmove and clearing fresh memory) and
// the front is released a chunk at a time as the first sequence moves.
// Only the newest chunk grows by append, from small: a stream of a few
// messages does not pay for a whole chunk.
type entries[P any] struct {
	chunks [][]entry[P] // every chunk but the last holds chunkLen
	head   int          // entries of chunks[0] before entry 0
	n      int
}

const (
	chunkBits = 12
	chunkLen  = 1 << chunkBits
	chunkMask = chunkLen - 1
)

func (x *entries[P]) len() int { return x.n }

// at returns entry i, 0 <= i < len().
func (x *entries[P]) at(i int) *entry[P] {
	j := x.head + i
	return &x.chunks[j>>chunkBits][j&chunkMask]
}

// push adds an entry after the last.
func (x *entries[P]) push(ent entry[P]) {
	k := len(x.chunks) - 1
	if k < 0 || len(x.chunks[k]) == chunkLen {
		c := 16
		if k >= 0 {
			c = chunkLen
		}
		x.chunks = append(x.chunks, make([]entry[P], 0, c))
		k++
	}
	x.chunks[k] = append(x.chunks[k], ent)
	x.n++
}

// dropFront forgets the first k entries (which the caller has cleared).
func (x *entries[P]) dropFront(k int) {
	x.head += k
	x.n -= k
	for x.head >= chunkLen {
		x.chunks[0] = nil
		x.chunks = x.chunks[1:]
		x.head -= chunkLen
	}
	if x.n == 0 {
		x.reset()
	}
}

// truncate keeps the first n entries (those after them are cleared, so
// that payloads they point to can be collected).
func (x *entries[P]) truncate(n int) {
	if n >= x.n {
		return
	}
	if n == 0 {
		x.reset()
		return
	}
	j := x.head + n // first entry to drop
	k := j >> chunkBits
	last := x.chunks[k][:j&chunkMask]
	clear(x.chunks[k][j&chunkMask:])
	for i := k + 1; i < len(x.chunks); i++ {
		x.chunks[i] = nil
	}
	x.chunks = x.chunks[:k+1]
	x.chunks[k] = last
	if len(last) == 0 {
		x.chunks = x.chunks[:k]
	}
	x.n = n
}

// reset empties the window. The newest chunk's memory is kept for the
// entries that follow (a purged stream filling up again).
func (x *entries[P]) reset() {
	var keep []entry[P]
	if k := len(x.chunks) - 1; k >= 0 {
		keep = x.chunks[k]
		clear(keep)
		keep = keep[:0]
	}
	clear(x.chunks)
	x.chunks = x.chunks[:0]
	if cap(keep) > 0 {
		x.chunks = append(x.chunks, keep)
	}
	x.head, x.n = 0, 0
}
