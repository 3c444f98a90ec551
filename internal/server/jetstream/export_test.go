package jetstream

import (
	"testing"
	"time"
)

// SetSourceTimingsForTest shortens the mirror and source timings for a
// test: heartbeat, staleness and create throttle.
func SetSourceTimingsForTest(t testing.TB, hb, stale, retry time.Duration) {
	oh, os, or := sourceHeartbeat, sourceStaleAfter, sourceRetryMin
	sourceHeartbeat, sourceStaleAfter, sourceRetryMin = hb, stale, retry
	t.Cleanup(func() { sourceHeartbeat, sourceStaleAfter, sourceRetryMin = oh, os, or })
}

// SetRestoreStallForTest shortens how long a restore waits for a chunk.
func SetRestoreStallForTest(t testing.TB, d time.Duration) {
	old := restoreStall
	restoreStall = d
	t.Cleanup(func() { restoreStall = old })
}
