// Package testutil starts in-process servers on random ports and offers
// polling helpers for tests. It is imported only from _test files.
package testutil
