package filestore

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/internal/engine"
	"github.com/sluicehq/sluice/internal/server/store/vfs"
)

// Options are the filestore's knobs beyond store.Config.
type Options struct {
	FS        vfs.FS       // vfs.OS{} when nil
	Logger    store.Logger // discards when nil
	BlockSize int64        // bytes before a new block is started; 8 MiB when 0

	manualCompress bool // tests: sealed blocks are compressed by compressNow only
}

const (
	defaultBlockSize    = 8 << 20
	defaultSyncInterval = 2 * time.Minute
)

// loc is where a message's record lives.
type loc struct {
	blk uint32
	off uint32
	len uint32
}

// Pack and Unpack implement engine.Packer: the engine keeps older
// entries compactly (frozen chunks).
func (b *backend) Pack(l loc) engine.Lanes {
	return engine.Lanes{uint64(l.blk), uint64(l.off), uint64(l.len)}
}

// Unpack implements engine.Packer.
func (b *backend) Unpack(v engine.Lanes) loc {
	return loc{blk: uint32(v[0]), off: uint32(v[1]), len: uint32(v[2])}
}

// backend implements engine.Backend over block files. Its fields are
// guarded by the engine's lock (written under the write lock; Read runs
// under the read lock and only reads).
type backend struct {
	fs        vfs.FS
	dir       string // the blk directory
	log       store.Logger
	name      string
	blockSize int64

	blocks   map[uint32]*block
	order    []*block // by id; the last is the tail
	floor    uint64   // newest base marker
	dirDirty bool
	toClose  []vfs.File
	failed   error // a write that could not be undone
	wbuf     []byte
	rng      *rand.Rand
	eng      *engine.Engine[loc] // for block compaction (under its lock)
	ra       readAhead
	codec    *codec
	zs       zstate // compression of sealed blocks (zjob.go)
}

// Store is a file store.
type Store struct {
	*engine.Engine[loc]
	b    *backend
	dir  string
	fs   vfs.FS
	log  store.Logger
	sync sync.Mutex // serialises Sync (see syncNow)

	recoveryLost *store.LostData // reported to the first lost callback
	syncErr      error           // a failed fsync: never retried as if the data were safe
	stopBG       chan struct{}
	bgDone       chan struct{}

	cmu       sync.Mutex
	consumers map[string]*consumerStore
}

var _ store.Store = (*Store)(nil)

// Open opens (recovering) or creates the store kept in dir.
func Open(dir string, cfg store.Config, opts Options) (*Store, error) {
	if opts.FS == nil {
		opts.FS = vfs.OS{}
	}
	if opts.Logger == nil {
		opts.Logger = store.NopLogger{}
	}
	if opts.BlockSize <= 0 {
		opts.BlockSize = defaultBlockSize
	}
	if dir == "" {
		return nil, fmt.Errorf("%w: empty directory", store.ErrBadConfig)
	}
	b := &backend{
		fs: opts.FS, dir: filepath.Join(dir, "blk"), log: opts.Logger, name: cfg.Name,
		blockSize: opts.BlockSize, blocks: make(map[uint32]*block),
		floor: max(cfg.FirstSeq, 1), rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1)),
		zs: zstate{kick: make(chan struct{}, 1), manual: opts.manualCompress},
	}
	e, err := engine.New(cfg, engine.Backend[loc](b), engine.Options{Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	if err := opts.FS.MkdirAll(b.dir); err != nil {
		return nil, fmt.Errorf("%w: %v", store.ErrWrite, err)
	}
	b.eng = e
	// The key file is checked before anything is read or changed: a
	// wrong or missing key refuses the store as it is.
	c, keyFileData, err := openCodec(opts.FS, dir, cfg)
	if err != nil {
		if !errors.Is(err, store.ErrEncryption) {
			err = fmt.Errorf("%w: %v", store.ErrEncryption, err)
		}
		return nil, err
	}
	b.codec = c
	s := &Store{Engine: e, b: b, dir: dir, fs: opts.FS, log: opts.Logger, consumers: make(map[string]*consumerStore)}
	if err := s.recover(); err != nil {
		b.closeAll()
		return nil, err
	}
	if keyFileData != nil {
		// A new key file, or the data key re-sealed with a new key.
		if err := vfs.WriteFileAtomic(opts.FS, filepath.Join(dir, keyFile), keyFileData, true); err != nil {
			b.closeAll()
			return nil, fmt.Errorf("%w: writing the key file: %v", store.ErrWrite, err)
		}
	}
	s.startBackground()
	s.Lock()
	b.zqueueAllLocked()
	s.Unlock()
	s.startCompressor()
	return s, nil
}

// Type implements store.Store.
func (*Store) Type() store.StorageType { return store.FileStorage }

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

func (b *backend) tail() *block {
	if len(b.order) == 0 {
		return nil
	}
	return b.order[len(b.order)-1]
}

// write appends rec to blk. The tail's records are buffered (blk.pend)
// and reach the file in one write at the next flush (Sync, a full buffer,
// a new tail, Stop); other blocks are written at once, and on failure what
// was written is cut.
func (b *backend) write(blk *block, rec []byte) error {
	if b.failed != nil {
		return b.failed
	}
	if blk == b.tail() && blk.z == nil {
		if len(blk.pend)+len(rec) > maxPending {
			if err := b.flush(); err != nil {
				return err
			}
		}
		blk.pend = append(blk.pend, rec...)
		blk.size += int64(len(rec))
		return nil
	}
	if err := b.writeAt(blk, rec, blk.phys(blk.size)); err != nil {
		return err
	}
	blk.size += int64(len(rec))
	blk.dirty = true
	return nil
}

// maxPending bounds the tail's write buffer.
const maxPending = 1 << 20

// writeAt writes rec at off; on failure it cuts what part of the write
// landed, durably: a batch of records must not survive a crash after the
// call that wrote them failed.
func (b *backend) writeAt(blk *block, rec []byte, off int64) error {
	if _, err := blk.f.WriteAt(rec, off); err != nil {
		terr := blk.f.Truncate(off)
		if terr == nil {
			terr = blk.f.Sync()
		}
		if terr != nil {
			b.failed = fmt.Errorf("write failed (%v) and could not be undone: %v", err, terr)
			b.log.Errorf("store %s: %v", b.name, b.failed)
		}
		return err
	}
	return nil
}

// flush writes the tail's buffered records. On failure they stay buffered
// (and readable) for the next flush to try again.
func (b *backend) flush() error {
	t := b.tail()
	if t == nil || len(t.pend) == 0 {
		return nil
	}
	if b.failed != nil {
		return b.failed
	}
	n := len(t.pend)
	if err := b.writeAt(t, t.pend, t.size-int64(n)); err != nil {
		return err
	}
	t.alloc = max(t.alloc, t.size)
	b.prealloc(t, n)
	if n >= preallocMaxWrite {
		// Large records (an object's chunks): the disk starts on them now,
		// so the fsync that makes them durable has less left to wait for.
		vfs.StartWriteback(t.f, t.size-int64(n), int64(n))
	}
	// The buffer is kept for the next group unless a huge record grew it
	// (append overshoots maxPending: dropping it at that size made every
	// group of large records grow it again, copying it each time).
	if cap(t.pend) > 2*maxPending {
		t.pend = nil
	} else {
		t.pend = t.pend[:0]
	}
	t.dirty = true
	return nil
}

// Preallocation. An fsync after an append that grew the file also
// commits the new size and extents (on ext4 a journal commit, a second
// device flush); over bytes already written, fdatasync flushes the data
// alone. So a tail taking small appends is filled with zeros ahead of its
// end, preallocChunk at a time (fallocate would not do: its unwritten
// extents are converted, in the journal, when first written). Recovery
// sees the zeros as an unwritten tail (no record starts with a zero
// byte) and cuts them; a tail that stops being one, and a clean Stop,
// cut them at once. Large writes (an object's chunks) gain nothing and
// would write twice: they are not preallocated for.
const (
	preallocChunk    = 1 << 20
	preallocMaxWrite = 64 << 10
)

// zeros is what preallocation writes (read only).
var zeros = make([]byte, preallocChunk)

// prealloc extends the tail's preallocated zeros after a write of n bytes.
// A failure is harmless (the next append grows the file as without it).
func (b *backend) prealloc(t *block, n int) {
	if n >= preallocMaxWrite || t.alloc-t.size >= preallocChunk/4 || t.size >= b.blockSize {
		return
	}
	end := min(t.size+preallocChunk, b.blockSize)
	if end <= t.alloc {
		return
	}
	if _, err := t.f.WriteAt(zeros[:end-t.alloc], t.alloc); err != nil {
		b.log.Warnf("store %s: preallocating block %d: %v", b.name, t.id, err)
		return
	}
	t.alloc = end
}

// cutPrealloc cuts blk's preallocated zeros off the file (a failure is
// logged: recovery cuts them).
func (b *backend) cutPrealloc(blk *block) {
	if blk.alloc <= blk.size {
		return
	}
	if err := blk.f.Truncate(blk.size); err != nil {
		b.log.Warnf("store %s: cutting the preallocated tail of block %d: %v", b.name, blk.id, err)
		return
	}
	blk.alloc = blk.size
	blk.dirty = true
}

// pending returns the bytes of blk at [off, off+n) while they are still
// buffered (nil otherwise).
func (blk *block) pending(off int64, n int) []byte {
	start := blk.size - int64(len(blk.pend))
	if len(blk.pend) == 0 || off < start {
		return nil
	}
	return blk.pend[off-start : off-start+int64(n)]
}

// tailFor returns the block to append to, starting a new one when needed.
func (b *backend) tailFor() (*block, error) {
	t := b.tail()
	if t != nil && t.size < b.blockSize && t.z == nil { // a compressed block left last by recovery takes no more messages
		return t, nil
	}
	if b.failed != nil {
		return nil, b.failed
	}
	if err := b.flush(); err != nil {
		return nil, err
	}
	id := uint32(1)
	if t != nil {
		id = t.id + 1
	}
	f, err := b.fs.OpenFile(blockName(b.dir, id), true)
	if err != nil {
		return nil, err
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		return nil, err
	}
	nb := &block{id: id, f: f}
	rec := appendCtl(nil, kindBase, b.floor, 0)
	if err := b.write(nb, rec); err != nil {
		f.Close()
		_ = b.fs.Remove(blockName(b.dir, id))
		return nil, err
	}
	nb.metas = append(nb.metas, meta{kind: kindBase, seq: b.floor, len: uint32(len(rec))})
	b.dirDirty = true
	if t != nil {
		b.cutPrealloc(t)
		b.writeIndex(t)
		// The new tail reuses the old one's metas: grown afresh, the
		// slice of a full block's ~40,000 records was copied and cleared
		// at every doubling, a tenth of an async publisher's server CPU.
		clear(t.metas)
		nb.metas = append(t.metas[:0], nb.metas...)
		t.metas = nil
		nb.pend, t.pend = t.pend[:0], nil // reuse the buffer
	}
	b.blocks[id] = nb
	b.order = append(b.order, nb)
	if t != nil {
		b.zqueueLocked(t)
	}
	return nb, nil
}

// writeIndex saves blk's index (no fsync: a torn index fails its checksum
// and the block is scanned instead).
func (b *backend) writeIndex(blk *block) {
	data := b.codec.sealIndex(blk.id, encodeIndex(blk.id, blk.size, blk.metas))
	if err := vfs.WriteFileAtomic(b.fs, indexName(b.dir, blk.id), data, false); err != nil {
		b.log.Warnf("store %s: writing index of block %d: %v", b.name, blk.id, err)
	}
}

// Append implements engine.Backend.
func (b *backend) Append(seq uint64, ts, ttl int64, subj string, hdr, data []byte) (loc, error) {
	t, err := b.tailFor()
	if err != nil {
		return loc{}, err
	}
	if t.size+int64(hdrSize+bodyFixed+64+len(subj)+len(hdr)+len(data)) > 1<<32-1 {
		return loc{}, errors.New("record does not fit in a block")
	}
	b.wbuf = b.codec.appendMsgRec(b.wbuf[:0], seq, ts, ttl, subj, hdr, data)
	off := t.size
	if err := b.write(t, b.wbuf); err != nil {
		return loc{}, err
	}
	t.live++
	t.liveB += int64(len(b.wbuf))
	t.metas = append(t.metas, meta{kind: kindMsg, seq: seq, off: uint32(off), len: uint32(len(b.wbuf)),
		ts: ts, ttl: ttl, size: store.Size(subj, hdr, data), subj: subj})
	return loc{blk: t.id, off: uint32(off), len: uint32(len(b.wbuf))}, nil
}

// appendCtlTail appends a control record to the tail.
func (b *backend) appendCtlTail(kind byte, seq, count uint64) error {
	t, err := b.tailFor()
	if err != nil {
		return err
	}
	b.wbuf = appendCtl(b.wbuf[:0], kind, seq, count)
	off := t.size
	if err := b.write(t, b.wbuf); err != nil {
		return err
	}
	t.metas = append(t.metas, meta{kind: kind, seq: seq, count: count, off: uint32(off), len: uint32(len(b.wbuf))})
	return nil
}

// Skip implements engine.Backend.
func (b *backend) Skip(seq, n uint64) error { return b.appendCtlTail(kindSkip, seq, n) }

// Read implements engine.Backend.
func (b *backend) Read(seq uint64, l loc, m *store.Msg) error {
	blk := b.blocks[l.blk]
	if blk == nil {
		return fmt.Errorf("block %d of message %d is gone", l.blk, seq)
	}
	r := make([]byte, l.len)
	if err := b.readRecord(blk, seq, l, r); err != nil {
		return err
	}
	return b.decode(seq, l, r, m)
}

// readRecord reads the record of message seq at l of blk into r.
func (b *backend) readRecord(blk *block, seq uint64, l loc, r []byte) error {
	if blk.z != nil {
		if err := blk.z.readAt(blk.f, r, int64(l.off)); err != nil {
			if errors.Is(err, store.ErrCorrupt) {
				return store.ErrCorrupt
			}
			return fmt.Errorf("reading message %d: %w", seq, err)
		}
	} else if p := blk.pending(int64(l.off), int(l.len)); p != nil {
		copy(r, p)
	} else if !b.ra.read(blk, l, r) {
		if _, err := blk.f.ReadAt(r, int64(l.off)); err != nil {
			return fmt.Errorf("reading message %d: %w", seq, err)
		}
	}
	return nil
}

// decode checks the record r of message seq and points m's header and
// data into it.
func (b *backend) decode(seq uint64, l loc, r []byte, m *store.Msg) error {
	h, ok := decodeHeader(r)
	if !ok || h.len != l.len || h.seq != seq || h.kind != kindMsg || !bodyOK(h, r) {
		return store.ErrCorrupt
	}
	body, err := b.codec.body(h, r)
	if err != nil {
		return store.ErrCorrupt
	}
	_, _, subj, hdr, data := fields(h, body)
	if string(subj) != m.Subject {
		return store.ErrCorrupt
	}
	if len(hdr) > 0 {
		m.Header = hdr
	}
	m.Data = data
	return nil
}

// group splits removals by block, in block order (so that writes happen
// in the same order on every run).
func group(rm []engine.Removed[loc]) [][]engine.Removed[loc] {
	g := make(map[uint32][]engine.Removed[loc])
	var ids []uint32
	for _, r := range rm {
		if g[r.P.blk] == nil {
			ids = append(ids, r.P.blk)
		}
		g[r.P.blk] = append(g[r.P.blk], r)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := make([][]engine.Removed[loc], len(ids))
	for i, id := range ids {
		out[i] = g[id]
	}
	return out
}

// tombstone removes messages of one block: the whole block when nothing
// else in it is live, tombstones otherwise (erase: and the bodies
// overwritten).
func (b *backend) tombstone(blk *block, rs []engine.Removed[loc], erase bool) error {
	if blk.live == len(rs) && blk != b.tail() {
		if err := b.removeBlock(blk); err == nil {
			return nil
		}
	}
	b.wbuf = b.wbuf[:0]
	for _, r := range rs {
		b.wbuf = appendCtl(b.wbuf, kindDelete, r.Seq, 0)
	}
	off := blk.size
	if err := b.write(blk, b.wbuf); err != nil {
		return err
	}
	if blk.metas != nil {
		for i, r := range rs {
			blk.metas = append(blk.metas, meta{kind: kindDelete, seq: r.Seq, off: uint32(off) + uint32(i*hdrSize), len: hdrSize})
		}
	}
	blk.live -= len(rs)
	for _, r := range rs {
		blk.liveB -= int64(r.P.len)
	}
	zerase := false // an erased record sits in compressed chunks: the block is rewritten without it
	if erase {
		b.ra.forget(blk.id)
		blk.gen++
		for _, r := range rs {
			if blk.z != nil && int64(r.P.off) < blk.z.ulen {
				zerase = true
				continue
			}
			junk := make([]byte, r.P.len-hdrSize)
			for i := range junk {
				junk[i] = byte(b.rng.Uint32())
			}
			if p := blk.pending(int64(r.P.off)+hdrSize, len(junk)); p != nil {
				copy(p, junk)
			} else if _, err := blk.f.WriteAt(junk, int64(r.P.off)+hdrSize); err != nil {
				b.log.Warnf("store %s: erasing message %d: %v", b.name, r.Seq, err)
			}
		}
	}
	if blk != b.tail() && blk.live > 0 && (zerase || blk.liveB*2 < blk.size && blk.size >= b.blockSize/4) {
		gone := make(map[uint64]bool, len(rs))
		for _, r := range rs {
			gone[r.Seq] = true
		}
		b.compactBlock(blk, gone)
		if zerase && blk.z != nil {
			b.log.Warnf("store %s: block %d could not be rewritten: erased messages stay in its compressed chunks", b.name, blk.id)
		}
	}
	return nil
}

// compactBlock rewrites a block that is mostly deleted with its live
// records only (through a temporary file, fsynced, renamed over it), so
// the space of removed messages comes back even when a few messages keep
// the block alive. On any failure the old block stays as it is.
// gone lists messages being removed right now (still in the engine's
// index until this call returns).
func (b *backend) compactBlock(blk *block, gone map[uint64]bool) {
	buf := make([]byte, blk.size)
	if err := blk.readAt(buf, 0); err != nil {
		return
	}
	out := appendCtl(nil, kindBase, b.floor, 0)
	type moved struct {
		seq uint64
		l   loc
	}
	var mv []moved
	for _, m := range scan(buf, 0, b.codec).metas {
		if m.kind != kindMsg || gone[m.seq] {
			continue
		}
		if l, ok := b.eng.PeekLocked(m.seq); !ok || l.blk != blk.id || l.off != m.off {
			continue
		}
		mv = append(mv, moved{m.seq, loc{blk: blk.id, off: uint32(len(out)), len: m.len}})
		out = append(out, buf[m.off:m.off+m.len]...)
	}
	if len(mv) != blk.live {
		return // something live did not read back: leave the block alone
	}
	name := blockName(b.dir, blk.id)
	tmp := name + ".tmp"
	tf, err := b.fs.OpenFile(tmp, true)
	if err == nil {
		err = tf.Truncate(0)
		if err == nil {
			_, err = tf.WriteAt(out, 0)
		}
		if err == nil {
			err = tf.Sync()
		}
		if cerr := tf.Close(); err == nil {
			err = cerr
		}
	}
	if err == nil {
		err = b.fs.Rename(tmp, name)
	}
	if err != nil {
		_ = b.fs.Remove(tmp)
		b.log.Warnf("store %s: compacting block %d: %v", b.name, blk.id, err)
		return
	}
	// From here the compacted file is the block, whatever happens next;
	// the next Sync makes the rename durable.
	b.dirDirty = true
	_ = b.fs.Remove(indexName(b.dir, blk.id))
	f, err := b.fs.OpenFile(name, false)
	if err != nil {
		b.failed = fmt.Errorf("reopening compacted block %d: %v", blk.id, err)
		return
	}
	b.toClose = append(b.toClose, blk.f)
	b.ra.forget(blk.id)
	if blk.z != nil {
		b.zs.cache.forget(blk.z)
	}
	blk.f, blk.size, blk.dirty, blk.liveB = f, int64(len(out)), false, int64(len(out))-hdrSize
	blk.alloc = blk.size
	blk.z, blk.gen, blk.ztried = nil, blk.gen+1, false
	for _, m := range mv {
		b.eng.RelocateLocked(m.seq, m.l)
	}
	b.zqueueLocked(blk)
}

// removeBlock deletes a block's files. The file handle is closed by the
// next Sync (one may be fsyncing it right now).
func (b *backend) removeBlock(blk *block) error {
	if err := b.fs.Remove(blockName(b.dir, blk.id)); err != nil && !vfs.IsNotExist(err) {
		b.log.Warnf("store %s: removing block %d: %v", b.name, blk.id, err)
		return err
	}
	_ = b.fs.Remove(indexName(b.dir, blk.id))
	delete(b.blocks, blk.id)
	for i, o := range b.order {
		if o == blk {
			b.order = append(b.order[:i], b.order[i+1:]...)
			break
		}
	}
	b.toClose = append(b.toClose, blk.f)
	b.dirDirty = true
	blk.gen++
	if blk.z != nil {
		b.zs.cache.forget(blk.z)
	}
	return nil
}

// Remove implements engine.Backend.
func (b *backend) Remove(rm []engine.Removed[loc], erase bool) (int, error) {
	if b.failed != nil {
		return 0, b.failed
	}
	done := 0
	for _, rs := range group(rm) {
		if blk := b.blocks[rs[0].P.blk]; blk != nil {
			if err := b.tombstone(blk, rs, erase); err != nil {
				return done, err
			}
		}
		done += len(rs)
	}
	return done, nil
}

// Compact implements engine.Backend: a base marker in the tail covers
// every message below first, and blocks left empty go.
func (b *backend) Compact(first uint64, rm []engine.Removed[loc]) error {
	if b.failed != nil {
		return b.failed
	}
	// The floor moves only once the marker is written: a new tail
	// started on the way must not carry the new floor yet.
	if err := b.appendCtlTail(kindBase, first, 0); err != nil {
		return err
	}
	b.floor = max(b.floor, first)
	for _, rs := range group(rm) {
		if blk := b.blocks[rs[0].P.blk]; blk != nil {
			blk.live -= len(rs)
			for _, r := range rs {
				blk.liveB -= int64(r.P.len)
			}
			if blk.live <= 0 && blk != b.tail() {
				_ = b.removeBlock(blk) // the base marker covers it anyway
			}
		}
	}
	return nil
}

// Truncate implements engine.Backend: tombstones for the live messages
// above last, then a last marker in the tail.
func (b *backend) Truncate(last uint64, rm []engine.Removed[loc]) error {
	if n, err := b.Remove(rm, false); err != nil {
		if n > 0 {
			b.failed = fmt.Errorf("truncate half done: %v", err)
		}
		return err
	}
	if err := b.appendCtlTail(kindLast, last, 0); err != nil {
		if len(rm) > 0 {
			b.failed = fmt.Errorf("truncate half done: %v", err)
		}
		return err
	}
	b.floor = min(b.floor, last+1)
	return nil
}

func (b *backend) closeAll() {
	for _, blk := range b.order {
		blk.f.Close()
	}
	for _, f := range b.toClose {
		f.Close()
	}
	b.toClose = nil
}

// parseBlockName returns the id of a block file name.
func parseBlockName(n string) (uint32, bool) {
	id, ok := strings.CutSuffix(n, ".blk")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseUint(id, 10, 32)
	return uint32(v), err == nil && v > 0
}

// sortedIDs lists the block ids in dir.
func (b *backend) sortedIDs() ([]uint32, error) {
	names, err := b.fs.ReadDir(b.dir)
	if err != nil {
		return nil, err
	}
	var ids []uint32
	for _, n := range names {
		if id, ok := parseBlockName(n); ok {
			ids = append(ids, id)
		} else if strings.HasSuffix(n, ".tmp") {
			_ = b.fs.Remove(filepath.Join(b.dir, n))
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, nil
}
