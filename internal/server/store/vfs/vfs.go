package vfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// File is an open file. The filestore writes at explicit offsets only.
type File interface {
	ReadAt(p []byte, off int64) (int, error)
	WriteAt(p []byte, off int64) (int, error)
	Truncate(size int64) error
	Sync() error
	Size() (int64, error)
	Close() error
}

// FS is the filesystem.
type FS interface {
	// OpenFile opens or creates (with create) a file for reading and writing.
	OpenFile(name string, create bool) (File, error)
	ReadFile(name string) ([]byte, error)
	Rename(oldname, newname string) error
	Remove(name string) error
	RemoveAll(name string) error
	MkdirAll(name string) error
	// ReadDir lists the names of the files in a directory, sorted.
	ReadDir(name string) ([]string, error)
	// SyncDir makes the directory's entries (creates, renames, removes)
	// durable.
	SyncDir(name string) error
}

// DataSyncer is a File that can flush its data without the metadata not
// needed to read it back (fdatasync); the OS files are.
type DataSyncer interface {
	DataSync() error
}

// DataSync flushes f with DataSync when it has one, with Sync otherwise.
func DataSync(f File) error {
	if d, ok := f.(DataSyncer); ok {
		return d.DataSync()
	}
	return f.Sync()
}

// StartWriteback starts writing [off, off+n) of f to disk without
// waiting, when f can (the OS files on Linux); it makes nothing durable.
func StartWriteback(f File, off, n int64) {
	if w, ok := f.(interface{ StartWriteback(off, n int64) error }); ok {
		_ = w.StartWriteback(off, n)
	}
}

// ErrNotExist is returned for a missing file (errors.Is with fs.ErrNotExist
// works for both implementations).
var ErrNotExist = fs.ErrNotExist

// OS is the real filesystem.
type OS struct{}

type osFile struct{ *os.File }

func (f osFile) Size() (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// OpenFile implements FS.
func (OS) OpenFile(name string, create bool) (File, error) {
	flag := os.O_RDWR
	if create {
		flag |= os.O_CREATE
	}
	f, err := os.OpenFile(name, flag, 0o640)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

// ReadFile implements FS.
func (OS) ReadFile(name string) ([]byte, error) { return os.ReadFile(name) }

// Rename implements FS.
func (OS) Rename(o, n string) error { return os.Rename(o, n) }

// Remove implements FS.
func (OS) Remove(name string) error { return os.Remove(name) }

// RemoveAll implements FS.
func (OS) RemoveAll(name string) error { return os.RemoveAll(name) }

// MkdirAll implements FS.
func (OS) MkdirAll(name string) error { return os.MkdirAll(name, 0o750) }

// ReadDir implements FS.
func (OS) ReadDir(name string) ([]string, error) {
	ents, err := os.ReadDir(name)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ents))
	for _, e := range ents {
		if !e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// SyncDir implements FS.
func (OS) SyncDir(name string) error {
	d, err := os.Open(name)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// WriteFileAtomic writes data to name through a temporary file and a rename
// (with sync: fsyncing the file and the directory).
func WriteFileAtomic(fsys FS, name string, data []byte, sync bool) error {
	tmp := name + ".tmp"
	f, err := fsys.OpenFile(tmp, true)
	if err != nil {
		return err
	}
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt(data, 0)
	}
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fsys.Rename(tmp, name)
	}
	if err == nil && sync {
		err = fsys.SyncDir(filepath.Dir(name))
	}
	if err != nil {
		_ = fsys.Remove(tmp)
		return err
	}
	return nil
}

// IsNotExist reports whether err says a file does not exist.
func IsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
