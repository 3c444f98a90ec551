package filestore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/vfs"
)

var testCfg = store.Config{Name: "T", SyncAlways: true}

func fillN(t *testing.T, s *Store, n int) {
	t.Helper()
	for i := range n {
		if _, _, err := s.Store(fmt.Sprintf("s.%d", i%7), nil, []byte(fmt.Sprintf("payload-%04d", i)), 0); err != nil {
			t.Fatal(err)
		}
	}
}

func checkAllBut(t *testing.T, s *Store, n int, missing ...uint64) {
	t.Helper()
	skip := map[uint64]bool{}
	for _, m := range missing {
		skip[m] = true
	}
	for seq := uint64(1); seq <= uint64(n); seq++ {
		m, err := s.Load(seq)
		if skip[seq] {
			if err == nil {
				t.Fatalf("message %d should be lost, loaded %q", seq, m.Data)
			}
			continue
		}
		if err != nil || string(m.Data) != fmt.Sprintf("payload-%04d", seq-1) {
			t.Fatalf("message %d: %v %v", seq, m, err)
		}
	}
}

// recordOf finds the file and offset of message seq's record.
func recordOf(t *testing.T, fsys *vfs.FaultFS, dir string, seq uint64) (string, meta) {
	t.Helper()
	names, _ := fsys.ReadDir(filepath.Join(dir, "blk"))
	for _, n := range names {
		if !strings.HasSuffix(n, ".blk") {
			continue
		}
		p := filepath.Join(dir, "blk", n)
		b, _ := fsys.Contents(p)
		for _, m := range scan(b, 0, nil).metas {
			if m.kind == kindMsg && m.seq == seq {
				return p, m
			}
		}
	}
	t.Fatalf("message %d not found on disk", seq)
	return "", meta{}
}

func TestTornTailIsCut(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, testCfg, Options{})
	fillN(t, s, 5)
	s.Stop()
	blk := filepath.Join(dir, "blk", "00000001.blk")
	good, _ := os.Stat(blk)
	rec := appendMsg(nil, 6, 1, 0, "s.x", nil, []byte("never acknowledged"))
	f, _ := os.OpenFile(blk, os.O_APPEND|os.O_WRONLY, 0)
	f.Write(rec[:len(rec)-3])
	f.Close()
	s = openT(t, dir, testCfg, Options{})
	defer s.Stop()
	if st := s.State(); st.Msgs != 5 || st.LastSeq != 5 || st.Lost != nil {
		t.Fatalf("after torn tail: %+v", st)
	}
	if now, _ := os.Stat(blk); now.Size() != good.Size() {
		t.Fatalf("torn tail not cut: %d, want %d", now.Size(), good.Size())
	}
	if seq, _, err := s.Store("s.y", nil, []byte("payload-0005"), 0); err != nil || seq != 6 {
		t.Fatalf("store after cut: %d %v", seq, err)
	}
	checkAllBut(t, s, 6)
}

func TestBitFlipLosesOneRecord(t *testing.T) {
	for _, where := range []string{"body", "header-seq", "header-len", "magic"} {
		for _, withIndex := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/index=%v", where, withIndex), func(t *testing.T) {
				fsys := vfs.NewFaultFS(1)
				opts := Options{FS: fsys, BlockSize: 1024}
				s := openT(t, "/d", testCfg, opts)
				fillN(t, s, 100)
				s.Stop()
				if !withIndex {
					names, _ := fsys.ReadDir("/d/blk")
					for _, n := range names {
						if strings.HasSuffix(n, ".idx") {
							fsys.Remove("/d/blk/" + n)
						}
					}
				}
				path, m := recordOf(t, fsys, "/d", 37)
				off := map[string]int64{"body": int64(m.len) - 2, "header-seq": 9, "header-len": 5, "magic": 1}[where]
				if err := fsys.FlipBit(path, int64(m.off)+off, 3); err != nil {
					t.Fatal(err)
				}
				s = openT(t, "/d", testCfg, opts)
				defer s.Stop()
				var mu sync.Mutex
				var reported []store.LostData
				s.RegisterLostCallback(func(l store.LostData) {
					mu.Lock()
					reported = append(reported, l)
					mu.Unlock()
				})
				checkAllBut(t, s, 100, 37)
				st := s.State()
				if st.Msgs != 99 || st.Lost == nil || st.Lost.Bytes == 0 {
					t.Fatalf("state after flip: %+v lost %+v", st, st.Lost)
				}
				if where == "body" && (len(st.Lost.Msgs) != 1 || st.Lost.Msgs[0] != 37) {
					t.Fatalf("lost %+v, want [37]", st.Lost)
				}
				mu.Lock()
				defer mu.Unlock()
				if len(reported) != 1 {
					t.Fatalf("lost callback got %+v", reported)
				}
			})
		}
	}
}

// A write error (disk full) fails the Sync that would have acknowledged
// the messages stored since the last one, and a removal that writes to an
// older block; the stream stays readable, nothing synced is lost, and the
// buffered records are written by the first Sync once the disk has room.
func TestWriteErrorLeavesStoreReadable(t *testing.T) {
	fsys := vfs.NewFaultFS(2)
	s := openT(t, "/w", testCfg, Options{FS: fsys, BlockSize: 512})
	defer s.Stop()
	fillN(t, s, 20)
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	fsys.Inject(func(op vfs.Op, _ string) error {
		if op == vfs.OpWrite {
			return fmt.Errorf("disk full: %w", vfs.ErrInjected)
		}
		return nil
	})
	if seq, _, err := s.Store("s.6", nil, []byte("payload-0020"), 0); err != nil || seq != 21 {
		t.Fatalf("buffered store: %d %v", seq, err)
	}
	if err := s.Sync(); !errors.Is(err, store.ErrWrite) {
		t.Fatalf("sync on a full disk: %v", err)
	}
	before := s.State()
	if ok, err := s.Remove(3); ok || !errors.Is(err, store.ErrWrite) {
		t.Fatalf("remove on a full disk: %v %v", ok, err)
	}
	if after := s.State(); after.Msgs != before.Msgs || after.LastSeq != before.LastSeq {
		t.Fatalf("state changed: %+v -> %+v", before, after)
	}
	checkAllBut(t, s, 21)
	fsys.Crash() // what the failed Sync did not write is not there
	s1 := openT(t, "/w", testCfg, Options{FS: fsys, BlockSize: 512})
	defer s1.Stop()
	checkAllBut(t, s1, 20)
	if st := s1.State(); st.LastSeq != 20 {
		t.Fatalf("after the crash: %+v", st)
	}
	fsys.Inject(func(op vfs.Op, _ string) error {
		if op == vfs.OpWrite {
			return fmt.Errorf("disk full: %w", vfs.ErrInjected)
		}
		return nil
	})
	if _, _, err := s1.Store("s.6", nil, []byte("payload-0020"), 0); err != nil {
		t.Fatal(err)
	}
	if err := s1.Sync(); !errors.Is(err, store.ErrWrite) {
		t.Fatalf("sync on a full disk: %v", err)
	}
	fsys.Inject(nil)
	if seq, _, err := s1.Store("s.0", nil, []byte("payload-0021"), 0); err != nil || seq != 22 {
		t.Fatalf("store after the disk has room: %d %v", seq, err)
	}
	if err := s1.Sync(); err != nil {
		t.Fatal(err)
	}
	fsys.Crash()
	s2 := openT(t, "/w", testCfg, Options{FS: fsys, BlockSize: 512})
	defer s2.Stop()
	checkAllBut(t, s2, 22)
}

func TestFailedSyncIsSticky(t *testing.T) {
	fsys := vfs.NewFaultFS(3)
	s := openT(t, "/f", testCfg, Options{FS: fsys})
	fillN(t, s, 3)
	fsys.Inject(func(op vfs.Op, _ string) error {
		if op == vfs.OpSync {
			return vfs.ErrInjected
		}
		return nil
	})
	if err := s.Sync(); !errors.Is(err, store.ErrWrite) {
		t.Fatalf("sync: %v", err)
	}
	fsys.Inject(nil)
	if err := s.Sync(); !errors.Is(err, store.ErrWrite) {
		t.Fatalf("second sync after a failed one must fail too: %v", err)
	}
	if _, _, err := s.Store("s.1", nil, nil, 0); !errors.Is(err, store.ErrWrite) {
		t.Fatalf("store after failed sync: %v", err)
	}
	checkAllBut(t, s, 3)
	s.Stop()
	s = openT(t, "/f", testCfg, Options{FS: fsys})
	defer s.Stop()
	checkAllBut(t, s, 3)
	fsys.Crash() // recovery made what it served durable
	s2 := openT(t, "/f", testCfg, Options{FS: fsys})
	defer s2.Stop()
	checkAllBut(t, s2, 3)
}

func TestAsyncModeSyncsInBackground(t *testing.T) {
	fsys := vfs.NewFaultFS(4)
	cfg := testCfg
	cfg.SyncAlways = false
	cfg.SyncInterval = 10 * time.Millisecond
	s := openT(t, "/a", cfg, Options{FS: fsys})
	defer s.Stop()
	fillN(t, s, 3)
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	p := "/a/blk/00000001.blk"
	deadline := time.Now().Add(5 * time.Second)
	for {
		if b, _ := fsys.Contents(p); fsys.DurableSize(p) == int64(len(b)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("background sync did not happen")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCorruptIndexIsRebuilt(t *testing.T) {
	fsys := vfs.NewFaultFS(5)
	opts := Options{FS: fsys, BlockSize: 1024}
	s := openT(t, "/i", testCfg, opts)
	fillN(t, s, 60)
	s.Remove(10)
	s.Stop()
	fsys.FlipBit("/i/blk/00000001.idx", 30, 1)
	s = openT(t, "/i", testCfg, opts)
	defer s.Stop()
	checkAllBut(t, s, 60, 10)
	if st := s.State(); st.Lost != nil || st.Msgs != 59 {
		t.Fatalf("state %+v", st)
	}
}

func TestConsumerStatePersists(t *testing.T) {
	fsys := vfs.NewFaultFS(6)
	s := openT(t, "/c", testCfg, Options{FS: fsys})
	c, err := s.ConsumerStore("DUR")
	if err != nil {
		t.Fatal(err)
	}
	st := &store.ConsumerState{
		Delivered:   store.SequencePair{Consumer: 10, Stream: 20},
		AckFloor:    store.SequencePair{Consumer: 8, Stream: 18},
		Pending:     map[uint64]*store.Pending{19: {Sequence: 9, Timestamp: 5}, 20: {Sequence: 10, Timestamp: 6}},
		Redelivered: map[uint64]uint64{19: 1},
	}
	c.Update(st)
	if err := c.Sync(); err != nil {
		t.Fatal(err)
	}
	fsys.Crash()
	s = openT(t, "/c", testCfg, Options{FS: fsys})
	defer s.Stop()
	c, _ = s.ConsumerStore("DUR")
	got, _ := c.State()
	if got.Delivered != st.Delivered || got.AckFloor != st.AckFloor || len(got.Pending) != 2 || got.Pending[20].Sequence != 10 || got.Redelivered[19] != 1 {
		t.Fatalf("after crash: %+v", got)
	}
	for _, bad := range []string{"", "../x", "a/b", "."} {
		if _, err := s.ConsumerStore(bad); !errors.Is(err, store.ErrBadConfig) {
			t.Errorf("consumer name %q: %v", bad, err)
		}
	}
	// A corrupt state file starts over rather than failing the stream.
	c.Stop()
	fsys.FlipBit("/c/obs/DUR.cs", 3, 0)
	c, err = s.ConsumerStore("DUR")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := c.State(); got.Delivered.Stream != 0 {
		t.Fatalf("corrupt state served: %+v", got)
	}
}

func TestOpenBadInput(t *testing.T) {
	if _, err := Open("", testCfg, Options{}); !errors.Is(err, store.ErrBadConfig) {
		t.Fatalf("empty dir: %v", err)
	}
	cfg := testCfg
	cfg.MaxAge = -time.Second
	if _, err := Open(t.TempDir(), cfg, Options{}); !errors.Is(err, store.ErrBadConfig) {
		t.Fatalf("negative max age: %v", err)
	}
}

func TestDeleteRemovesEverything(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "S")
	s := openT(t, dir, testCfg, Options{})
	fillN(t, s, 3)
	c, _ := s.ConsumerStore("C")
	c.Update(&store.ConsumerState{})
	if err := s.Delete(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("directory left: %v", err)
	}
}

// TestBlockCompaction: a block that is mostly removed is rewritten with
// its live messages only; they stay readable, before and after a crash.
func TestBlockCompaction(t *testing.T) {
	fsys := vfs.NewFaultFS(7)
	opts := Options{FS: fsys, BlockSize: 2048}
	s := openT(t, "/k", testCfg, opts)
	fillN(t, s, 200)
	before, _ := fsys.Contents("/k/blk/00000001.blk")
	var keep []uint64
	for seq := uint64(1); seq <= 200; seq++ {
		m, _ := s.Load(seq)
		if m != nil && len(before) > 0 && seq%9 != 0 {
			if _, err := s.Remove(seq); err != nil {
				t.Fatal(err)
			}
		} else {
			keep = append(keep, seq)
		}
	}
	after, _ := fsys.Contents("/k/blk/00000001.blk")
	if len(after) >= len(before)/2 {
		t.Fatalf("block 1 not compacted: %d bytes, was %d", len(after), len(before))
	}
	check := func(s *Store) {
		t.Helper()
		for _, seq := range keep {
			if m, err := s.Load(seq); err != nil || string(m.Data) != fmt.Sprintf("payload-%04d", seq-1) {
				t.Fatalf("message %d after compaction: %v %v", seq, m, err)
			}
		}
		if st := s.State(); st.Msgs != uint64(len(keep)) {
			t.Fatalf("state %+v, want %d msgs", st, len(keep))
		}
	}
	check(s)
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	fsys.Crash()
	s2 := openT(t, "/k", testCfg, opts)
	defer s2.Stop()
	check(s2)
}
