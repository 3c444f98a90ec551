package filestore

// zstate is the queue of blocks waiting to be compressed, worked by one
// goroutine per store (or by hand in tests).
type zstate struct {
	queue  []uint32
	kick   chan struct{}
	stop   chan struct{}
	done   chan struct{}
	cache  zcache
	manual bool // tests: compressQueued runs only when called
}

// zwant reports whether sealed blocks are compressed: with s2 compression
// and no key (a sealed record does not compress; those stay compressed
// one by one, then sealed).
func (b *backend) zwant() bool {
	return b.codec != nil && b.codec.compress && b.codec.aead == nil
}

// zqueueLocked queues blk for compression when it is a sealed block that
// is not compressed yet.
func (b *backend) zqueueLocked(blk *block) {
	if !b.zwant() || blk == b.tail() || blk.z != nil || blk.ztried {
		return
	}
	for _, id := range b.zs.queue {
		if id == blk.id {
			return
		}
	}
	b.zs.queue = append(b.zs.queue, blk.id)
	select {
	case b.zs.kick <- struct{}{}:
	default:
	}
}

// zqueueAllLocked queues every sealed block that is not compressed.
func (b *backend) zqueueAllLocked() {
	for _, blk := range b.order {
		b.zqueueLocked(blk)
	}
}

// startCompressor starts the goroutine that compresses sealed blocks.
func (s *Store) startCompressor() {
	s.b.zs.stop = make(chan struct{})
	s.b.zs.done = make(chan struct{})
	if s.b.zs.manual {
		close(s.b.zs.done)
		return
	}
	go func() {
		defer close(s.b.zs.done)
		for {
			select {
			case <-s.b.zs.stop:
				return
			case <-s.b.zs.kick:
			}
			s.compressQueued()
		}
	}()
}

// stopCompressor stops it, waiting for a block being compressed (what is
// left queued is queued again by the next open).
func (s *Store) stopCompressor() {
	if s.b.zs.stop != nil {
		close(s.b.zs.stop)
		<-s.b.zs.done
		s.b.zs.stop = nil
	}
}

// compressQueued compresses the queued blocks, one at a time.
func (s *Store) compressQueued() {
	for {
		select {
		case <-s.b.zs.stop:
			return
		default:
		}
		s.Lock()
		if s.ClosedLocked() || len(s.b.zs.queue) == 0 {
			s.Unlock()
			return
		}
		id := s.b.zs.queue[0]
		s.b.zs.queue = s.b.zs.queue[1:]
		s.Unlock()
		s.compressBlock(id)
	}
}

// compressBlock rewrites sealed block id as a compressed block: its bytes
// are read and compressed without the lock, written to a temporary file
// and fsynced; then, under the lock, what was appended meanwhile
// (tombstones) is copied after the chunks and the file renamed over the
// block. A block changed in place meanwhile (erase, compaction) is left
// alone. On any failure the block stays as it was.
func (s *Store) compressBlock(id uint32) {
	b := s.b
	s.Lock()
	blk := b.blocks[id]
	if s.ClosedLocked() || blk == nil || blk == b.tail() || blk.z != nil || blk.ztried || b.failed != nil || !b.zwant() {
		s.Unlock()
		return
	}
	f, size, gen := blk.f, blk.size, blk.gen
	s.Unlock()

	buf := make([]byte, size)
	if n, err := f.ReadAt(buf, 0); int64(n) < size {
		b.log.Warnf("store %s: reading block %d to compress it: %v", b.name, id, err)
		return
	}
	img, chunks, ok := zbuild(buf, b.codec)
	if !ok || len(img) > len(buf)-len(buf)/8 {
		s.Lock()
		if b.blocks[id] == blk && blk.gen == gen {
			blk.ztried = true // not worth it (or not whole records): keep it as it is
		}
		s.Unlock()
		return
	}
	name := blockName(b.dir, id)
	tmp := name + ".z.tmp"
	tf, err := b.fs.OpenFile(tmp, true)
	if err != nil {
		b.log.Warnf("store %s: compressing block %d: %v", b.name, id, err)
		return
	}
	abort := func(err error) {
		tf.Close()
		_ = b.fs.Remove(tmp)
		if err != nil {
			b.log.Warnf("store %s: compressing block %d: %v", b.name, id, err)
		}
	}
	err = tf.Truncate(0)
	if err == nil {
		_, err = tf.WriteAt(img, 0)
	}
	if err == nil {
		err = tf.Sync()
	}
	if err != nil {
		abort(err)
		return
	}

	s.Lock()
	if s.ClosedLocked() || b.blocks[id] != blk || blk.gen != gen || blk.f != f || b.failed != nil {
		s.Unlock()
		abort(nil)
		return
	}
	if blk.size > size {
		// Tombstones appended meanwhile: they follow the chunks.
		more := make([]byte, blk.size-size)
		_, err = f.ReadAt(more, size)
		if err == nil {
			_, err = tf.WriteAt(more, int64(len(img)))
		}
		if err == nil {
			err = tf.Sync()
		}
	}
	if err == nil {
		err = tf.Close()
	}
	if err == nil {
		err = b.fs.Rename(tmp, name)
	}
	if err != nil {
		s.Unlock()
		abort(err)
		return
	}
	// From here the compressed file is the block; the next Sync (or the
	// directory sync below) makes the rename durable.
	b.dirDirty = true
	nf, err := b.fs.OpenFile(name, false)
	if err != nil {
		b.failed = err
		b.log.Errorf("store %s: reopening compressed block %d: %v", b.name, id, err)
		s.Unlock()
		return
	}
	b.toClose = append(b.toClose, f)
	b.ra.forget(id)
	blk.f = nf
	blk.z = &zblock{ulen: size, suffix: int64(len(img)), n: len(chunks), cache: &b.zs.cache, chunks: chunks, walked: true}
	blk.gen++
	blk.dirty = false // everything in it was fsynced above
	s.Unlock()
	if err := b.fs.SyncDir(b.dir); err != nil {
		b.log.Warnf("store %s: syncing the directory after compressing block %d: %v", b.name, id, err)
	}
}

// compressNow compresses the blocks waiting for it now, in the caller's
// goroutine (tests; the store does it in the background).
func (s *Store) compressNow() { s.compressQueued() }
