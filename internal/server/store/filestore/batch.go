package filestore

import (
	"fmt"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/internal/engine"
)

var _ engine.BatchBackend[loc] = (*backend)(nil)

// ReadBatch implements engine.BatchBackend. Records that lie back to back
// in the file of a plain block are read with one pread.
func (b *backend) ReadBatch(ps []loc, ms []store.Msg, buf []byte) ([]byte, int, error) {
	total := 0
	for _, l := range ps {
		total += int(l.len)
	}
	if cap(buf) < total {
		buf = make([]byte, total+total/4)
	}
	buf = buf[:total]
	at := 0
	for i := 0; i < len(ps); {
		l := ps[i]
		blk := b.blocks[l.blk]
		if blk == nil {
			return buf, i, fmt.Errorf("block %d of message %d is gone", l.blk, ms[i].Seq)
		}
		j, end := i+1, int64(l.off)+int64(l.len)
		if blk.z == nil && blk.pending(int64(l.off), int(l.len)) == nil {
			inFile := blk.size - int64(len(blk.pend))
			for j < len(ps) && ps[j].blk == l.blk && int64(ps[j].off) == end && end+int64(ps[j].len) <= inFile {
				end += int64(ps[j].len)
				j++
			}
			n := int(end - int64(l.off))
			if _, err := blk.f.ReadAt(buf[at:at+n], int64(l.off)); err != nil {
				return buf, i, fmt.Errorf("reading message %d: %w", ms[i].Seq, err)
			}
		} else if err := b.readRecord(blk, ms[i].Seq, l, buf[at:at+int(l.len)]); err != nil {
			return buf, i, err
		}
		for ; i < j; i++ {
			r := buf[at : at+int(ps[i].len) : at+int(ps[i].len)]
			at += len(r)
			if err := b.decode(ms[i].Seq, ps[i], r, &ms[i]); err != nil {
				return buf, i, err
			}
		}
	}
	return buf, len(ps), nil
}
