package route

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/klauspost/compress/s2"
)

// S2 route compression, negotiated as nats-server does: each side's INFO
// says its mode; on the first INFO a side picks the mode both accept. The
// soliciting side then sends one more INFO in the clear and compresses
// everything after it; the accepting side compresses from its answering
// INFO on. Registration waits for the INFO that follows the switch.

var defaultRTTThresholds = []time.Duration{10 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond}

func needsCompression(m string) bool {
	return m != "" && m != CompressionOff && m != CompressionNotSupported
}

// selectCompression picks the mode from ours (not off) and theirs.
func selectCompression(ours, theirs string) (string, error) {
	switch theirs {
	case "", CompressionNotSupported:
		return CompressionNotSupported, nil
	case CompressionOff:
		return CompressionOff, nil
	case CompressionAccept:
		if ours == CompressionAccept {
			return CompressionOff, nil
		}
		return ours, nil
	case CompressionS2Auto, CompressionS2Uncomp, CompressionS2Fast, CompressionS2Better, CompressionS2Best:
		if ours == CompressionAccept {
			if theirs == CompressionS2Auto {
				return CompressionS2Fast, nil
			}
			return theirs, nil
		}
		return ours, nil
	}
	return "", fmt.Errorf("unsupported route compression mode %q", theirs)
}

// autoMode picks a level from the round trip, as s2_auto does.
func autoMode(rtt time.Duration, th []time.Duration) string {
	if len(th) == 0 {
		th = defaultRTTThresholds
	}
	idx := -1
	for i, d := range th {
		if rtt <= d {
			idx = i
			break
		}
	}
	if idx < 0 {
		idx = min(len(th), 3)
	}
	return [...]string{CompressionS2Uncomp, CompressionS2Fast, CompressionS2Better, CompressionS2Best}[idx]
}

func writerOptions(mode string) []s2.WriterOption {
	opts := []s2.WriterOption{s2.WriterConcurrency(1)}
	switch mode {
	case CompressionS2Uncomp:
		opts = append(opts, s2.WriterUncompressed())
	case CompressionS2Better:
		opts = append(opts, s2.WriterBetterCompression())
	case CompressionS2Best:
		opts = append(opts, s2.WriterBestCompression())
	}
	return opts
}

// negotiate runs on the first INFO when we are configured for compression.
// It reports whether the handshake now waits for the peer's next INFO.
func (m *Manager) negotiate(c *Conn, info *Info) (wait bool, err error) {
	mode, err := selectCompression(m.conf().Compression, info.Compression)
	if err != nil {
		return false, err
	}
	if mode == CompressionS2Auto {
		mode = autoMode(time.Since(c.start), m.conf().RTTThresholds)
	}
	c.compression = mode
	if !needsCompression(mode) {
		return false, nil
	}
	mine := m.infoFor(c.account, -1)
	mine.Compression = m.infoCompression(mode)
	line := jsonLine("INFO", mine)
	w := s2.NewWriter(countWriter{c}, writerOptions(mode)...)
	if c.solicited {
		// The INFO goes in the clear, after everything queued so far;
		// what follows is compressed.
		c.wmu.Lock()
		c.mu.Lock()
		bufs := c.mu.out.take(nil)
		c.mu.cw = w
		c.mu.Unlock()
		bufs = append(bufs, line)
		_, err := bufs.WriteTo(countWriter{c})
		c.wmu.Unlock()
		if err != nil {
			return false, err
		}
	} else {
		c.wmu.Lock()
		c.mu.Lock()
		c.mu.cw = w
		c.mu.Unlock()
		c.wmu.Unlock()
		c.enqueue(line)
	}
	c.switchRead = true
	return true, nil
}

// infoCompression is the mode our INFO names: s2_auto stays s2_auto.
func (m *Manager) infoCompression(negotiated string) string {
	if m.conf().Compression == CompressionS2Auto {
		return CompressionS2Auto
	}
	return negotiated
}

// countWriter writes to the socket, counting bytes on the wire.
type countWriter struct{ c *Conn }

func (w countWriter) Write(p []byte) (int, error) {
	n, err := w.c.nc.Write(p)
	w.c.wireOut.Add(int64(n))
	return n, err
}

// compressedReader continues reading after the switch: the rest of the
// current buffer, then the socket, through the S2 decoder.
func compressedReader(rest []byte, nc net.Conn) io.Reader {
	src := io.Reader(nc)
	if len(rest) > 0 {
		src = io.MultiReader(bytes.NewReader(append([]byte(nil), rest...)), nc)
	}
	return s2.NewReader(src)
}

// recompress moves a compressing route to another compressed mode, as a
// reload does: the writer is replaced between two flushes (wmu held, so
// the old one has written all it had, up to a message boundary) and the
// new one starts a fresh S2 stream, which the peer's reader accepts
// mid-connection. s2_auto picks the level from the measured round trip.
func (c *Conn) recompress(mode string, th []time.Duration) {
	if mode == CompressionS2Auto {
		mode = autoMode(time.Duration(c.rtt.Load()), th)
	}
	c.wmu.Lock()
	c.mu.Lock()
	if c.mu.cw != nil && !c.mu.closed && mode != c.compression {
		c.mu.cw = s2.NewWriter(countWriter{c}, writerOptions(mode)...)
		c.compression = mode
	}
	c.mu.Unlock()
	c.wmu.Unlock()
}
