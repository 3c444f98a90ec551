//go:build !unix

package storetest

func cpuNow() int64 { return 0 }
