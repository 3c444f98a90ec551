package server

import (
	"io"
	"net"
	"syscall"
	"unsafe"
)

// sockReader reads a plain TCP connection with raw read(2) calls on its
// non-blocking socket, waiting for data through the runtime's poller as
// net.Conn does. It exists for one reason: a Go syscall (syscall.Read, so
// net.Conn.Read) enters the scheduler's syscall state, and the runtime then
// wakes its monitor thread (sysmon) whenever that thread is in deep sleep,
// which it is each time the whole process has gone idle. A publisher's
// read loop drains the socket, parks, is woken by the next write and reads
// again, so every batch paid one extra thread wake-up (a futex wake, then
// sysmon's 20µs nanosleep and a futex wait): on two cores that is a second
// thread competing with the client for a CPU per batch. A read on a
// non-blocking socket cannot block, so it may skip the syscall state.
type sockReader struct {
	rc syscall.RawConn
}

// newSockReader returns a reader for nc when it is a plain TCP connection,
// nil otherwise (TLS and WebSocket connections read through their own
// layers).
func newSockReader(nc net.Conn) io.Reader {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	return &sockReader{rc: rc}
}

func (r *sockReader) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	var n int
	var errno syscall.Errno
	// RawConn.Read calls the function again once the poller reports the
	// socket readable, for as long as it returns false.
	err := r.rc.Read(func(fd uintptr) bool {
		for {
			r1, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
			if e == syscall.EINTR {
				continue
			}
			n, errno = int(r1), e
			return e != syscall.EAGAIN
		}
	})
	switch {
	case err != nil: // closed, or a deadline passed
		return 0, err
	case errno != 0:
		return 0, errno
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}
