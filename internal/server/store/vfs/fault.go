package vfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Op names an operation FaultFS can fail.
type Op int

// Operations.
const (
	OpOpen Op = iota
	OpRead
	OpWrite
	OpTruncate
	OpSync
	OpRename
	OpRemove
	OpSyncDir
)

// ErrInjected is the error an injected fault returns.
var ErrInjected = errors.New("injected fault")

// FaultFS is an in-memory filesystem that remembers what is durable, for
// crash and fault tests. It is safe for concurrent use.
type FaultFS struct {
	mu      sync.Mutex
	rng     *rand.Rand
	files   map[string]*node // what the OS shows
	durable map[string]*node // directory entries that survive a crash
	gen     int              // crash generation: older handles are dead
	inject  func(op Op, name string) error
}

type node struct {
	data    []byte // current contents
	durable []byte // contents that survive a crash
	log     []write
}

// write is one change since the last fsync, replayed partly on a crash.
type write struct {
	off   int64
	data  []byte // nil with trunc
	trunc bool
}

// NewFaultFS returns an empty FaultFS whose random choices (torn writes,
// crashes) come from seed.
func NewFaultFS(seed uint64) *FaultFS {
	return &FaultFS{rng: rand.New(rand.NewPCG(seed, 0x5eed)), files: map[string]*node{}, durable: map[string]*node{}}
}

// Inject sets a function called before every operation: a non-nil error
// fails it (a failing write may leave a torn prefix). nil removes it.
func (f *FaultFS) Inject(fn func(op Op, name string) error) {
	f.mu.Lock()
	f.inject = fn
	f.mu.Unlock()
}

func (f *FaultFS) faultLocked(op Op, name string) error {
	if f.inject == nil {
		return nil
	}
	return f.inject(op, name)
}

// Crash simulates a power loss: unsynced directory changes are undone and
// each file keeps its durable contents plus a random prefix of its unsynced
// writes, the last of them possibly torn. Open handles stop working.
func (f *FaultFS) Crash() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gen++
	files := make(map[string]*node, len(f.durable))
	names := make([]string, 0, len(f.durable))
	for name := range f.durable {
		names = append(names, name)
	}
	sort.Strings(names) // the same random choices on every run of a seed
	for _, name := range names {
		n := f.durable[name]
		data := append([]byte(nil), n.durable...)
		keep := 0
		if len(n.log) > 0 {
			keep = f.rng.IntN(len(n.log) + 1)
		}
		for i, w := range n.log[:keep] {
			if w.trunc {
				data = resize(data, w.off)
				continue
			}
			b := w.data
			if i == keep-1 && len(b) > 0 {
				b = b[:f.rng.IntN(len(b)+1)] // torn
			}
			if end := w.off + int64(len(b)); end > int64(len(data)) {
				data = resize(data, end)
			}
			copy(data[w.off:], b)
		}
		nn := &node{data: data, durable: append([]byte(nil), data...)}
		files[name] = nn
	}
	f.files = files
	f.durable = make(map[string]*node, len(files))
	for k, v := range files {
		f.durable[k] = v
	}
}

func resize(b []byte, n int64) []byte {
	if n <= int64(len(b)) {
		return b[:n]
	}
	return append(b, make([]byte, n-int64(len(b)))...)
}

// FlipBit flips one bit of a file, in both its current and durable
// contents (a sector that reads back wrong).
func (f *FaultFS) FlipBit(name string, off int64, bit uint) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.files[name]
	if n == nil || off >= int64(len(n.data)) {
		return fmt.Errorf("flip %s at %d: out of range", name, off)
	}
	n.data[off] ^= 1 << (bit % 8)
	if off < int64(len(n.durable)) {
		n.durable[off] ^= 1 << (bit % 8)
	}
	return nil
}

// Contents returns a copy of a file's current contents.
func (f *FaultFS) Contents(name string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.files[name]
	if n == nil {
		return nil, false
	}
	return append([]byte(nil), n.data...), true
}

// DurableSize is the size a file would have after a crash with no
// unsynced writes kept (-1: the file would not exist).
func (f *FaultFS) DurableSize(name string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := f.durable[name]; n != nil && f.files[name] == n {
		return int64(len(n.durable))
	}
	return -1
}

// DurableContents returns a copy of what a crash with no unsynced writes
// kept would leave of a file (false: the file would not exist).
func (f *FaultFS) DurableContents(name string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := f.durable[name]; n != nil && f.files[name] == n {
		return append([]byte(nil), n.durable...), true
	}
	return nil, false
}

type faultFile struct {
	fs     *FaultFS
	name   string
	n      *node
	gen    int
	closed bool
}

var errDead = errors.New("file handle from before a crash")

func (h *faultFile) check(op Op) error {
	if h.closed {
		return fs.ErrClosed
	}
	if h.gen != h.fs.gen {
		return errDead
	}
	return h.fs.faultLocked(op, h.name)
}

func (h *faultFile) ReadAt(p []byte, off int64) (int, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.check(OpRead); err != nil {
		return 0, err
	}
	if off >= int64(len(h.n.data)) {
		return 0, io.EOF
	}
	n := copy(p, h.n.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (h *faultFile) WriteAt(p []byte, off int64) (int, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.check(OpWrite); err != nil {
		if errors.Is(err, ErrInjected) && len(p) > 0 {
			// A failed write may leave part of its bytes.
			k := h.fs.rng.IntN(len(p))
			h.apply(p[:k], off)
			return k, err
		}
		return 0, err
	}
	h.apply(p, off)
	return len(p), nil
}

func (h *faultFile) apply(p []byte, off int64) {
	if len(p) == 0 {
		return
	}
	if end := off + int64(len(p)); end > int64(len(h.n.data)) {
		h.n.data = resize(h.n.data, end)
	}
	copy(h.n.data[off:], p)
	h.n.log = append(h.n.log, write{off: off, data: append([]byte(nil), p...)})
}

func (h *faultFile) Truncate(size int64) error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.check(OpTruncate); err != nil {
		return err
	}
	h.n.data = resize(h.n.data, size)
	h.n.log = append(h.n.log, write{off: size, trunc: true})
	return nil
}

func (h *faultFile) Sync() error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.check(OpSync); err != nil {
		return err
	}
	h.n.durable = append(h.n.durable[:0], h.n.data...)
	h.n.log = nil
	return nil
}

func (h *faultFile) Size() (int64, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if h.closed || h.gen != h.fs.gen {
		return 0, errDead
	}
	return int64(len(h.n.data)), nil
}

func (h *faultFile) Close() error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if h.closed {
		return fs.ErrClosed
	}
	h.closed = true
	return nil
}

func clean(name string) string { return filepath.Clean(name) }

func notExist(op, name string) error {
	return &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
}

// OpenFile implements FS.
func (f *FaultFS) OpenFile(name string, create bool) (File, error) {
	name = clean(name)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.faultLocked(OpOpen, name); err != nil {
		return nil, err
	}
	n := f.files[name]
	if n == nil {
		if !create {
			return nil, notExist("open", name)
		}
		n = &node{}
		f.files[name] = n
	}
	return &faultFile{fs: f, name: name, n: n, gen: f.gen}, nil
}

// ReadFile implements FS.
func (f *FaultFS) ReadFile(name string) ([]byte, error) {
	name = clean(name)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.faultLocked(OpRead, name); err != nil {
		return nil, err
	}
	n := f.files[name]
	if n == nil {
		return nil, notExist("read", name)
	}
	return append([]byte(nil), n.data...), nil
}

// Rename implements FS.
func (f *FaultFS) Rename(o, nn string) error {
	o, nn = clean(o), clean(nn)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.faultLocked(OpRename, o); err != nil {
		return err
	}
	n := f.files[o]
	if n == nil {
		return notExist("rename", o)
	}
	delete(f.files, o)
	f.files[nn] = n
	return nil
}

// Remove implements FS.
func (f *FaultFS) Remove(name string) error {
	name = clean(name)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.faultLocked(OpRemove, name); err != nil {
		return err
	}
	if f.files[name] == nil {
		return notExist("remove", name)
	}
	delete(f.files, name)
	return nil
}

// RemoveAll implements FS (durable at once, as tests want a clean slate).
func (f *FaultFS) RemoveAll(name string) error {
	name = clean(name)
	f.mu.Lock()
	defer f.mu.Unlock()
	for k := range f.files {
		if k == name || strings.HasPrefix(k, name+"/") {
			delete(f.files, k)
			delete(f.durable, k)
		}
	}
	return nil
}

// MkdirAll implements FS (directories are implicit).
func (f *FaultFS) MkdirAll(string) error { return nil }

// ReadDir implements FS.
func (f *FaultFS) ReadDir(name string) ([]string, error) {
	name = clean(name)
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k := range f.files {
		if filepath.Dir(k) == name {
			out = append(out, filepath.Base(k))
		}
	}
	sort.Strings(out)
	return out, nil
}

// SyncDir implements FS: the directory's current entries become durable.
func (f *FaultFS) SyncDir(name string) error {
	name = clean(name)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.faultLocked(OpSyncDir, name); err != nil {
		return err
	}
	for k := range f.durable {
		if filepath.Dir(k) == name {
			delete(f.durable, k)
		}
	}
	for k, n := range f.files {
		if filepath.Dir(k) == name {
			f.durable[k] = n
		}
	}
	return nil
}
