package vfs

import "syscall"

// DataSync flushes the file's data and the metadata needed to read it
// back (size, extents) with fdatasync: unlike fsync it does not wait for
// a journal commit when only the modification time changed, which is the
// case when writing into space already written (a preallocated block).
func (f osFile) DataSync() error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}
