package jetstream

import "runtime/debug"

// releaseAfterMsgs is how many recovered messages make the release worth
// a forced collection (a server with small streams starts without one).
const releaseAfterMsgs = 100_000

// releaseRecoveryMemory hands back to the OS the heap that recovering the
// streams used and freed (index files, block metadata, the header scan of
// the duplicate window): the runtime would keep it resident for minutes,
// the larger part of a server's resident memory right after a restart.
// Recovery's garbage is mostly not yet collected here, so the runtime's
// count of free heap says little of what a collection would hand back:
// the release is unconditional, one collection of a heap that holds
// little more than the stores' indexes (a few ms for a million messages).
func releaseRecoveryMemory() { debug.FreeOSMemory() }
