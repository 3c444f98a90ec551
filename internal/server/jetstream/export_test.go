package jetstream

import (
	"testing"
	"time"
)

// SetSourceTimingsForTest shortens the mirror and source timings for a
// test: heartbeat, staleness and create throttle.
func SetSourceTimingsForTest(t testing.TB, hb, stale, retry time.Duration) {
	oh, os, or, ow := sourceHeartbeat, sourceStaleAfter, sourceRetryMin, sourceCreateWait
	sourceHeartbeat, sourceStaleAfter, sourceRetryMin, sourceCreateWait = hb, stale, retry, 5*stale
	t.Cleanup(func() { sourceHeartbeat, sourceStaleAfter, sourceRetryMin, sourceCreateWait = oh, os, or, ow })
}

// SetRestoreStallForTest shortens how long a restore waits for a chunk.
func SetRestoreStallForTest(t testing.TB, d time.Duration) {
	old := restoreStall.Load()
	restoreStall.Store(int64(d))
	t.Cleanup(func() { restoreStall.Store(old) })
}
