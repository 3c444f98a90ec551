//go:build !linux

package sockio

import "net"

// Reader is never made on this system.
type Reader struct{}

// NewReader: connections are read through net.Conn on this system.
func NewReader(net.Conn) *Reader { return nil }

// Read is never called: NewReader returns nil.
func (r *Reader) Read([]byte) (int, error) { return 0, net.ErrClosed }

// Note is never called: NewReader returns nil.
func (r *Reader) Note(int, bool) {}

// Wake is never called: NewReader returns nil.
func (r *Reader) Wake() {}

// Writer is never made on this system.
type Writer struct{}

// NewWriter: connections are written through net.Conn on this system.
func NewWriter(net.Conn) *Writer { return nil }

// WriteBuffers is never called: NewWriter returns nil.
func (w *Writer) WriteBuffers(bufs net.Buffers) (int64, error) { return 0, net.ErrClosed }
