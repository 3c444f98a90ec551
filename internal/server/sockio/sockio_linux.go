package sockio

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// Reader reads one socket; see the package comment. Read and Note are
// for one goroutine; Wake for any.
type Reader struct {
	rc syscall.RawConn
	tc *net.TCPConn
	// What was read since the reader last waited: bytes, messages and
	// whether anything was sent back (the last two from Note).
	got, msgs int
	replied   bool
	// coalescing mirrors mu.coalescing for Wake's quick look.
	coalescing atomic.Bool
	mu         struct {
		sync.Mutex
		lowat      bool // SO_RCVLOWAT is raised to coalesceLowat
		coalescing bool // the last wait was coalesced and Wake did not end it
	}
}

// While a peer streams messages at the server and is sent nothing back,
// the reader does not wait for each of its writes: SO_RCVLOWAT keeps the
// kernel from waking it before coalesceLowat bytes are queued, and a read
// deadline of coalesceWait (rounded up to the next millisecond by the
// runtime's poller when it is idle) reads whatever came in by then.
// The wake-up of a thread asleep in epoll is paid by the writer inside its
// write(2), and nats.go writes while holding the lock its publishers take:
// 16 KiB writes on loopback took about 16 µs to a reader asleep in epoll
// against 5 µs to one the kernel does not wake, and the woken server
// sometimes preempts the writer (the slow tail of those writes).
// A peer waiting for an answer asked for one (a reply subject) or is sent
// something (PONG, replies, acks): such a wait is not coalesced, nor one
// after a few large messages, and output written during a coalesced wait
// ends it (Wake).
const (
	streamBytes   = 8 << 10
	streamMsgs    = 32
	coalesceLowat = 256 << 10
)

var coalesceWait = 200 * time.Microsecond // a variable for tests

// NewReader returns a reader for nc when it is a plain TCP connection,
// nil otherwise (TLS and WebSocket connections read through their own
// layers). Deadlines and Close of nc apply to it.
func NewReader(nc net.Conn) *Reader {
	rc := rawConn(nc)
	if rc == nil {
		return nil
	}
	return &Reader{rc: rc, tc: nc.(*net.TCPConn)}
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

// Note tells the reader what the bytes it returned carried: msgs
// messages, and whether the peer awaits answers to them or was sent
// anything since the last call (replied). The next wait for data is coalesced only after a
// stream of messages that were not answered.
func (r *Reader) Note(msgs int, replied bool) {
	r.msgs += msgs
	r.replied = r.replied || replied
}

func (r *Reader) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	for {
		var n int
		var errno syscall.Errno
		waited, armed := false, false
		// RawConn.Read calls the function again once the poller reports the
		// socket readable, for as long as it returns false.
		err := r.rc.Read(func(fd uintptr) bool {
			for {
				r1, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
				if e == syscall.EINTR {
					continue
				}
				if e != syscall.EAGAIN {
					n, errno = int(r1), e
					return true
				}
				if !waited { // the first wait since data came decides
					waited = true
					armed = r.beforeWait(fd)
				}
				return false
			}
		})
		if armed {
			r.tc.SetReadDeadline(time.Time{})
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue // the pause is over: read what came meanwhile
			}
		}
		switch {
		case err != nil: // closed, or a deadline passed
			return 0, err
		case errno != 0:
			return 0, errno
		case n == 0:
			return 0, io.EOF
		}
		r.got += n
		return n, nil
	}
}

// beforeWait sets the socket up for the wait that follows and reports
// whether it armed the read deadline.
func (r *Reader) beforeWait(fd uintptr) bool {
	stream := r.got >= streamBytes && r.msgs >= streamMsgs && !r.replied
	r.got, r.msgs, r.replied = 0, 0, false
	if testHookWait != nil {
		testHookWait(stream)
	}
	// SO_RCVLOWAT is raised only here, for a wait with a deadline; Wake
	// only lowers it. Both under mu, so that no wait without a deadline
	// is left with it raised.
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mu.coalescing = stream
	r.coalescing.Store(stream)
	if !stream {
		if r.mu.lowat {
			setLowat(fd, 1)
			r.mu.lowat = false
		}
		return false
	}
	if !r.mu.lowat {
		setLowat(fd, coalesceLowat)
		r.mu.lowat = true
	}
	r.tc.SetReadDeadline(time.Now().Add(coalesceWait))
	return true
}

// Wake ends a coalesced wait: the peer was just sent something and may
// answer with less than SO_RCVLOWAT. Cheap when no wait is coalesced.
func (r *Reader) Wake() {
	if !r.coalescing.Load() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.mu.coalescing {
		return
	}
	r.mu.coalescing = false
	r.coalescing.Store(false)
	if r.mu.lowat {
		// Lowering it announces what is queued at once (tcp_set_rcvlowat).
		r.rc.Control(func(fd uintptr) { setLowat(fd, 1) })
		r.mu.lowat = false
	}
}

// testHookWait, when set by a test, learns of each wait whether it is
// coalesced, before the socket is set up for it.
var testHookWait func(coalesced bool)

// setLowat sets SO_RCVLOWAT. It is called inside RawConn.Read, after the
// poller was reset for the wait: data that came since the last read is
// announced to the wait either way.
func setLowat(fd uintptr, v int) {
	syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT, v)
}

// maxIov is the most buffers one writev takes (the kernel's IOV_MAX).
const maxIov = 1024

// Writer writes buffers to one socket with writev(2); it is for one
// goroutine at a time.
type Writer struct {
	rc  syscall.RawConn
	iov []syscall.Iovec
}

// NewWriter returns a writer for nc when it is a plain TCP connection,
// nil otherwise. Write deadlines and Close of nc apply to it.
func NewWriter(nc net.Conn) *Writer {
	rc := rawConn(nc)
	if rc == nil {
		return nil
	}
	return &Writer{rc: rc}
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
		var n int
		var errno syscall.Errno
		err := w.rc.Write(func(fd uintptr) bool {
			for {
				r1, _, e := syscall.RawSyscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
				if e == syscall.EINTR {
					continue
				}
				n, errno = int(r1), e
				return e != syscall.EAGAIN
			}
		})
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
