package engine

import (
	"encoding/binary"
	"math/bits"
	"sync"
)

// Packer is implemented by a Backend whose payload P can be written as a
// few unsigned numbers. The engine then keeps chunks of entries that are
// no longer the newest in a compact form (about 8 bytes an entry instead
// of 48 in the filestore): a million messages cost 8 MB of index, not 48.
type Packer[P any] interface {
	Pack(p P) Lanes
	Unpack(l Lanes) P
}

// Lanes are a packed payload.
type Lanes [3]uint64

// The columns of a frozen chunk.
const (
	colSubj = iota // subject id
	colTS          // ts with its sign bit flipped (unsigned order = signed order)
	colPrev        // seq-prev, 0: none
	colNext        // next-seq, 0: none
	colSize        // sz, TTL kind included
	colP           // the payload's lanes
	nCols   = colP + len(Lanes{})
)

// frozen is a full chunk stored column by column. Each column is a frame
// of reference: value = base + a w-byte number, w the fewest bytes that
// hold the column's range over the live entries (0 for a constant
// column). Entries keep their place, so an entry is read in place, with
// no decoding of its neighbours; a value set later that does not fit
// widens its column.
type frozen struct {
	seq0 uint64 // sequence of entry 0
	live [chunkLen / 64]uint64
	cols [nCols]column
}

// column is one field of a frozen chunk: chunkLen values of w bytes
// (exactly: a power-of-two size, no allocator rounding). A value is read
// as 8 bytes where 8 remain, byte by byte at the very end.
type column struct {
	base uint64
	w    uint8
	b    []byte
}

var widthMask = [9]uint64{0, 1<<8 - 1, 1<<16 - 1, 1<<24 - 1, 1<<32 - 1, 1<<40 - 1, 1<<48 - 1, 1<<56 - 1, ^uint64(0)}

func (c *column) get(j int) uint64 {
	w := int(c.w)
	if w == 0 {
		return c.base
	}
	o := j * w
	if o+8 <= len(c.b) {
		return c.base + binary.LittleEndian.Uint64(c.b[o:])&widthMask[w]
	}
	var v uint64
	for i := o + w - 1; i >= o; i-- {
		v = v<<8 | uint64(c.b[i])
	}
	return c.base + v
}

// set stores v at j if it fits the column's frame.
func (c *column) set(j int, v uint64) bool {
	d := v - c.base // modulo 2^64: with 8 bytes every v fits
	if d > widthMask[c.w] {
		return false
	}
	w := int(c.w)
	o := j * w
	if w == 0 {
		return true
	}
	if o+8 <= len(c.b) {
		p := c.b[o:]
		binary.LittleEndian.PutUint64(p, binary.LittleEndian.Uint64(p)&^widthMask[w]|d)
		return true
	}
	for i := o; i < o+w; i++ {
		c.b[i] = byte(d)
		d >>= 8
	}
	return true
}

// frame makes c hold values in [lo, hi], zero for now.
func (c *column) frame(lo, hi uint64) {
	c.base = lo
	c.w = uint8((bits.Len64(hi-lo) + 7) / 8)
	c.b = nil
	if c.w > 0 {
		c.b = make([]byte, chunkLen*int(c.w))
	}
}

func (f *frozen) isLive(j int) bool { return f.live[j>>6]&(1<<(j&63)) != 0 }

// scratch is freeze's column values, kept between freezes (256 KiB).
var scratch = sync.Pool{New: func() any { return new([nCols][chunkLen]uint64) }}

// track records value v of column c at j and widens the column's range.
func track(vals *[nCols][chunkLen]uint64, lo, hi *[nCols]uint64, c, j int, v uint64) {
	vals[c][j] = v
	lo[c], hi[c] = min(lo[c], v), max(hi[c], v)
}

// freeze encodes a full chunk whose entry 0 is sequence seq0: the column
// values and their ranges in one pass, then each column written in order.
// It runs on the append path once every chunkLen messages.
func freeze[P any](ents []entry[P], seq0 uint64, pk Packer[P]) *frozen {
	f := &frozen{seq0: seq0}
	vals := scratch.Get().(*[nCols][chunkLen]uint64)
	defer scratch.Put(vals)
	ents = ents[:chunkLen]
	some := false
	for j := range ents {
		if ents[j].s != nil {
			f.live[j>>6] |= 1 << (j & 63)
			some = true
		}
	}
	if !some {
		return f
	}
	var lo, hi [nCols]uint64
	for c := range lo {
		lo[c] = ^uint64(0)
	}
	for j := range ents {
		ent := &ents[j]
		if ent.s == nil {
			for c := range vals {
				vals[c][j] = 0 // a hole's value is any value
			}
			continue
		}
		seq := seq0 + uint64(j)
		var prev, next uint64
		if ent.prev != 0 {
			prev = seq - ent.prev
		}
		if ent.next != 0 {
			next = ent.next - seq
		}
		l := pk.Pack(ent.p)
		track(vals, &lo, &hi, colSubj, j, uint64(ent.s.id))
		track(vals, &lo, &hi, colTS, j, uint64(ent.ts)^1<<63)
		track(vals, &lo, &hi, colPrev, j, prev)
		track(vals, &lo, &hi, colNext, j, next)
		track(vals, &lo, &hi, colSize, j, uint64(ent.sz))
		track(vals, &lo, &hi, colP, j, l[0])
		track(vals, &lo, &hi, colP+1, j, l[1])
		track(vals, &lo, &hi, colP+2, j, l[2])
	}
	for c := range f.cols {
		col := &f.cols[c]
		col.frame(lo[c], hi[c])
		w := int(col.w)
		if w == 0 {
			continue
		}
		// In order, 8 bytes at a time: the bytes past a value's w are
		// zero and the next value overwrites them. A hole's value, 0
		// here, is any value.
		b, o := col.b, 0
		for j := range chunkLen {
			d := vals[c][j] - col.base
			if o+8 <= len(b) {
				binary.LittleEndian.PutUint64(b[o:], d)
			} else {
				col.set(j, vals[c][j])
			}
			o += w
		}
	}
	return f
}

// entry decodes entry j.
func frozenEntry[P any](f *frozen, j int, subjs *subjects, pk Packer[P]) entry[P] {
	if !f.isLive(j) {
		return entry[P]{}
	}
	seq := f.seq0 + uint64(j)
	ent := entry[P]{
		s:  subjs.ids[f.cols[colSubj].get(j)],
		ts: int64(f.cols[colTS].get(j) ^ 1<<63),
		sz: uint32(f.cols[colSize].get(j)),
	}
	if d := f.cols[colPrev].get(j); d != 0 {
		ent.prev = seq - d
	}
	if d := f.cols[colNext].get(j); d != 0 {
		ent.next = seq + d
	}
	var l Lanes
	for i := range l {
		l[i] = f.cols[colP+i].get(j)
	}
	ent.p = pk.Unpack(l)
	return ent
}

// thaw decodes the whole chunk.
func thaw[P any](f *frozen, subjs *subjects, pk Packer[P]) []entry[P] {
	ents := make([]entry[P], chunkLen)
	for j := range ents {
		ents[j] = frozenEntry(f, j, subjs, pk)
	}
	return ents
}

// setCol stores v in column c of live entry j. A v outside the column's
// frame widens it to a frame holding both (so a column is widened at
// most 8 times): the chunk's entries are written again, in O(chunkLen).
func (f *frozen) setCol(c, j int, v uint64) {
	col := &f.cols[c]
	if col.set(j, v) {
		return
	}
	top := col.base + widthMask[col.w]
	if top < col.base {
		top = ^uint64(0)
	}
	var n column
	n.frame(min(col.base, v), max(top, v))
	for k := range chunkLen {
		switch {
		case k == j:
			n.set(k, v)
		case f.isLive(k):
			n.set(k, col.get(k))
		}
	}
	*col = n
}

func (f *frozen) setPrev(j int, prev uint64) {
	var d uint64
	if prev != 0 {
		d = f.seq0 + uint64(j) - prev
	}
	f.setCol(colPrev, j, d)
}

func (f *frozen) setNext(j int, next uint64) {
	var d uint64
	if next != 0 {
		d = next - f.seq0 - uint64(j)
	}
	f.setCol(colNext, j, d)
}

func (f *frozen) setLanes(j int, l Lanes) {
	for i, v := range l {
		f.setCol(colP+i, j, v)
	}
}

// clear makes entry j hold no message.
func (f *frozen) clear(j int) { f.live[j>>6] &^= 1 << (j & 63) }

// bytes is the memory the chunk holds (tests, metrics).
func (f *frozen) bytes() int {
	n := 8 + len(f.live)*8
	for _, c := range f.cols {
		n += 24 + len(c.b)
	}
	return n
}
