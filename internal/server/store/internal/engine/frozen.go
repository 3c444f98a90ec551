package engine

import (
	"encoding/binary"
	"math/bits"
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

// values are the column values of ent at sequence seq.
func values[P any](ent *entry[P], seq uint64, pk Packer[P]) (v [nCols]uint64) {
	v[colSubj] = uint64(ent.s.id)
	v[colTS] = uint64(ent.ts) ^ 1<<63
	if ent.prev != 0 {
		v[colPrev] = seq - ent.prev
	}
	if ent.next != 0 {
		v[colNext] = ent.next - seq
	}
	v[colSize] = uint64(ent.sz)
	l := pk.Pack(ent.p)
	copy(v[colP:], l[:])
	return v
}

// freeze encodes a full chunk whose entry 0 is sequence seq0.
func freeze[P any](ents []entry[P], seq0 uint64, pk Packer[P]) *frozen {
	f := &frozen{seq0: seq0}
	var lo, hi [nCols]uint64
	for i := range lo {
		lo[i] = ^uint64(0)
	}
	some := false
	for j := range ents {
		ent := &ents[j]
		if ent.s == nil {
			continue
		}
		some = true
		f.live[j>>6] |= 1 << (j & 63)
		v := values(ent, seq0+uint64(j), pk)
		for c := range v {
			lo[c] = min(lo[c], v[c])
			hi[c] = max(hi[c], v[c])
		}
	}
	if !some {
		return f
	}
	for c := range f.cols {
		f.cols[c].frame(lo[c], hi[c])
	}
	for j := range ents {
		if f.isLive(j) {
			v := values(&ents[j], seq0+uint64(j), pk)
			for c := range f.cols {
				f.cols[c].set(j, v[c])
			}
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
