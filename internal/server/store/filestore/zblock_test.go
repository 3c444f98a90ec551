package filestore

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/s2"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/storetest"
	"github.com/sluicehq/sluice/internal/server/store/vfs"
)

var zCfg = store.Config{Name: "Z", SyncAlways: true, Compression: store.S2Compression}

// zOpts: blocks of several chunks, compressed when the test says so.
func zOpts(fsys vfs.FS) Options {
	return Options{FS: fsys, BlockSize: 256 << 10, manualCompress: true}
}

// zFiles returns the compressed block files of the store in dir.
func zFiles(fsys *vfs.FaultFS, dir string) map[string][]byte {
	out := map[string][]byte{}
	for p, c := range snapshot(fsys, dir) {
		if strings.HasSuffix(p, ".blk") && strings.HasPrefix(c, zFileMagic) {
			out[p] = []byte(c)
		}
	}
	return out
}

func dropIndexes(fsys *vfs.FaultFS, dir string) {
	for p := range snapshot(fsys, dir) {
		if strings.HasSuffix(p, ".idx") {
			fsys.Remove(p)
		}
	}
}

func headersSeen(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	if err := s.ScanHeaders(1, func(_ uint64, _ int64, hdr []byte) bool {
		if len(hdr) > 0 {
			n++
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestZBlocksRoundTrip(t *testing.T) {
	for _, withIndex := range []bool{true, false} {
		t.Run(fmt.Sprintf("index=%v", withIndex), func(t *testing.T) {
			fsys := vfs.NewFaultFS(3)
			s := openT(t, "/z", zCfg, zOpts(fsys))
			fillBig(t, s, 0, 3000)
			raw := diskBytes(fsys, "/z")
			s.compressNow()
			z := zFiles(fsys, "/z")
			if len(z) < 2 {
				t.Fatalf("%d compressed blocks", len(z))
			}
			for p, c := range z {
				if len(zchunksOf(c)) < 3 {
					t.Fatalf("%s: %d chunks", p, len(zchunksOf(c)))
				}
			}
			if packed := diskBytes(fsys, "/z"); packed*2 > raw {
				t.Fatalf("blocks of %d bytes compressed to %d only", raw, packed)
			}
			checkBig(t, s, 3000)
			if n := headersSeen(t, s); n != 1000 {
				t.Fatalf("ScanHeaders saw %d headers", n)
			}
			s.Stop()
			if !withIndex {
				dropIndexes(fsys, "/z")
			}
			s = openT(t, "/z", zCfg, zOpts(fsys))
			defer s.Stop()
			checkBig(t, s, 3000)
			if st := s.State(); st.Msgs != 3000 || st.Lost != nil || len(s.SubjectsTotals(">")) != 7 {
				t.Fatalf("after restart: %+v", st)
			}
			if n := headersSeen(t, s); n != 1000 {
				t.Fatalf("ScanHeaders after restart saw %d headers", n)
			}
			// New messages go to a new tail, not after the chunks.
			fillBig(t, s, 3000, 10)
			checkBig(t, s, 3010)
		})
	}
}

// plainBlock decompresses a compressed block file whole.
func plainOf(t *testing.T, c []byte) []byte {
	t.Helper()
	var out []byte
	for _, ch := range zchunksOf(c) {
		d := c[ch.coff : ch.coff+int64(ch.clen)]
		if ch.flags&zFlagS2 != 0 {
			var err error
			if d, err = s2.Decode(nil, d); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, d...)
	}
	return out
}

func TestZBlocksDeletes(t *testing.T) {
	for _, withIndex := range []bool{true, false} {
		t.Run(fmt.Sprintf("index=%v", withIndex), func(t *testing.T) {
			fsys := vfs.NewFaultFS(4)
			s := openT(t, "/z", zCfg, zOpts(fsys))
			fillBig(t, s, 0, 3000)
			s.compressNow()
			// Tombstones go after the chunks; an erase rewrites the block
			// without the message, compressed again.
			for _, seq := range []uint64{2, 100, 101, 1500} {
				if ok, err := s.Remove(seq); !ok || err != nil {
					t.Fatal(seq, ok, err)
				}
			}
			if ok, err := s.Erase(7); !ok || err != nil {
				t.Fatal(ok, err)
			}
			if err := s.Sync(); err != nil {
				t.Fatal(err)
			}
			gone := []uint64{2, 7, 100, 101, 1500}
			checkBig(t, s, 3000, gone...)
			s.compressNow()
			checkBig(t, s, 3000, gone...)
			for p, c := range zFiles(fsys, "/z") {
				if bytes.Contains(plainOf(t, c), bigPayload(6)) {
					t.Fatalf("erased message 7 still in %s", p)
				}
			}
			s.Stop()
			if !withIndex {
				dropIndexes(fsys, "/z")
			}
			s = openT(t, "/z", zCfg, zOpts(fsys))
			checkBig(t, s, 3000, gone...)
			if st := s.State(); st.Msgs != 3000-uint64(len(gone)) || st.Lost != nil {
				t.Fatalf("after restart: %+v", st)
			}
			// Purge by subject, compact and truncate across compressed blocks.
			if _, err := s.Purge(store.PurgeOpts{Subject: "s.3"}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Compact(200); err != nil {
				t.Fatal(err)
			}
			if err := s.Truncate(2800); err != nil {
				t.Fatal(err)
			}
			want := s.State()
			s.Stop()
			if !withIndex {
				dropIndexes(fsys, "/z")
			}
			s = openT(t, "/z", zCfg, zOpts(fsys))
			defer s.Stop()
			if got := s.State(); got.Msgs != want.Msgs || got.FirstSeq != want.FirstSeq || got.LastSeq != want.LastSeq {
				t.Fatalf("after restart %+v, want %+v", got, want)
			}
			for seq := uint64(1); seq <= 3000; seq++ {
				m, err := s.Load(seq)
				live := seq >= 200 && seq <= 2800 && (seq-1)%7 != 3 && !slices.Contains(gone, seq)
				if live != (err == nil) {
					t.Fatalf("message %d: %v %v (live %v)", seq, m, err, live)
				}
			}
		})
	}
}

// A flipped bit in a chunk loses that chunk's messages, by sequence, and
// nothing else.
func TestZBlocksCorruptChunk(t *testing.T) {
	for _, withIndex := range []bool{true, false} {
		t.Run(fmt.Sprintf("index=%v", withIndex), func(t *testing.T) {
			fsys := vfs.NewFaultFS(5)
			s := openT(t, "/z", zCfg, zOpts(fsys))
			fillBig(t, s, 0, 3000)
			s.compressNow()
			s.Stop()
			if !withIndex {
				dropIndexes(fsys, "/z")
			}
			path := blockName("/z/blk", 1)
			c, _ := fsys.Contents(path)
			var hit zchunk
			for _, ch := range zchunksOf(c) {
				if ch.nmsg > 0 && ch.uoff > 0 {
					hit = ch
					break
				}
			}
			if err := fsys.FlipBit(path, hit.coff+int64(hit.clen)/2, 3); err != nil {
				t.Fatal(err)
			}
			var lost []uint64
			for seq := hit.first; seq <= hit.last; seq++ {
				lost = append(lost, seq)
			}
			s = openT(t, "/z", zCfg, zOpts(fsys))
			defer s.Stop()
			checkBig(t, s, 3000, lost...)
			st := s.State()
			if st.Msgs != 3000-uint64(len(lost)) || st.Lost == nil || len(st.Lost.Msgs) != len(lost) {
				t.Fatalf("after the flip (chunk %d..%d): %+v", hit.first, hit.last, st)
			}
			for i, seq := range st.Lost.Msgs {
				if seq != lost[i] {
					t.Fatalf("lost %v, want %v", st.Lost.Msgs, lost)
				}
			}
			if n := headersSeen(t, s); n >= 1000 || n < 1000-len(lost) {
				t.Fatalf("ScanHeaders saw %d headers", n)
			}
		})
	}
}

// A damaged file header or chunk header costs no more than the chunk.
func TestZBlocksCorruptHeaders(t *testing.T) {
	fsys := vfs.NewFaultFS(6)
	s := openT(t, "/z", zCfg, zOpts(fsys))
	fillBig(t, s, 0, 3000)
	s.compressNow()
	s.Stop()
	dropIndexes(fsys, "/z")
	path := blockName("/z/blk", 1)
	c, _ := fsys.Contents(path)
	ch := zchunksOf(c)[2]
	fsys.FlipBit(path, 9, 1)                   // file header
	fsys.FlipBit(path, ch.coff-zChunkHdr+5, 1) // a chunk header
	s = openT(t, "/z", zCfg, zOpts(fsys))
	defer s.Stop()
	st := s.State()
	if st.Msgs+uint64(ch.nmsg) != 3000 {
		t.Fatalf("lost more than the chunk's %d messages: %+v", ch.nmsg, st)
	}
	for seq := uint64(1); seq <= 3000; seq++ {
		if _, err := s.Load(seq); (err == nil) == (seq >= ch.first && seq <= ch.last) {
			t.Fatalf("message %d: %v", seq, err)
		}
	}
}

// Compressing a block survives a failure or a crash at any step: the
// messages are all there once, compressed or not.
func TestZBlocksCrashWhileCompressing(t *testing.T) {
	for k := 0; k < 40; k++ {
		fsys := vfs.NewFaultFS(uint64(k))
		s := openT(t, "/z", zCfg, zOpts(fsys))
		fillBig(t, s, 0, 2000)
		n := 0
		fsys.Inject(func(op vfs.Op, name string) error {
			if op == vfs.OpRead {
				return nil
			}
			n++
			if n == k/2+1 {
				return vfs.ErrInjected
			}
			return nil
		})
		s.compressNow()
		fsys.Inject(nil)
		if k%2 == 0 {
			fsys.Crash()
		} else {
			s.Stop()
		}
		for _, idx := range []bool{true, false} {
			if !idx {
				dropIndexes(fsys, "/z")
			}
			s = openT(t, "/z", zCfg, zOpts(fsys))
			checkBig(t, s, 2000)
			if st := s.State(); st.Msgs != 2000 || st.Lost != nil {
				t.Fatalf("step %d: %+v", k, st)
			}
			for p := range snapshot(fsys, "/z") {
				if strings.HasSuffix(p, ".tmp") {
					t.Fatalf("step %d: %s left", k, p)
				}
			}
			s.compressNow()
			checkBig(t, s, 2000)
			s.Stop()
		}
	}
}

// With a key, records stay compressed one by one and then sealed: blocks
// are not compressed again (sealed bytes do not compress).
func TestZBlocksNotWithKey(t *testing.T) {
	fsys := vfs.NewFaultFS(7)
	cfg := encCfg(store.AES, "k", "")
	cfg.Compression = store.S2Compression
	s := openT(t, "/z", cfg, zOpts(fsys))
	fillBig(t, s, 0, 2000)
	s.compressNow()
	if z := zFiles(fsys, "/z"); len(z) != 0 {
		t.Fatalf("compressed blocks in a store with a key: %d", len(z))
	}
	c, _ := fsys.Contents(blockName("/z/blk", 1))
	for _, m := range scan(c, 0, s.b.codec).metas {
		if m.kind == kindMsg {
			if h, _ := decodeHeader(c[m.off:]); h.flags != flagS2|flagSeal {
				t.Fatalf("message %d flags %d", m.seq, h.flags)
			}
		}
	}
	checkBig(t, s, 2000)
	s.Stop()
}

// A store written before blocks were compressed (records compressed one
// by one, first index format) opens, reads, and has its blocks compressed.
func TestZBlocksOldFormat(t *testing.T) {
	fsys := vfs.NewFaultFS(8)
	old := &codec{compress: true}
	var blk []byte
	var metas []meta
	blk = appendCtl(blk, kindBase, 1, 0)
	metas = append(metas, meta{kind: kindBase, seq: 1, len: hdrSize})
	for i := range 400 {
		off := len(blk)
		blk = oldRecord(old, blk, uint64(i+1), int64(i), fmt.Sprintf("s.%d", i%7), bigPayload(i))
		metas = append(metas, meta{kind: kindMsg, seq: uint64(i + 1), off: uint32(off), len: uint32(len(blk) - off),
			ts: int64(i), subj: fmt.Sprintf("s.%d", i%7), size: store.Size(fmt.Sprintf("s.%d", i%7), nil, bigPayload(i))})
	}
	f, _ := fsys.OpenFile(blockName("/z/blk", 1), true)
	f.WriteAt(blk, 0)
	f.Close()
	f, _ = fsys.OpenFile(indexName("/z/blk", 1), true)
	f.WriteAt(encodeIndexV1(1, int64(len(blk)), metas), 0)
	f.Close()
	f, _ = fsys.OpenFile(blockName("/z/blk", 2), true)
	f.WriteAt(appendCtl(nil, kindBase, 1, 0), 0)
	f.Close()
	check := func(s *Store) {
		t.Helper()
		for seq := uint64(1); seq <= 400; seq++ {
			m, err := s.Load(seq)
			if err != nil || !bytes.Equal(m.Data, bigPayload(int(seq-1))) {
				t.Fatalf("message %d: %v", seq, err)
			}
		}
	}
	s := openT(t, "/z", zCfg, zOpts(fsys))
	check(s)
	s.compressNow()
	if len(zFiles(fsys, "/z")) != 1 {
		t.Fatal("the old block was not compressed")
	}
	check(s)
	s.Stop()
	dropIndexes(fsys, "/z")
	s = openT(t, "/z", zCfg, zOpts(fsys))
	defer s.Stop()
	check(s)
}

// oldRecord appends a message record as stores wrote them before blocks
// were compressed: the body s2-compressed on its own (flag 1).
func oldRecord(c *codec, dst []byte, seq uint64, ts int64, subj string, data []byte) []byte {
	plain := appendMsg(nil, seq, ts, 0, subj, nil, data)
	z := s2.Encode(nil, plain[hdrSize:])
	start := len(dst)
	dst = append(dst, make([]byte, hdrSize)...)
	dst = append(dst, z...)
	putHeaderFlags(dst[start:], uint32(len(dst)-start), seq, kindMsg, flagS2, uint16(len(subj)), 0)
	return dst
}

func TestIndexFormats(t *testing.T) {
	metas := []meta{
		{kind: kindBase, seq: 5, len: hdrSize},
		{kind: kindMsg, seq: 5, off: 32, len: 100, ts: 1e18, ttl: -1, size: 68, subj: "a.b"},
		{kind: kindMsg, seq: 6, off: 132, len: 90, ts: 1e18 - 5, ttl: 30, size: 1000, subj: "a.b"},
		{kind: kindSkip, seq: 7, count: 3, off: 222, len: 40},
		{kind: kindMsg, seq: 10, off: 262, len: 50, ts: 2e18, subj: "c"},
		{kind: kindMsg, seq: 11, off: 312, len: 50, ts: 2e18, subj: "a.b"},
		{kind: kindDelete, seq: 6, off: 362, len: hdrSize},
		{kind: kindLast, seq: 10, off: 394, len: hdrSize},
	}
	for name, b := range map[string][]byte{"v1": encodeIndexV1(3, 426, metas), "v2": encodeIndex(3, 426, metas)} {
		covered, got, ok := decodeIndex(b, 3, map[string]string{})
		if !ok || covered != 426 || fmt.Sprint(got) != fmt.Sprint(metas) {
			t.Fatalf("%s: %v %v %v", name, ok, covered, got)
		}
		if _, _, ok := decodeIndex(b, 4, nil); ok {
			t.Fatalf("%s: index of another block accepted", name)
		}
		for i := range b {
			c := append([]byte(nil), b...)
			c[i] ^= 0x10
			if _, _, ok := decodeIndex(c, 3, nil); ok {
				t.Fatalf("%s: flipped byte %d accepted", name, i)
			}
		}
	}
}

func TestConformanceS2Blocks(t *testing.T) {
	storetest.Run(t, func(t testing.TB, cfg store.Config) store.Store {
		cfg.Compression = store.S2Compression
		s := openT(t, "/s", cfg, Options{FS: vfs.NewFaultFS(1), BlockSize: 1024})
		t.Cleanup(func() { s.Stop() })
		return s
	})
}

// Reads of a compressed block decompress each chunk once when they come
// in order.
func TestZBlocksChunkCache(t *testing.T) {
	fsys := vfs.NewFaultFS(9)
	s := openT(t, "/z", zCfg, zOpts(fsys))
	defer s.Stop()
	fillBig(t, s, 0, 3000)
	s.compressNow()
	reads := 0
	fsys.Inject(func(op vfs.Op, name string) error {
		if op == vfs.OpRead && strings.HasSuffix(name, ".blk") {
			reads++
		}
		return nil
	})
	checkBig(t, s, 3000)
	fsys.Inject(nil)
	chunks := 0
	for _, c := range zFiles(fsys, "/z") {
		chunks += len(zchunksOf(c))
	}
	if reads > 2*chunks+200 {
		t.Fatalf("%d reads for %d chunks", reads, chunks)
	}
	if _, err := s.Load(5000); !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
}

// BenchmarkZBlockRead loads messages in order from compressed blocks and
// from the same blocks uncompressed.
func BenchmarkZBlockRead(b *testing.B) {
	for _, compressed := range []bool{false, true} {
		b.Run(fmt.Sprintf("compressed=%v", compressed), func(b *testing.B) {
			cfg := zCfg
			if !compressed {
				cfg.Compression = store.NoCompression
			}
			s := openT(b, b.TempDir(), cfg, Options{BlockSize: 1 << 20, manualCompress: true})
			defer s.Stop()
			const n = 20000
			data := bytes.Repeat([]byte("0123456789abcdef"), 8)
			for i := range n {
				if _, _, err := s.Store(fmt.Sprintf("s.%d", i%7), nil, data, 0); err != nil {
					b.Fatal(err)
				}
			}
			s.compressNow()
			b.ResetTimer()
			for i := range b.N {
				if _, err := s.Load(uint64(i%n) + 1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
