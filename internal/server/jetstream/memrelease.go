package jetstream

import (
	"runtime/debug"
	"runtime/metrics"
)

// releaseAfterMsgs is how many recovered messages make the release worth
// a forced collection (a server with small streams starts without one).
const releaseAfterMsgs = 100_000

// releaseFreeAbove is how much freed heap recovery may leave to the
// runtime's slow scavenger before it is handed back at once.
const releaseFreeAbove = 32 << 20

// releaseRecoveryMemory hands back to the OS the heap that recovering the
// streams used and freed (index files, block metadata): the runtime would
// keep it resident for minutes, doubling the resident memory of a server
// with large streams right after a restart.
func releaseRecoveryMemory() {
	s := []metrics.Sample{{Name: "/memory/classes/heap/free:bytes"}, {Name: "/gc/heap/goal:bytes"}}
	metrics.Read(s)
	free := s[0].Value
	if free.Kind() == metrics.KindUint64 && free.Uint64() > releaseFreeAbove ||
		s[1].Value.Kind() == metrics.KindUint64 && s[1].Value.Uint64() > 2*releaseFreeAbove {
		debug.FreeOSMemory()
	}
}
