//go:build !linux

package sockio

import (
	"io"
	"net"
)

// NewReader: connections are read through net.Conn on this system.
func NewReader(net.Conn) io.Reader { return nil }

// Writer is never made on this system.
type Writer struct{}

// NewWriter: connections are written through net.Conn on this system.
func NewWriter(net.Conn) *Writer { return nil }

// WriteBuffers is never called: NewWriter returns nil.
func (w *Writer) WriteBuffers(bufs net.Buffers) (int64, error) { return 0, net.ErrClosed }
