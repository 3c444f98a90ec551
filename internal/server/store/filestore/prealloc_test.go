package filestore

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluicehq/sluice/internal/server/store/vfs"
)

// storeAcked stores message i (payload-%04d) and syncs it: acknowledged.
func storeAcked(t *testing.T, s *Store, i int) {
	t.Helper()
	if _, _, err := s.Store(fmt.Sprintf("s.%d", i%7), nil, []byte(fmt.Sprintf("payload-%04d", i)), 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
}

// checkRecovered checks that messages 1..acked are all there, that any
// message after them is a gap-free run of what was stored, and that
// nothing was reported lost.
func checkRecovered(t *testing.T, s *Store, acked, stored int) {
	t.Helper()
	st := s.State()
	if st.Lost != nil {
		t.Fatalf("lost reported: %+v", st.Lost)
	}
	if st.LastSeq < uint64(acked) || st.LastSeq > uint64(stored) || st.Msgs != st.LastSeq {
		t.Fatalf("recovered %+v, acked %d, stored %d", st, acked, stored)
	}
	checkAllBut(t, s, int(st.LastSeq))
}

// TestPreallocatedTailRecoversAcked crashes a store whose tail holds
// preallocated zeros after writes that were never fsynced (torn at
// random by the crash): recovery keeps every acknowledged record, takes
// the zeros and a record torn into them for an unwritten tail (no loss
// reported) and cuts them, and new records follow.
func TestPreallocatedTailRecoversAcked(t *testing.T) {
	for seed := range uint64(60) {
		fsys := vfs.NewFaultFS(seed)
		opts := Options{FS: fsys, BlockSize: 64 << 10}
		s := openT(t, "/p", testCfg, opts)
		acked := 20 + int(seed%5)
		for i := range acked {
			storeAcked(t, s, i)
		}
		p := "/p/blk/00000001.blk"
		if b, _ := fsys.Contents(p); int64(len(b)) != opts.BlockSize || s.b.tail().size >= opts.BlockSize {
			t.Fatalf("tail not preallocated: file %d bytes, records %d", len(b), s.b.tail().size)
		}
		// Writes that reach the file but are never fsynced.
		stored := acked
		for range 1 + seed%4 {
			for range 1 + seed%3 {
				if _, _, err := s.Store("s.x", nil, []byte(fmt.Sprintf("payload-%04d", stored)), 0); err != nil {
					t.Fatal(err)
				}
				stored++
			}
			s.Lock()
			err := s.b.flush()
			s.Unlock()
			if err != nil {
				t.Fatal(err)
			}
		}
		fsys.Crash()
		s = openT(t, "/p", testCfg, opts)
		checkRecovered(t, s, acked, stored)
		if b, _ := fsys.Contents(p); int64(len(b)) != s.b.tail().size {
			t.Fatalf("seed %d: zeros not cut: file %d bytes, records %d", seed, len(b), s.b.tail().size)
		}
		next := int(s.State().LastSeq)
		storeAcked(t, s, next)
		checkAllBut(t, s, next+1)
		s.Stop()
	}
}

// TestPreallocatedTailFailedSync: a Sync whose fsync fails does not
// acknowledge; after a crash the acknowledged records are all there.
func TestPreallocatedTailFailedSync(t *testing.T) {
	for seed := range uint64(20) {
		fsys := vfs.NewFaultFS(seed)
		opts := Options{FS: fsys, BlockSize: 64 << 10}
		s := openT(t, "/f", testCfg, opts)
		for i := range 10 {
			storeAcked(t, s, i)
		}
		for i := 10; i < 15; i++ {
			s.Store("s.x", nil, []byte(fmt.Sprintf("payload-%04d", i)), 0)
		}
		fsys.Inject(func(op vfs.Op, _ string) error {
			if op == vfs.OpSync {
				return vfs.ErrInjected
			}
			return nil
		})
		if err := s.Sync(); err == nil {
			t.Fatal("sync with a failing fsync succeeded")
		}
		fsys.Inject(nil)
		fsys.Crash()
		s = openT(t, "/f", testCfg, opts)
		checkRecovered(t, s, 10, 15)
		s.Stop()
	}
}

// TestPreallocatedTailOS: on the real filesystem the tail is preallocated
// while small records are appended, a process killed then (the files as
// they are, with a record torn into the zeros) recovers every acknowledged
// record with no loss reported, and a clean Stop leaves no zeros.
func TestPreallocatedTailOS(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, testCfg, Options{})
	for i := range 50 {
		storeAcked(t, s, i)
	}
	blk := filepath.Join("blk", "00000001.blk")
	st, err := os.Stat(filepath.Join(dir, blk))
	if err != nil || st.Size() < s.b.tail().size+preallocChunk*3/4 {
		t.Fatalf("tail not preallocated: %v %v (records %d)", st, err, s.b.tail().size)
	}
	// The files as a kill -9 leaves them, plus half a record written
	// into the zeros.
	crashed := t.TempDir()
	os.MkdirAll(filepath.Join(crashed, "blk"), 0o750)
	data, _ := os.ReadFile(filepath.Join(dir, blk))
	end := s.b.tail().size
	rec := appendMsg(nil, 51, 1, 0, "s.x", nil, []byte("never acknowledged, torn into preallocated space"))
	copy(data[end:], rec[:len(rec)/2])
	os.WriteFile(filepath.Join(crashed, blk), data, 0o640)
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(filepath.Join(dir, blk)); st.Size() != end {
		t.Fatalf("clean stop left %d bytes, records %d", st.Size(), end)
	}
	s = openT(t, crashed, testCfg, Options{})
	defer s.Stop()
	checkRecovered(t, s, 50, 50)
	if st, _ := os.Stat(filepath.Join(crashed, blk)); st.Size() != end {
		t.Fatalf("recovery left %d bytes, records %d", st.Size(), end)
	}
}

// TestFlushWritesWithoutSync: Flush puts the buffered records in the file
// (a killed process keeps them) without making them durable; Sync does.
func TestFlushWritesWithoutSync(t *testing.T) {
	fsys := vfs.NewFaultFS(7)
	s := openT(t, "/w", testCfg, Options{FS: fsys})
	defer s.Stop()
	for i := range 3 {
		storeAcked(t, s, i)
	}
	big := make([]byte, preallocMaxWrite) // a large record: written, not preallocated for
	if _, _, err := s.Store("s.big", nil, big, 0); err != nil {
		t.Fatal(err)
	}
	p := "/w/blk/00000001.blk"
	before, _ := fsys.Contents(p)
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	after, _ := fsys.Contents(p)
	d, _ := fsys.DurableContents(p)
	end := int(s.b.tail().size)
	if len(after) < end || string(after[:end]) == string(before[:min(end, len(before))]) {
		t.Fatalf("flush did not write the record: file %d bytes, records %d", len(after), end)
	}
	if len(d) >= end && string(d[:end]) == string(after[:end]) {
		t.Fatal("flush made the record durable")
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if d, _ := fsys.DurableContents(p); len(d) < end || string(d[:end]) != string(after[:end]) {
		t.Fatal("sync after flush did not make the record durable")
	}
}
