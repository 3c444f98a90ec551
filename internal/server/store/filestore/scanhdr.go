package filestore

import (
	"errors"
	"io"

	"github.com/sluicehq/sluice/internal/server/store"
)

// scanChunk is what ScanHeaders reads at a time.
const scanChunk = 256 << 10

// ScanHeaders calls fn in sequence order for every live message from start
// on: hdr is its header, nil when it has none, and ts its time when hdr is
// not nil. The block files are read sequentially in large chunks and only
// records that carry a header are checked and decoded, so rebuilding the
// duplicate window after a restart costs about a read of the bytes, not a
// load per message. A record whose body fails its checksum is left out
// (reading it reports it lost). fn runs under the store's lock: it must
// not call the store, and hdr is only valid during the call. Messages
// stored while the scan runs may be missed. fn returning false stops.
func (s *Store) ScanHeaders(start uint64, fn func(seq uint64, ts int64, hdr []byte) bool) error {
	first, err := s.Engine.LoadNext(">", start)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
	s.Lock()
	if s.ClosedLocked() {
		s.Unlock()
		return store.ErrStoreClosed
	}
	l, ok := s.Engine.PeekLocked(first.Seq)
	blocks := append([]*block(nil), s.b.order...)
	s.Unlock()
	if !ok {
		return nil // removed meanwhile: nothing to rebuild from
	}
	sc := &hdrScan{s: s, start: first.Seq, fn: fn}
	for _, blk := range blocks {
		if blk.id < l.blk {
			continue
		}
		off := int64(0)
		if blk.id == l.blk {
			off = int64(l.off)
		}
		more, err := sc.block(blk, off)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// hdrScan is one ScanHeaders run.
type hdrScan struct {
	s     *Store
	start uint64
	fn    func(seq uint64, ts int64, hdr []byte) bool
	buf   []byte
}

// block scans blk from off; false when fn asked to stop.
func (sc *hdrScan) block(blk *block, off int64) (bool, error) {
	s := sc.s
	s.Lock()
	defer s.Unlock()
	if s.ClosedLocked() {
		return false, store.ErrStoreClosed
	}
	if s.b.blocks[blk.id] != blk {
		return true, nil // removed or compacted away meanwhile
	}
	if sc.buf == nil {
		sc.buf = make([]byte, scanChunk)
	}
	var (
		w    []byte // the bytes of blk at [wOff, wOff+len(w))
		wOff = off
		need = int64(hdrSize) // bytes wanted at pos: a header, or a whole record to decode
	)
	for pos := off; pos+hdrSize <= blk.size; {
		if pos < wOff || pos+need > wOff+int64(len(w)) {
			n := max(int64(scanChunk), need)
			if int64(cap(sc.buf)) < n {
				sc.buf = make([]byte, n)
			}
			n = min(n, blk.size-pos)
			zend := int64(-1)
			if blk.z != nil {
				// One chunk at a time: a damaged one is skipped alone.
				if zend = blk.z.span(blk.f, pos); zend > 0 {
					n = min(n, zend-pos)
				}
			}
			if n < need {
				return true, nil // torn: recovery cut it; nothing more here
			}
			if err := blk.readAt(sc.buf[:n], pos); err != nil {
				if zend > 0 && errors.Is(err, store.ErrCorrupt) {
					pos, w, need = zend, nil, hdrSize // reading its messages reports them lost
					continue
				}
				return false, err
			}
			w, wOff = sc.buf[:n], pos
		}
		r := w[pos-wOff:]
		h, ok := decodeHeader(r)
		if !ok {
			// A damaged header: recovery skipped it the same way, up to
			// the next valid one.
			pos += nextHeader(r)
			continue
		}
		if h.kind != kindMsg || h.seq < sc.start {
			pos += int64(h.len)
			continue
		}
		if l, live := s.Engine.PeekLocked(h.seq); !live || l.blk != blk.id || int64(l.off) != pos {
			pos += int64(h.len)
			continue
		}
		if h.hlen == 0 {
			if !sc.fn(h.seq, 0, nil) {
				return false, nil
			}
			pos += int64(h.len)
			continue
		}
		if int64(h.len) > int64(len(r)) {
			need = int64(h.len) // read the whole record
			continue
		}
		need = hdrSize
		r = r[:h.len]
		if bodyOK(h, r) {
			if body, err := s.b.codec.body(h, r); err == nil {
				ts, _, _, hdr, _ := fields(h, body)
				if !sc.fn(h.seq, ts, hdr) {
					return false, nil
				}
			}
		}
		pos += int64(h.len)
	}
	return true, nil
}

// nextHeader is the offset in r, after its start, of the next valid
// record header; past every place a header could start in r when none is.
func nextHeader(r []byte) int64 {
	p := 1
	for ; p+hdrSize <= len(r); p++ {
		if r[p] == 'S' && r[p+1] == 'L' && r[p+2] == 'R' && r[p+3] == '1' {
			if _, ok := decodeHeader(r[p:]); ok {
				return int64(p)
			}
		}
	}
	return int64(p)
}

// readAt fills p with the bytes of blk at off, from the file and from
// what is still buffered.
func (blk *block) readAt(p []byte, off int64) error {
	if blk.z != nil {
		return blk.z.readAt(blk.f, p, off)
	}
	inFile := blk.size - int64(len(blk.pend))
	n := 0
	if off < inFile {
		k := int(min(int64(len(p)), inFile-off))
		got, err := blk.f.ReadAt(p[:k], off)
		if got < k {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		n = k
	}
	if n < len(p) {
		copy(p[n:], blk.pend[off+int64(n)-inFile:])
	}
	return nil
}
