package filestore

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"
)

// BenchmarkSyncVariants compares, on a preallocated tail, the ways Linux
// offers to make a 228-byte append (a 128-byte KV put) durable before it
// is acknowledged; all of them are as durable as fdatasync on ext4 and
// XFS (data, and the metadata needed to read it back, on stable storage):
//   - fdatasync: pwrite, then fdatasync (what the store does);
//   - pwritev2-dsync: one pwritev2 with RWF_DSYNC (the write and a ranged
//     fdatasync in one system call);
//   - odsync: pwrite on a file opened O_DSYNC;
//   - sfr-fdatasync: sync_file_range to start the writeback, then
//     fdatasync.
//
// Measured on the 2-core VM (ext4 without a journal, virtio disk), 3,000
// puts, twice, in a quiet minute (load 0.8): fdatasync 181-188 µs a put,
// pwritev2-dsync 164-171, odsync 182-183, sfr-fdatasync 180-188; each
// also costs 60-120 µs of CPU (the VM's device flush). Under load all of
// them spread over 170-800 µs with no reliable order. pwritev2 saves one
// system call (~15 µs), but a ranged sync covers only its own write, and
// a group commit also makes durable what was written apart from the
// buffered records (erased bodies, several blocks): the store keeps
// pwrite and fdatasync. Either way the flush alone takes longer than a
// whole unsynced put on nats-server (~136 µs), so one client waiting for
// each durable put cannot match it on this disk.
func BenchmarkSyncVariants(b *testing.B) {
	rec := make([]byte, 228)
	for i := range rec {
		rec[i] = byte(i) | 1
	}
	run := func(b *testing.B, flags int, put func(f *os.File, off int64) error) {
		f, err := os.OpenFile(filepath.Join(b.TempDir(), "blk"), os.O_RDWR|os.O_CREATE|flags, 0o600)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteAt(make([]byte, 64<<20), 0); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		off := int64(0)
		for b.Loop() {
			if err := put(f, off); err != nil {
				b.Fatal(err)
			}
			off += int64(len(rec))
		}
	}
	b.Run("fdatasync", func(b *testing.B) {
		run(b, 0, func(f *os.File, off int64) error {
			if _, err := f.WriteAt(rec, off); err != nil {
				return err
			}
			return syscall.Fdatasync(int(f.Fd()))
		})
	})
	b.Run("pwritev2-dsync", func(b *testing.B) {
		const sysPwritev2, rwfDsync = 328, 0x2
		run(b, 0, func(f *os.File, off int64) error {
			iov := syscall.Iovec{Base: &rec[0], Len: uint64(len(rec))}
			_, _, e := syscall.Syscall6(sysPwritev2, f.Fd(), uintptr(unsafe.Pointer(&iov)), 1, uintptr(off), 0, rwfDsync)
			if e != 0 {
				return e
			}
			return nil
		})
	})
	b.Run("odsync", func(b *testing.B) {
		run(b, syscall.O_DSYNC, func(f *os.File, off int64) error {
			_, err := f.WriteAt(rec, off)
			return err
		})
	})
	b.Run("sfr-fdatasync", func(b *testing.B) {
		const waitBefore, write = 1, 2
		run(b, 0, func(f *os.File, off int64) error {
			if _, err := f.WriteAt(rec, off); err != nil {
				return err
			}
			if err := syscall.SyncFileRange(int(f.Fd()), off, int64(len(rec)), waitBefore|write); err != nil {
				return err
			}
			return syscall.Fdatasync(int(f.Fd()))
		})
	})
}
