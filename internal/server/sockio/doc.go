// Package sockio reads and writes plain TCP sockets with raw read(2) and
// writev(2) calls on their non-blocking descriptors, waiting for
// readiness through the Go runtime's poller as net.Conn does.
//
// Why: a Go syscall (syscall.Read and Write, so every net.Conn call)
// enters the scheduler's syscall state, and the runtime then wakes its
// monitor thread (sysmon) whenever that thread is in deep sleep, which it
// is each time the whole process has gone idle. A broker connection
// drains its socket, parks, is woken by the next write of its peer and
// reads again, so every read batch and every flush of output paid one
// extra thread wake-up (a futex wake, then sysmon's 20µs nanosleep and a
// futex wait): on two cores a second thread competing with the clients
// for a CPU. A call on a non-blocking socket cannot block, so it may skip
// the syscall state.
//
// The package knows nothing of protocols: it hands out an io.Reader and a
// Writer of net.Buffers for a *net.TCPConn, and nothing (nil) for any
// other connection, which is then used through net.Conn.
package sockio
