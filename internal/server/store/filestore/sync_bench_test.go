package filestore

import (
	"path/filepath"
	"testing"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/vfs"
)

// BenchmarkSyncedPut is one KV-sized put acknowledged after its fsync, as
// the store does it, beside what the disk alone costs for the same write:
// appending with fsync (the store before preallocation) and overwriting
// preallocated zeros with fdatasync. The gap between "store" and
// "prealloc-fdatasync" is the store's own cost; the rest is the disk's.
func BenchmarkSyncedPut(b *testing.B) {
	data := make([]byte, 128)
	b.Run("store", func(b *testing.B) {
		s, err := Open(b.TempDir(), store.Config{Name: "B", SyncAlways: true}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Stop()
		for b.Loop() {
			if _, _, err := s.Store("$KV.bench.key", nil, data, 0); err != nil {
				b.Fatal(err)
			}
			if err := s.Sync(); err != nil {
				b.Fatal(err)
			}
		}
	})
	raw := func(b *testing.B, prealloc bool, sync func(vfs.File) error) {
		f, err := vfs.OS{}.OpenFile(filepath.Join(b.TempDir(), "f"), true)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if prealloc {
			f.WriteAt(make([]byte, 64<<20), 0)
			f.Sync()
		}
		rec := make([]byte, 228) // the record of a 128-byte KV put
		off := int64(0)
		for b.Loop() {
			if _, err := f.WriteAt(rec, off); err != nil {
				b.Fatal(err)
			}
			off += int64(len(rec))
			if err := sync(f); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("append-fsync", func(b *testing.B) { raw(b, false, vfs.File.Sync) })
	b.Run("append-fdatasync", func(b *testing.B) { raw(b, false, vfs.DataSync) })
	b.Run("prealloc-fdatasync", func(b *testing.B) { raw(b, true, vfs.DataSync) })
}
