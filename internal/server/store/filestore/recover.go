package filestore

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/internal/engine"
	"github.com/sluicehq/sluice/internal/server/store/vfs"
)

// loadBlock reads the records of block id: from its index where it is
// valid, scanning the rest. A torn tail is cut off the file.
func (b *backend) loadBlock(id uint32, intern map[string]string) (*block, scanResult, error) {
	f, err := b.fs.OpenFile(blockName(b.dir, id), false)
	if err != nil {
		return nil, scanResult{}, err
	}
	size, err := f.Size()
	if err != nil {
		f.Close()
		return nil, scanResult{}, err
	}
	if blk, res, ok, err := b.loadZBlock(id, f, size, intern); ok || err != nil {
		if err != nil {
			f.Close()
		}
		return blk, res, err
	}
	var res scanResult
	from := int64(0)
	zeroTail := false // what follows the records is preallocated zeros
	if data, err := b.fs.ReadFile(indexName(b.dir, id)); err == nil {
		if covered, metas, ok := decodeIndex(b.codec.openIndex(id, data), id, intern); ok && covered <= size {
			res.metas, from = metas, covered
		} else {
			b.log.Noticef("store %s: index of block %d is stale or corrupt, rebuilding it from the block", b.name, id)
		}
	}
	if from < size {
		buf := make([]byte, size-from)
		if _, err := f.ReadAt(buf, from); err != nil && err != io.EOF {
			f.Close()
			return nil, scanResult{}, err
		}
		more := scan(buf, from, b.codec)
		if more.keyErr != nil {
			f.Close()
			return nil, scanResult{}, fmt.Errorf("%w: block %d: %v", store.ErrEncryption, id, more.keyErr)
		}
		res.metas = append(res.metas, more.metas...)
		res.corrupt = more.corrupt
		res.end = more.end
		zeroTail = allZero(buf[res.end-from:])
	} else {
		res.end = size
	}
	if res.end < size {
		if zeroTail {
			b.log.Noticef("store %s: block %d: cutting %d preallocated bytes after its last record", b.name, id, size-res.end)
		} else {
			b.log.Warnf("store %s: block %d has a torn tail of %d bytes, cutting it", b.name, id, size-res.end)
		}
		if err := f.Truncate(res.end); err != nil {
			f.Close()
			return nil, scanResult{}, err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, scanResult{}, err
		}
	}
	return &block{id: id, f: f, size: res.end}, res, nil
}

// recover rebuilds the index from the block files.
func (s *Store) recover() error {
	b := s.b
	// A clean stop fsynced everything and left a marker. The marker goes
	// (durably) before anything is written, so a later crash is never
	// taken for a clean stop.
	marker := filepath.Join(b.dir, cleanMarker)
	_, merr := b.fs.ReadFile(marker)
	clean := merr == nil
	if clean {
		if err := b.fs.Remove(marker); err != nil {
			return fmt.Errorf("%w: removing the clean-stop marker: %v", store.ErrWrite, err)
		}
		if err := b.fs.SyncDir(b.dir); err != nil {
			return fmt.Errorf("%w: %v", store.ErrWrite, err)
		}
	}
	ids, err := b.sortedIDs()
	if err != nil {
		return fmt.Errorf("%w: listing blocks: %v", store.ErrWrite, err)
	}
	if len(ids) == 0 {
		return nil
	}
	var (
		last, floor uint64
		lost        store.LostData
		unknownLost uint64
	)
	intern := make(map[string]string)
	for _, id := range ids {
		blk, res, err := b.loadBlock(id, intern)
		if err != nil {
			b.closeAll()
			if errors.Is(err, store.ErrEncryption) {
				return err
			}
			return fmt.Errorf("%w: reading block %d: %v", store.ErrWrite, id, err)
		}
		b.blocks[id] = blk
		b.order = append(b.order, blk)
		tailMetas := res.metas
		// File order matters: a tombstone deletes the record of its
		// sequence written before it in this block (a truncated sequence
		// may be used again later by a new message).
		if plainBlock(res.metas) {
			for _, m := range res.metas {
				switch m.kind {
				case kindMsg:
					last = max(last, m.seq)
					s.Engine.RestoreAdd(engine.Recovered[loc]{Seq: m.seq, Subj: m.subj, TS: m.ts, TTL: m.ttl, Size: m.size,
						P: loc{blk: id, off: m.off, len: m.len}})
				case kindSkip:
					last = max(last, m.seq+m.count-1)
				case kindBase:
					floor = max(floor, m.seq)
					last = max(last, m.seq-1)
				}
			}
		}
		var local []engine.Recovered[loc]
		pos := make(map[uint64]int)
		dels := make(map[uint64]bool)
		if plainBlock(res.metas) {
			res.metas = res.metas[:0:0]
		}
		for _, m := range res.metas {
			switch m.kind {
			case kindMsg:
				last = max(last, m.seq)
				pos[m.seq] = len(local)
				local = append(local, engine.Recovered[loc]{Seq: m.seq, Subj: m.subj, TS: m.ts, TTL: m.ttl, Size: m.size,
					P: loc{blk: id, off: m.off, len: m.len}})
			case kindDelete:
				dels[m.seq] = true
				if i, ok := pos[m.seq]; ok {
					local[i].Seq = 0
					delete(pos, m.seq)
				}
			case kindSkip:
				last = max(last, m.seq+m.count-1)
			case kindBase:
				floor = max(floor, m.seq)
				last = max(last, m.seq-1)
			case kindLast:
				last = m.seq
				floor = min(floor, m.seq+1)
				s.Engine.RestoreDropAbove(m.seq)
				for i := range local {
					if local[i].Seq > m.seq {
						delete(pos, local[i].Seq)
						local[i].Seq = 0
					}
				}
			}
		}
		for _, r := range local {
			if r.Seq != 0 {
				s.Engine.RestoreAdd(r)
			}
		}
		last = max(last, res.zlast) // a sequence lost with a chunk is not used again
		for _, c := range res.corrupt {
			if c.seq != 0 && dels[c.seq] {
				continue // erased: its body was overwritten on purpose
			}
			b.log.Errorf("store %s: block %d: dropping a corrupt record of %d bytes (sequence %d, 0 if unknown)", b.name, id, c.bytes, c.seq)
			lost.Bytes += c.bytes
			if c.seq != 0 {
				lost.Msgs = append(lost.Msgs, c.seq)
			} else {
				unknownLost++
			}
		}
		if id == ids[len(ids)-1] {
			blk.metas = tailMetas // the tail keeps its metas for its index
		}
	}
	// Messages below the floor are gone (purge, compact).
	b.floor = max(b.floor, floor)
	var lp *store.LostData
	if lost.Bytes > 0 {
		lp = &lost
		s.recoveryLost = &store.LostData{Msgs: append([]uint64(nil), lost.Msgs...), Bytes: lost.Bytes}
		if unknownLost > 0 {
			b.log.Errorf("store %s: %d corrupt records of unknown sequence were dropped", b.name, unknownLost)
		}
	}
	s.Engine.RestoreDone(floor, last, lp)
	s.Engine.EachLive(func(_ uint64, l loc) {
		blk := b.blocks[l.blk]
		blk.live++
		blk.liveB += int64(l.len)
	})
	// What recovery serves must be durable: after a crash or a failed
	// fsync, what the OS shows may not be on disk yet.
	if !clean {
		files := make([]vfs.File, 0, len(b.order))
		for _, blk := range b.order {
			files = append(files, blk.f)
		}
		if err := syncFiles(b.fs, b.dir, files, true); err != nil {
			b.closeAll()
			return fmt.Errorf("%w: syncing recovered blocks: %v", store.ErrWrite, err)
		}
	}
	// Blocks with nothing live left (other than the tail) go. One may hold
	// the newest base marker (its messages all lost to damage, say) while
	// the tail holds none yet: the tail gets one first.
	var dead []*block
	for _, blk := range b.order {
		if blk.live == 0 && blk != b.tail() {
			dead = append(dead, blk)
		}
	}
	if len(dead) > 0 && b.floor > 1 {
		if err := b.appendCtlTail(kindBase, b.floor, 0); err != nil {
			b.log.Warnf("store %s: keeping %d blocks with nothing live: %v", b.name, len(dead), err)
			dead = nil
		}
	}
	for _, blk := range dead {
		_ = b.removeBlock(blk)
	}
	return nil
}

// RegisterLostCallback implements store.Store. Data lost during recovery
// (before any callback could be registered) is reported to the first
// callback at once.
func (s *Store) RegisterLostCallback(cb store.LostCallback) {
	s.Engine.RegisterLostCallback(cb)
	s.Lock()
	lost := s.recoveryLost
	s.recoveryLost = nil
	s.Unlock()
	if lost != nil && cb != nil {
		cb(*lost)
	}
}

// Sync implements store.Store. Without SyncAlways it only writes what is
// buffered (a killed process loses nothing Sync returned for; a power
// loss may, as with the reference's default).
func (s *Store) Sync() error {
	if !s.Engine.Config().SyncAlways {
		s.Lock()
		defer s.Unlock()
		if s.ClosedLocked() {
			return store.ErrStoreClosed
		}
		if err := s.b.flush(); err != nil {
			return fmt.Errorf("%w: %v", store.ErrWrite, err)
		}
		return nil
	}
	return s.syncNow()
}

// syncNow fsyncs what was written since the last sync. The sync lock is
// held across the snapshot and the fsyncs, so a second Sync that finds
// nothing new still returns only after the first one's fsyncs are done.
func (s *Store) syncNow() error {
	s.sync.Lock()
	defer s.sync.Unlock()
	s.Lock()
	if s.ClosedLocked() {
		s.Unlock()
		return store.ErrStoreClosed
	}
	if s.syncErr != nil {
		s.Unlock()
		return fmt.Errorf("%w: an earlier fsync failed: %v", store.ErrWrite, s.syncErr)
	}
	// One write for every record stored since the last flush. A failure
	// fails this Sync (the callers' acks) and leaves the records buffered,
	// readable, for the next Sync to write.
	if err := s.b.flush(); err != nil {
		s.Unlock()
		return fmt.Errorf("%w: %v", store.ErrWrite, err)
	}
	var files []vfs.File
	for _, blk := range s.b.order {
		if blk.dirty {
			files = append(files, blk.f)
			blk.dirty = false
		}
	}
	dirDirty, closing := s.b.dirDirty, s.b.toClose
	s.b.dirDirty, s.b.toClose = false, nil
	s.Unlock()
	err := syncFiles(s.fs, s.b.dir, files, dirDirty)
	for _, f := range closing {
		f.Close()
	}
	if err != nil {
		s.log.Errorf("store %s: fsync failed, refusing writes until restarted: %v", s.b.name, err)
		s.Engine.Fail(err)
		s.Lock()
		s.syncErr = err
		s.Unlock()
		return fmt.Errorf("%w: %v", store.ErrWrite, err)
	}
	return nil
}

func syncFiles(fsys vfs.FS, dir string, files []vfs.File, dirDirty bool) error {
	if err := dataSyncAll(files); err != nil {
		return err
	}
	if dirDirty {
		return fsys.SyncDir(dir)
	}
	return nil
}

// plainBlock reports whether a block holds only messages, skips and base
// markers (no tombstone or last marker), the common case recovery handles
// without per-block bookkeeping.
func plainBlock(metas []meta) bool {
	for _, m := range metas {
		if m.kind == kindDelete || m.kind == kindLast {
			return false
		}
	}
	return true
}
