package filestore

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"path/filepath"

	"github.com/sluicehq/sluice/internal/server/store/vfs"
)

// block is one block file.
type block struct {
	id    uint32
	f     vfs.File
	size  int64  // next append offset
	alloc int64  // file bytes written, records and preallocated zeros (when above size)
	live  int    // live messages
	liveB int64  // bytes of their records
	dirty bool   // written since the last fsync
	metas []meta // records, kept for the tail only (to write its index)
	pend  []byte // the tail's records not written yet (the last len(pend) bytes of size)

	z      *zblock // a compressed block's layout (nil: the file holds the records as they are)
	gen    uint32  // bumped when its bytes change in place or its file is replaced
	ztried bool    // compressing it was not worth it
}

func blockName(dir string, id uint32) string {
	return filepath.Join(dir, fmt.Sprintf("%08d.blk", id))
}

func indexName(dir string, id uint32) string {
	return filepath.Join(dir, fmt.Sprintf("%08d.idx", id))
}

const idxMagic = 0x31494c53 // "SLI1"

// encodeIndexV1 writes the metas of block id covering n bytes in the
// first index format (read still; written by tests).
func encodeIndexV1(id uint32, n int64, metas []meta) []byte {
	le := binary.LittleEndian
	b := make([]byte, 0, 24+len(metas)*48)
	b = le.AppendUint32(b, idxMagic)
	b = le.AppendUint32(b, id)
	b = le.AppendUint64(b, uint64(n))
	b = le.AppendUint32(b, uint32(len(metas)))
	for _, m := range metas {
		b = append(b, m.kind)
		b = le.AppendUint64(b, m.seq)
		b = le.AppendUint64(b, m.count)
		b = le.AppendUint32(b, m.off)
		b = le.AppendUint32(b, m.len)
		b = le.AppendUint64(b, uint64(m.ts))
		b = le.AppendUint64(b, uint64(m.ttl))
		b = le.AppendUint64(b, m.size)
		b = le.AppendUint16(b, uint16(len(m.subj)))
		b = append(b, m.subj...)
	}
	return le.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// decodeIndexV1 reads an index of the first format.
func decodeIndexV1(b []byte, id uint32, intern map[string]string) (covered int64, metas []meta, ok bool) {
	le := binary.LittleEndian
	if len(b) < 24 || le.Uint32(b[len(b)-4:]) != crc32.Checksum(b[:len(b)-4], castagnoli) {
		return 0, nil, false
	}
	if le.Uint32(b) != idxMagic || le.Uint32(b[4:]) != id {
		return 0, nil, false
	}
	covered = int64(le.Uint64(b[8:]))
	n := int(le.Uint32(b[16:]))
	p, end := 20, len(b)-4
	metas = make([]meta, 0, min(n, (end-p)/51+1))
	for range n {
		if p+51 > end {
			return 0, nil, false
		}
		m := meta{
			kind:  b[p],
			seq:   le.Uint64(b[p+1:]),
			count: le.Uint64(b[p+9:]),
			off:   le.Uint32(b[p+17:]),
			len:   le.Uint32(b[p+21:]),
			ts:    int64(le.Uint64(b[p+25:])),
			ttl:   int64(le.Uint64(b[p+33:])),
			size:  le.Uint64(b[p+41:]),
		}
		sl := int(le.Uint16(b[p+49:]))
		p += 51
		if p+sl > end {
			return 0, nil, false
		}
		if intern != nil {
			sb := b[p : p+sl]
			if v, ok := intern[string(sb)]; ok {
				m.subj = v
			} else {
				m.subj = string(sb)
				intern[m.subj] = m.subj
			}
		} else {
			m.subj = string(b[p : p+sl])
		}
		p += sl
		metas = append(metas, m)
	}
	return covered, metas, p == end
}
