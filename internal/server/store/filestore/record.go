package filestore

import (
	"encoding/binary"
	"hash/crc32"

	"github.com/sluicehq/sluice/internal/server/store"
)

// Record kinds.
const (
	kindMsg    byte = 1
	kindDelete byte = 2
	kindSkip   byte = 3
	kindBase   byte = 4
	kindLast   byte = 5
)

const (
	recMagic  = 0x31524c53 // "SLR1"
	hdrSize   = 32
	bodyFixed = 16        // ts and ttl of a message
	maxRecord = 1<<30 - 1 // refuse absurd lengths when scanning
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// recHeader is a decoded record header.
type recHeader struct {
	len   uint32
	seq   uint64
	kind  byte
	flags byte
	slen  uint16
	hlen  uint32
	bcrc  uint32
}

// appendMsg appends a message record to b.
func appendMsg(b []byte, seq uint64, ts, ttl int64, subj string, hdr, data []byte) []byte {
	n := hdrSize + bodyFixed + len(subj) + len(hdr) + len(data)
	start := len(b)
	b = append(b, make([]byte, hdrSize+bodyFixed)...)
	b = append(b, subj...)
	b = append(b, hdr...)
	b = append(b, data...)
	r := b[start:]
	binary.LittleEndian.PutUint64(r[32:], uint64(ts))
	binary.LittleEndian.PutUint64(r[40:], uint64(ttl))
	putHeader(r, uint32(n), seq, kindMsg, uint16(len(subj)), uint32(len(hdr)))
	return b
}

// appendCtl appends a record without payload (delete, base, last) or a
// skip of count sequences.
func appendCtl(b []byte, kind byte, seq, count uint64) []byte {
	n := hdrSize
	if kind == kindSkip {
		n += 8
	}
	start := len(b)
	b = append(b, make([]byte, n)...)
	r := b[start:]
	if kind == kindSkip {
		binary.LittleEndian.PutUint64(r[32:], count)
	}
	putHeader(r, uint32(n), seq, kind, 0, 0)
	return b
}

func putHeader(r []byte, n uint32, seq uint64, kind byte, slen uint16, hlen uint32) {
	putHeaderFlags(r, n, seq, kind, 0, slen, hlen)
}

func putHeaderFlags(r []byte, n uint32, seq uint64, kind, flags byte, slen uint16, hlen uint32) {
	le := binary.LittleEndian
	le.PutUint32(r[0:], recMagic)
	le.PutUint32(r[4:], n)
	le.PutUint64(r[8:], seq)
	r[16], r[17] = kind, flags
	le.PutUint16(r[18:], slen)
	le.PutUint32(r[20:], hlen)
	le.PutUint32(r[24:], crc32.Checksum(r[:24], castagnoli))
	le.PutUint32(r[28:], crc32.Checksum(r[hdrSize:n], castagnoli))
}

// decodeHeader checks and decodes the header at the start of b.
func decodeHeader(b []byte) (recHeader, bool) {
	if len(b) < hdrSize {
		return recHeader{}, false
	}
	le := binary.LittleEndian
	if le.Uint32(b) != recMagic || le.Uint32(b[24:]) != crc32.Checksum(b[:24], castagnoli) {
		return recHeader{}, false
	}
	h := recHeader{
		len:   le.Uint32(b[4:]),
		seq:   le.Uint64(b[8:]),
		kind:  b[16],
		slen:  le.Uint16(b[18:]),
		hlen:  le.Uint32(b[20:]),
		bcrc:  le.Uint32(b[28:]),
		flags: b[17],
	}
	if h.len < hdrSize || h.len > maxRecord || h.flags&^knownFlag != 0 || (h.flags != 0 && h.kind != kindMsg) {
		return recHeader{}, false
	}
	switch h.kind {
	case kindMsg:
		if h.slen == 0 || (h.flags == 0 && uint64(h.len) < hdrSize+bodyFixed+uint64(h.slen)+uint64(h.hlen)) || h.len == hdrSize {
			return recHeader{}, false
		}
	case kindSkip:
		if h.len != hdrSize+8 {
			return recHeader{}, false
		}
	case kindDelete, kindBase, kindLast:
		if h.len != hdrSize {
			return recHeader{}, false
		}
	default:
		return recHeader{}, false
	}
	return h, true
}

// bodyOK checks the body checksum of a whole record r.
func bodyOK(h recHeader, r []byte) bool {
	return crc32.Checksum(r[hdrSize:h.len], castagnoli) == h.bcrc
}

// meta is one record of a block without its payload: what the index holds
// and recovery needs.
type meta struct {
	kind  byte
	seq   uint64 // skip: first skipped; delete/base/last: operand
	count uint64 // skip: how many
	off   uint32
	len   uint32
	ts    int64
	ttl   int64
	size  uint64 // store.Size of a message
	subj  string
}

// scanResult is what scanning a block's bytes found.
type scanResult struct {
	metas   []meta
	corrupt []corruptRec
	end     int64  // end of the last whole record: bytes after it are a torn tail
	keyErr  error  // a sealed record that the key does not open (or no key)
	zlast   uint64 // the highest sequence of a damaged compressed chunk
}

// corruptRec is a record that failed its checksum.
type corruptRec struct {
	seq   uint64 // 0 when unknown
	bytes uint64
}

// scan parses records from b, which starts at file offset base. A header
// that fails is skipped by looking for the next valid one; a record that
// runs past the end of b ends the scan (torn tail).
func scan(b []byte, base int64, c *codec) scanResult {
	var res scanResult
	pos := 0
	for pos < len(b) {
		h, ok := decodeHeader(b[pos:])
		if !ok {
			next := resync(b, pos+1)
			if next < 0 {
				break // torn tail or garbage up to the end
			}
			res.corrupt = append(res.corrupt, corruptRec{seq: guessSeq(b[pos:next]), bytes: uint64(next - pos)})
			pos = next
			continue
		}
		if int(h.len) > len(b)-pos {
			break // torn: the record runs past the end
		}
		r := b[pos : pos+int(h.len)]
		if !bodyOK(h, r) && tornIntoZeros(r, b[pos+int(h.len):]) {
			break // torn in preallocated space: unwritten, not corrupt
		}
		if !bodyOK(h, r) {
			res.corrupt = append(res.corrupt, corruptRec{seq: h.seq, bytes: uint64(h.len)})
			pos += int(h.len)
			res.end = base + int64(pos)
			continue
		}
		m := meta{kind: h.kind, seq: h.seq, off: uint32(base + int64(pos)), len: h.len}
		switch h.kind {
		case kindMsg:
			body, err := c.body(h, r)
			if err != nil {
				if err != store.ErrCorrupt && res.keyErr == nil {
					res.keyErr = err
				}
				res.corrupt = append(res.corrupt, corruptRec{seq: h.seq, bytes: uint64(h.len)})
				pos += int(h.len)
				res.end = base + int64(pos)
				continue
			}
			ts, ttl, subj, hdr, data := fields(h, body)
			m.ts, m.ttl, m.subj = ts, ttl, string(subj)
			m.size = uint64(len(subj)+len(hdr)+len(data)) + 16
		case kindSkip:
			m.count = binary.LittleEndian.Uint64(r[32:])
		}
		res.metas = append(res.metas, m)
		pos += int(h.len)
		res.end = base + int64(pos)
	}
	if rest := b[pos:]; len(rest) >= hdrSize && binary.LittleEndian.Uint32(rest) == recMagic && guessSeq(rest) != 0 {
		// A whole record with a corrupt header, not a torn one: its length
		// field says exactly what is left.
		res.corrupt = append(res.corrupt, corruptRec{seq: guessSeq(rest), bytes: uint64(len(rest))})
		pos = len(b)
		res.end = base + int64(pos)
	}
	if res.end == 0 {
		res.end = base
	}
	return res
}

// tornIntoZeros reports whether a record that fails its body checksum
// is a write torn in preallocated space: it ends in zeros and only zeros
// follow it. (A record of a preallocated tail whose body ends in a zero
// byte and is corrupted later is taken for torn too: that is the last
// record of a crashed tail, which recovery then cuts.)
func tornIntoZeros(r, rest []byte) bool {
	return len(rest) > 0 && r[len(r)-1] == 0 && allZero(rest)
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// guessSeq reads the sequence of a record whose header failed its checksum,
// trusting it only when the length field matches the bytes the record
// spans (0: unknown).
func guessSeq(r []byte) uint64 {
	if len(r) < hdrSize || binary.LittleEndian.Uint32(r[4:]) != uint32(len(r)) {
		return 0
	}
	return binary.LittleEndian.Uint64(r[8:])
}

// resync finds the next offset at or after from holding a valid header
// whose record fits in b; -1 if none.
func resync(b []byte, from int) int {
	for p := from; p+hdrSize <= len(b); p++ {
		if b[p] != 'S' || b[p+1] != 'L' || b[p+2] != 'R' || b[p+3] != '1' {
			continue
		}
		if h, ok := decodeHeader(b[p:]); ok && int(h.len) <= len(b)-p {
			return p
		}
	}
	return -1
}
