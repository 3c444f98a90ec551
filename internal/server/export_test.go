package server

import "time"

// SetIngestWaitMax sets how long a client's read loop waits for a stream
// to take messages again, and returns the setting to restore.
func SetIngestWaitMax(d time.Duration) (restore func()) {
	old := ingestWaitMax.Swap(int64(d))
	return func() { ingestWaitMax.Store(old) }
}
