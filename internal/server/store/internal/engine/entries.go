package engine

// entries is the index window: entry i is sequence base+i. It is kept in
// chunks of chunkLen entries, so that growing never copies the window
// (one slice doubling its way to a million entries spent a fifth of an
// async publisher's server CPU in memmove and clearing fresh memory) and
// the front is released a chunk at a time as the first sequence moves.
// Only the newest chunk grows by append, from small: a stream of a few
// messages does not pay for a whole chunk.
//
// With a Packer, a chunk is frozen (frozen.go) once two newer ones exist:
// the newest two, where appends and the links of recent messages are
// written, stay plain entries. Every access goes through the methods
// below by sequence, never through a pointer kept across calls.
type entries[P any] struct {
	chunks []chunk[P] // every chunk but the last holds chunkLen
	head   int        // entries of chunks[0] before entry 0
	n      int
	base   uint64    // sequence of entry 0
	subjs  *subjects // subject ids of frozen entries
	pk     Packer[P] // nil: chunks stay plain
}

// chunk is either plain entries or frozen.
type chunk[P any] struct {
	ents []entry[P]
	fz   *frozen
}

const (
	chunkBits = 12
	chunkLen  = 1 << chunkBits
	chunkMask = chunkLen - 1
)

func (x *entries[P]) len() int { return x.n }

// end is the sequence after the last entry.
func (x *entries[P]) end() uint64 { return x.base + uint64(x.n) }

// covers reports whether seq is in the window.
func (x *entries[P]) covers(seq uint64) bool { return seq >= x.base && seq-x.base < uint64(x.n) }

// slot is the chunk and the place in it of seq, which the window covers.
func (x *entries[P]) slot(seq uint64) (*chunk[P], int) {
	k := x.head + int(seq-x.base)
	return &x.chunks[k>>chunkBits], k & chunkMask
}

// get returns the entry of seq (s nil: no message).
func (x *entries[P]) get(seq uint64) entry[P] {
	c, j := x.slot(seq)
	if c.fz == nil {
		return c.ents[j]
	}
	return frozenEntry(c.fz, j, x.subjs, x.pk)
}

// payload is the payload of the message at seq.
func (x *entries[P]) payload(seq uint64) P {
	c, j := x.slot(seq)
	if c.fz == nil {
		return c.ents[j].p
	}
	var l Lanes
	for i := range l {
		l[i] = c.fz.cols[colP+i].get(j)
	}
	return x.pk.Unpack(l)
}

// subj is the subject of the message at seq, nil when there is none.
func (x *entries[P]) subj(seq uint64) *subj {
	c, j := x.slot(seq)
	if c.fz == nil {
		return c.ents[j].s
	}
	if !c.fz.isLive(j) {
		return nil
	}
	return x.subjs.ids[c.fz.cols[colSubj].get(j)]
}

// prev is the previous sequence of the same subject as the message at seq.
func (x *entries[P]) prev(seq uint64) uint64 {
	c, j := x.slot(seq)
	if c.fz == nil {
		return c.ents[j].prev
	}
	if d := c.fz.cols[colPrev].get(j); d != 0 && c.fz.isLive(j) {
		return seq - d
	}
	return 0
}

// next is the next sequence of the same subject as the message at seq.
func (x *entries[P]) next(seq uint64) uint64 {
	c, j := x.slot(seq)
	if c.fz == nil {
		return c.ents[j].next
	}
	if d := c.fz.cols[colNext].get(j); d != 0 && c.fz.isLive(j) {
		return seq + d
	}
	return 0
}

func (x *entries[P]) setPrev(seq, prev uint64) {
	if c, j := x.slot(seq); c.fz == nil {
		c.ents[j].prev = prev
	} else {
		c.fz.setPrev(j, prev)
	}
}

func (x *entries[P]) setNext(seq, next uint64) {
	if c, j := x.slot(seq); c.fz == nil {
		c.ents[j].next = next
	} else {
		c.fz.setNext(j, next)
	}
}

func (x *entries[P]) setP(seq uint64, p P) {
	if c, j := x.slot(seq); c.fz == nil {
		c.ents[j].p = p
	} else {
		c.fz.setLanes(j, x.pk.Pack(p))
	}
}

// clear makes seq hold no message.
func (x *entries[P]) clear(seq uint64) {
	if c, j := x.slot(seq); c.fz == nil {
		c.ents[j] = entry[P]{}
	} else {
		c.fz.clear(j)
	}
}

// push adds an entry after the last.
func (x *entries[P]) push(ent entry[P]) {
	k := len(x.chunks) - 1
	if k < 0 || len(x.chunks[k].ents) == chunkLen {
		c := 16
		if k >= 0 {
			c = chunkLen
		}
		x.chunks = append(x.chunks, chunk[P]{ents: make([]entry[P], 0, c)})
		k++
		if k >= 2 && x.pk != nil && x.chunks[k-2].fz == nil {
			old := &x.chunks[k-2]
			old.fz = freeze(old.ents, x.base-uint64(x.head)+uint64(k-2)*chunkLen, x.pk)
			old.ents = nil
		}
	}
	x.chunks[k].ents = append(x.chunks[k].ents, ent)
	x.n++
}

// dropFront forgets the first k entries (which the caller has cleared).
func (x *entries[P]) dropFront(k int) {
	x.head += k
	x.n -= k
	x.base += uint64(k)
	for x.head >= chunkLen {
		x.chunks[0] = chunk[P]{}
		x.chunks = x.chunks[1:]
		x.head -= chunkLen
	}
	if x.n == 0 {
		x.reset(x.base)
	}
}

// truncate keeps the first n entries (those after them are cleared, so
// that payloads they point to can be collected). The chunk that becomes
// the newest is thawed: only plain chunks grow.
func (x *entries[P]) truncate(n int) {
	if n >= x.n {
		return
	}
	if n == 0 {
		x.reset(x.base)
		return
	}
	j := x.head + n
	k := (j - 1) >> chunkBits // the chunk of the last entry kept
	c := &x.chunks[k]
	if c.fz != nil {
		c.ents, c.fz = thaw(c.fz, x.subjs, x.pk), nil
	}
	keep := j - k*chunkLen
	clear(c.ents[keep:])
	c.ents = c.ents[:keep]
	for i := k + 1; i < len(x.chunks); i++ {
		x.chunks[i] = chunk[P]{}
	}
	x.chunks = x.chunks[:k+1]
	x.n = n
}

// reset empties the window so that it starts at seq. The newest chunk's
// memory is kept for the entries that follow (a purged stream filling up
// again).
func (x *entries[P]) reset(seq uint64) {
	var keep []entry[P]
	if k := len(x.chunks) - 1; k >= 0 {
		keep = x.chunks[k].ents
		clear(keep)
		keep = keep[:0]
	}
	clear(x.chunks)
	x.chunks = x.chunks[:0]
	if cap(keep) > 0 {
		x.chunks = append(x.chunks, chunk[P]{ents: keep})
	}
	x.head, x.n, x.base = 0, 0, seq
}
