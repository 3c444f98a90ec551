package filestore

import (
	"encoding/binary"
	"hash/crc32"
)

// The index format (see doc.go, "Index"): the fields of the records in
// columns, each value a varint and most of them a difference from the
// record before, so that what repeats (kinds, lengths, subjects, zero
// TTLs) is runs of equal bytes that the index's s2 compression removes.
//
//	"SLI2" | id u32 | covered u64 | n u32 | 8 columns (len u32 | bytes) | crc u32
//
// Columns: kind (a byte each); seq (zigzag difference); off (zigzag
// difference from the end of the record before); len; then, for messages
// only, ts (zigzag difference), ttl (zigzag), size (zigzag difference from
// len-32, the size of a plain record) and subject (0 the one before, 1 a
// new one whose length and bytes follow, k>1 the (k-2)th new one); and
// count for skips only.
const idx2Magic = 0x32494c53 // "SLI2"

const idx2Cols = 8

func encodeIndex(id uint32, n int64, metas []meta) []byte {
	var cols [idx2Cols][]byte
	var (
		seq      uint64
		end      uint32
		ts       int64
		subj     string
		subjects = map[string]int{}
	)
	zz := func(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }
	for _, m := range metas {
		cols[0] = append(cols[0], m.kind)
		cols[1] = binary.AppendUvarint(cols[1], zz(int64(m.seq-seq)))
		cols[2] = binary.AppendUvarint(cols[2], zz(int64(m.off)-int64(end)))
		cols[3] = binary.AppendUvarint(cols[3], uint64(m.len))
		seq, end = m.seq, m.off+m.len
		switch m.kind {
		case kindMsg:
			cols[4] = binary.AppendUvarint(cols[4], zz(m.ts-ts))
			cols[5] = binary.AppendUvarint(cols[5], zz(m.ttl))
			cols[6] = binary.AppendUvarint(cols[6], zz(int64(m.size)-(int64(m.len)-hdrSize)))
			ts = m.ts
			switch k, ok := subjects[m.subj]; {
			case m.subj == subj && len(subjects) > 0:
				cols[7] = append(cols[7], 0)
			case ok:
				cols[7] = binary.AppendUvarint(cols[7], uint64(k)+2)
			default:
				subjects[m.subj] = len(subjects)
				cols[7] = append(cols[7], 1)
				cols[7] = binary.AppendUvarint(cols[7], uint64(len(m.subj)))
				cols[7] = append(cols[7], m.subj...)
			}
			subj = m.subj
		case kindSkip:
			cols[4] = binary.AppendUvarint(cols[4], m.count)
		}
	}
	le := binary.LittleEndian
	size := 24
	for _, c := range cols {
		size += 4 + len(c)
	}
	b := make([]byte, 0, size)
	b = le.AppendUint32(b, idx2Magic)
	b = le.AppendUint32(b, id)
	b = le.AppendUint64(b, uint64(n))
	b = le.AppendUint32(b, uint32(len(metas)))
	for _, c := range cols {
		b = le.AppendUint32(b, uint32(len(c)))
		b = append(b, c...)
	}
	return le.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// decodeIndex reads an index; ok false when it is corrupt or not block id's.
// intern shares subject strings across blocks (nil: no sharing).
func decodeIndex(b []byte, id uint32, intern map[string]string) (covered int64, metas []meta, ok bool) {
	le := binary.LittleEndian
	if len(b) >= 4 && le.Uint32(b) == idxMagic {
		return decodeIndexV1(b, id, intern)
	}
	if len(b) < 24+4*idx2Cols || le.Uint32(b[len(b)-4:]) != crc32.Checksum(b[:len(b)-4], castagnoli) {
		return 0, nil, false
	}
	if le.Uint32(b) != idx2Magic || le.Uint32(b[4:]) != id {
		return 0, nil, false
	}
	covered = int64(le.Uint64(b[8:]))
	n := int(le.Uint32(b[16:]))
	var cols [idx2Cols][]byte
	p, stop := 20, len(b)-4
	for i := range cols {
		if p+4 > stop {
			return 0, nil, false
		}
		l := int(le.Uint32(b[p:]))
		p += 4
		if l > stop-p {
			return 0, nil, false
		}
		cols[i] = b[p : p+l]
		p += l
	}
	if p != stop || n != len(cols[0]) {
		return 0, nil, false
	}
	bad := false
	uv := func(c int) uint64 {
		v, k := binary.Uvarint(cols[c])
		if k <= 0 {
			bad = true
			return 0
		}
		cols[c] = cols[c][k:]
		return v
	}
	unzz := func(v uint64) int64 { return int64(v>>1) ^ -int64(v&1) }
	var (
		seq      uint64
		end      uint32
		ts       int64
		subj     string
		subjects []string
	)
	metas = make([]meta, 0, n)
	for i := range n {
		m := meta{kind: cols[0][i]}
		m.seq = seq + uint64(unzz(uv(1)))
		m.off = uint32(int64(end) + unzz(uv(2)))
		m.len = uint32(uv(3))
		seq, end = m.seq, m.off+m.len
		switch m.kind {
		case kindMsg:
			ts += unzz(uv(4))
			m.ts = ts
			m.ttl = unzz(uv(5))
			m.size = uint64(unzz(uv(6)) + int64(m.len) - hdrSize)
			switch k := uv(7); {
			case bad:
			case k == 0:
				if len(subjects) == 0 {
					return 0, nil, false
				}
			case k == 1:
				l := int(uv(7))
				if bad || l > len(cols[7]) {
					return 0, nil, false
				}
				sb := cols[7][:l]
				cols[7] = cols[7][l:]
				if v, ok := intern[string(sb)]; ok {
					subj = v
				} else {
					subj = string(sb)
					if intern != nil {
						intern[subj] = subj
					}
				}
				subjects = append(subjects, subj)
			default:
				if k-2 >= uint64(len(subjects)) {
					return 0, nil, false
				}
				subj = subjects[k-2]
			}
			m.subj = subj
		case kindSkip:
			m.count = uv(4)
		}
		if bad {
			return 0, nil, false
		}
		metas = append(metas, m)
	}
	for _, c := range cols[1:] {
		if len(c) != 0 {
			return 0, nil, false
		}
	}
	return covered, metas, true
}
