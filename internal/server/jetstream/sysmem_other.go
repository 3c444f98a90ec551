//go:build !linux

package jetstream

func systemMemory() int64 { return 4 << 30 }
