package filestore

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/storetest"
	"github.com/sluicehq/sluice/internal/server/store/vfs"
)

func bigPayload(i int) []byte {
	return []byte(strings.Repeat(fmt.Sprintf("payload-%04d ", i), 20))
}

// fillBig stores n compressible messages numbered from first (0-based).
func fillBig(t *testing.T, s *Store, first, n int) {
	t.Helper()
	for i := first; i < first+n; i++ {
		hdr := []byte(nil)
		if i%3 == 0 {
			hdr = []byte("NATS/1.0\r\nk: v\r\n\r\n")
		}
		if _, _, err := s.Store(fmt.Sprintf("s.%d", i%7), hdr, bigPayload(i), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
}

func checkBig(t *testing.T, s *Store, n int, missing ...uint64) {
	t.Helper()
	skip := map[uint64]bool{}
	for _, m := range missing {
		skip[m] = true
	}
	for seq := uint64(1); seq <= uint64(n); seq++ {
		m, err := s.Load(seq)
		if skip[seq] {
			if err == nil {
				t.Fatalf("message %d should be lost", seq)
			}
			continue
		}
		i := int(seq - 1)
		if err != nil || !bytes.Equal(m.Data, bigPayload(i)) || m.Subject != fmt.Sprintf("s.%d", i%7) || (i%3 == 0) != (len(m.Header) > 0) {
			t.Fatalf("message %d: %v %v", seq, m, err)
		}
	}
}

// snapshot is every file of the store (to check nothing was changed).
func snapshot(fsys *vfs.FaultFS, dir string) map[string]string {
	out := map[string]string{}
	for _, d := range []string{dir, filepath.Join(dir, "blk"), filepath.Join(dir, "obs")} {
		names, _ := fsys.ReadDir(d)
		for _, n := range names {
			if b, ok := fsys.Contents(filepath.Join(d, n)); ok {
				out[filepath.Join(d, n)] = string(b)
			}
		}
	}
	return out
}

func diskBytes(fsys *vfs.FaultFS, dir string) int {
	n := 0
	for p, c := range snapshot(fsys, dir) {
		if strings.HasSuffix(p, ".blk") {
			n += len(c)
		}
	}
	return n
}

func encCfg(c store.Cipher, key, prev string) store.Config {
	cfg := testCfg
	cfg.Encryption = &store.Encryption{Cipher: c, Key: key, PrevKey: prev}
	return cfg
}

func TestCompressedAndSealedSurviveRestart(t *testing.T) {
	s2cfg := testCfg
	s2cfg.Compression = store.S2Compression
	both := encCfg(store.AES, "k1", "")
	both.Compression = store.S2Compression
	cases := map[string]store.Config{
		"plain": testCfg, "s2": s2cfg, "chachapoly": encCfg(store.ChaChaPoly, "k1", ""),
		"aes": encCfg(store.AES, "k1", ""), "aes+s2": both,
	}
	sizes := map[string]int{}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			for _, withIndex := range []bool{true, false} {
				fsys := vfs.NewFaultFS(7)
				opts := Options{FS: fsys, BlockSize: 4096, manualCompress: true}
				s := openT(t, "/c", cfg, opts)
				fillBig(t, s, 0, 200)
				checkBig(t, s, 200)
				s.compressNow()
				checkBig(t, s, 200)
				s.Stop()
				if !withIndex {
					for p := range snapshot(fsys, "/c") {
						if strings.HasSuffix(p, ".idx") {
							fsys.Remove(p)
						}
					}
				}
				sizes[name] = diskBytes(fsys, "/c")
				if cfg.Encryption != nil {
					for p, c := range snapshot(fsys, "/c") {
						// (A subject such as "s.1" is too short to look
						// for: three bytes turn up in ciphertext by chance.)
						if strings.Contains(c, "payload-") {
							t.Fatalf("%s holds plaintext", p)
						}
					}
				}
				s = openT(t, "/c", cfg, opts)
				checkBig(t, s, 200)
				if st := s.State(); st.Msgs != 200 || st.Lost != nil || len(s.SubjectsTotals(">")) != 7 {
					t.Fatalf("after restart: %+v", st)
				}
				s.Stop()
			}
		})
	}
	t.Logf("bytes in blocks for 200 messages: %v", sizes)
	if sizes["s2"]*2 > sizes["plain"] || sizes["aes+s2"]*2 > sizes["plain"] {
		t.Fatalf("compression saved too little: %v", sizes)
	}
}

// A flipped bit in a compressed or sealed record loses that record alone
// (blocks not compressed whole: see zblock_test.go for those).
func TestCorruptCodedRecordLosesItself(t *testing.T) {
	s2cfg := testCfg
	s2cfg.Compression = store.S2Compression
	both := encCfg(store.ChaChaPoly, "k1", "")
	both.Compression = store.S2Compression
	for name, cfg := range map[string]store.Config{"s2": s2cfg, "chachapoly": encCfg(store.ChaChaPoly, "k1", ""), "chachapoly+s2": both} {
		for _, where := range []string{"body", "nonce", "header-seq"} {
			t.Run(name+"/"+where, func(t *testing.T) {
				fsys := vfs.NewFaultFS(8)
				opts := Options{FS: fsys, BlockSize: 4096, manualCompress: true}
				s := openT(t, "/x", cfg, opts)
				fillBig(t, s, 0, 100)
				s.Lock()
				l, _ := s.PeekLocked(37)
				s.Unlock()
				s.Stop()
				for p := range snapshot(fsys, "/x") {
					if strings.HasSuffix(p, ".idx") {
						fsys.Remove(p)
					}
				}
				off := map[string]int64{"body": int64(l.len) - 3, "nonce": hdrSize + 1, "header-seq": 9}[where]
				if err := fsys.FlipBit(blockName("/x/blk", l.blk), int64(l.off)+off, 2); err != nil {
					t.Fatal(err)
				}
				s = openT(t, "/x", cfg, opts)
				defer s.Stop()
				checkBig(t, s, 100, 37)
				if st := s.State(); st.Msgs != 99 || st.Lost == nil {
					t.Fatalf("after the flip: %+v", st)
				}
			})
		}
	}
}

func TestWrongOrMissingKeyRefusesAndChangesNothing(t *testing.T) {
	fsys := vfs.NewFaultFS(9)
	opts := Options{FS: fsys, BlockSize: 4096}
	s := openT(t, "/k", encCfg(store.ChaChaPoly, "right", ""), opts)
	fillBig(t, s, 0, 50)
	// Not stopped cleanly: what a wrong key must not touch includes the
	// recovery work (torn tails, fsyncs, the clean marker).
	before := snapshot(fsys, "/k")
	for name, cfg := range map[string]store.Config{
		"wrong key":          encCfg(store.ChaChaPoly, "wrong", ""),
		"wrong key and prev": encCfg(store.ChaChaPoly, "wrong", "also wrong"),
		"no key":             testCfg,
	} {
		_, err := Open("/k", cfg, opts)
		if !errors.Is(err, store.ErrEncryption) {
			t.Fatalf("%s: open: %v", name, err)
		}
		if name == "no key" && !strings.Contains(err.Error(), "no encryption key is configured") ||
			name == "wrong key" && !strings.Contains(err.Error(), "wrong key") {
			t.Fatalf("%s: unclear error: %v", name, err)
		}
		if after := snapshot(fsys, "/k"); !maps.Equal(before, after) {
			t.Fatalf("%s: the store was changed", name)
		}
	}
	s.Stop()
	s = openT(t, "/k", encCfg(store.ChaChaPoly, "right", ""), opts)
	defer s.Stop()
	checkBig(t, s, 50)
}

func TestKeyRotation(t *testing.T) {
	fsys := vfs.NewFaultFS(10)
	opts := Options{FS: fsys, BlockSize: 4096}
	s := openT(t, "/r", encCfg(store.AES, "old", ""), opts)
	fillBig(t, s, 0, 40)
	s.Stop()
	// The new key with the old one as prev: opens, re-keys.
	s = openT(t, "/r", encCfg(store.AES, "new", "old"), opts)
	checkBig(t, s, 40)
	fillBig(t, s, 40, 40)
	s.Stop()
	// From now on the new key alone opens it, and the old one does not.
	if _, err := Open("/r", encCfg(store.AES, "old", ""), opts); !errors.Is(err, store.ErrEncryption) {
		t.Fatalf("old key after rotation: %v", err)
	}
	s = openT(t, "/r", encCfg(store.AES, "new", ""), opts)
	defer s.Stop()
	checkBig(t, s, 80)
}

// Blocks written plain, then compressed, then sealed, then with neither
// compression nor... are all read back; a compression change through
// UpdateConfig applies at once.
func TestMixedBlocks(t *testing.T) {
	fsys := vfs.NewFaultFS(11)
	opts := Options{FS: fsys, BlockSize: 2048}
	s := openT(t, "/m", testCfg, opts)
	fillBig(t, s, 0, 30)
	cfg := testCfg
	cfg.Compression = store.S2Compression
	if err := s.UpdateConfig(cfg); err != nil {
		t.Fatal(err)
	}
	fillBig(t, s, 30, 30)
	s.Stop()
	s = openT(t, "/m", cfg, opts)
	checkBig(t, s, 60)
	fillBig(t, s, 60, 30)
	s.Stop()
	enc := encCfg(store.ChaChaPoly, "k", "")
	s = openT(t, "/m", enc, opts) // a plaintext store gains a key: new records are sealed
	checkBig(t, s, 90)
	fillBig(t, s, 90, 30)
	s.Remove(5)
	s.Remove(95)
	s.Stop()
	s = openT(t, "/m", enc, opts)
	defer s.Stop()
	checkBig(t, s, 120, 5, 95)
	if st := s.State(); st.Msgs != 118 || st.Lost != nil {
		t.Fatalf("mixed store: %+v", st)
	}
}

func TestConformanceSealedCompressed(t *testing.T) {
	storetest.Run(t, func(t testing.TB, cfg store.Config) store.Store {
		cfg.Compression = store.S2Compression
		cfg.Encryption = &store.Encryption{Cipher: store.ChaChaPoly, Key: "k"}
		s := openT(t, "/s", cfg, Options{FS: vfs.NewFaultFS(1), BlockSize: 1024})
		t.Cleanup(func() { s.Stop() })
		return s
	})
}
