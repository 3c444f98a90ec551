//go:build !linux

package vfs

// DataSync is Sync where fdatasync is not available.
func (f osFile) DataSync() error { return f.Sync() }
