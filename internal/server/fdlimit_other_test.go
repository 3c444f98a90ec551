//go:build !unix

package server_test

// raiseFDLimit reports no limit where descriptors are not rlimit-bound.
func raiseFDLimit() int { return 0 }
