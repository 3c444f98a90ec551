//go:build linux && (amd64 || arm64)

package vfs

import "syscall"

// StartWriteback asks the kernel to start writing [off, off+n) to disk
// without waiting (sync_file_range SYNC_FILE_RANGE_WRITE): a later fsync
// then waits for less. It makes nothing durable by itself.
func (f osFile) StartWriteback(off, n int64) error {
	const syncFileRangeWrite = 2
	return syscall.SyncFileRange(int(f.Fd()), off, n, syncFileRangeWrite)
}
