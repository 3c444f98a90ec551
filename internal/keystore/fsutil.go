package keystore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// FileError names the file an operation failed on.
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string { return fmt.Sprintf("%s: %v", e.Path, e.Err) }
func (e *FileError) Unwrap() error { return e.Err }

// ErrNotFound is wrapped by the errors for operators, accounts, users
// and keys that are not in the store.
var ErrNotFound = errors.New("not found")

// ErrExists is wrapped when a name is already taken.
var ErrExists = errors.New("already exists")

// mkdir makes dir and its parents 0700.
func mkdir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return &FileError{Path: dir, Err: errors.Unwrap(err)}
	}
	return nil
}

// writeFile writes data to path through a temporary file in the same
// directory and a rename, so readers see the old file or the new one and
// a failure leaves the old one in place.
func writeFile(path string, data []byte) error {
	if err := mkdir(filepath.Dir(path)); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return &FileError{Path: path, Err: unwrapPath(err)}
	}
	name := tmp.Name()
	fail := func(err error) error {
		tmp.Close()
		os.Remove(name)
		return &FileError{Path: path, Err: unwrapPath(err)}
	}
	if err := tmp.Chmod(0o600); err != nil {
		return fail(err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(name)
		return &FileError{Path: path, Err: unwrapPath(err)}
	}
	if err := os.Rename(name, path); err != nil {
		os.Remove(name)
		return &FileError{Path: path, Err: unwrapPath(err)}
	}
	return nil
}

// readFile reads path, naming it in the error.
func readFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &FileError{Path: path, Err: ErrNotFound}
		}
		return nil, &FileError{Path: path, Err: unwrapPath(err)}
	}
	return b, nil
}

// unwrapPath drops the *PathError wrapper, whose path FileError repeats.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}
