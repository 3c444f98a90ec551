package sockio

import (
	"io"
	"net"
	"syscall"
	"unsafe"
)

// reader reads one socket; see the package comment. The callback given
// to the poller is made once: a closure per call escaped to the heap with
// its results, three allocations per read, and the GC cycles they bring
// wake threads that compete with the clients for the CPUs.
type reader struct {
	rc    syscall.RawConn
	fn    func(fd uintptr) bool
	b     []byte // the caller's buffer during a Read
	n     int
	errno syscall.Errno
}

// NewReader returns a reader for nc when it is a plain TCP connection,
// nil otherwise (TLS and WebSocket connections read through their own
// layers). Deadlines and Close of nc apply to it.
func NewReader(nc net.Conn) io.Reader {
	rc := rawConn(nc)
	if rc == nil {
		return nil
	}
	r := &reader{rc: rc}
	r.fn = r.read
	return r
}

func rawConn(nc net.Conn) syscall.RawConn {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

func (r *reader) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	r.b = b
	// RawConn.Read calls r.fn again once the poller reports the socket
	// readable, for as long as it returns false.
	err := r.rc.Read(r.fn)
	r.b = nil
	n, errno := r.n, r.errno
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

func (r *reader) read(fd uintptr) bool {
	r.n, r.errno = call(syscall.SYS_READ, fd, unsafe.Pointer(&r.b[0]), len(r.b))
	return r.errno != syscall.EAGAIN
}

// call makes a read(2)-shaped system call on the non-blocking socket,
// again when a signal interrupted it; EAGAIN is the caller's to handle.
func call(trap, fd uintptr, p unsafe.Pointer, n int) (int, syscall.Errno) {
	for {
		r1, _, e := syscall.RawSyscall(trap, fd, uintptr(p), uintptr(n))
		if e != syscall.EINTR {
			return int(r1), e
		}
	}
}

// maxIov is the most buffers one writev takes (the kernel's IOV_MAX).
const maxIov = 1024

// Writer writes buffers to one socket with writev(2); it is for one
// goroutine at a time.
type Writer struct {
	rc    syscall.RawConn
	fn    func(fd uintptr) bool // made once, as the reader's
	iov   []syscall.Iovec
	n     int
	errno syscall.Errno
}

// NewWriter returns a writer for nc when it is a plain TCP connection,
// nil otherwise. Write deadlines and Close of nc apply to it.
func NewWriter(nc net.Conn) *Writer {
	rc := rawConn(nc)
	if rc == nil {
		return nil
	}
	w := &Writer{rc: rc}
	w.fn = w.writev
	return w
}

// WriteBuffers writes all of bufs, waiting for room in the socket as
// needed, and returns how many bytes went out. It may reslice the
// elements of bufs (as net.Buffers.WriteTo does). An error past the
// write deadline is a net.Error whose Timeout is true, as with net.Conn.
func (w *Writer) WriteBuffers(bufs net.Buffers) (int64, error) {
	var total int64
	for {
		iov := w.iov[:0]
		for _, b := range bufs {
			if len(b) == 0 {
				continue
			}
			v := syscall.Iovec{Base: &b[0]}
			v.SetLen(len(b))
			if iov = append(iov, v); len(iov) == maxIov {
				break
			}
		}
		if len(iov) == 0 {
			return total, nil
		}
		w.iov = iov
		err := w.rc.Write(w.fn)
		n, errno := w.n, w.errno
		clear(iov) // hold no pointers to buffers the caller may recycle
		w.iov = iov[:0]
		switch {
		case err != nil:
			return total, err
		case errno != 0:
			return total, errno
		case n == 0:
			return total, io.ErrShortWrite
		}
		total += int64(n)
		bufs = consume(bufs, n)
	}
}

func (w *Writer) writev(fd uintptr) bool {
	w.n, w.errno = call(syscall.SYS_WRITEV, fd, unsafe.Pointer(&w.iov[0]), len(w.iov))
	return w.errno != syscall.EAGAIN
}

// consume drops the first n bytes of bufs.
func consume(bufs net.Buffers, n int) net.Buffers {
	for len(bufs) > 0 && n > 0 {
		if n < len(bufs[0]) {
			bufs[0] = bufs[0][n:]
			return bufs
		}
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	for len(bufs) > 0 && len(bufs[0]) == 0 {
		bufs = bufs[1:]
	}
	return bufs
}
