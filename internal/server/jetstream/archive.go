package jetstream

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The stream archive of a snapshot is nats-server 2.15's format, so that
// backups cross between the two servers: an S2 stream holding the magic
// "NATSARC1" then entries. Each entry is a head of varints (name length,
// timestamp (signed), sequence, header size, payload size), the name, and
// header size + payload size bytes. The entries are "state.json" (the
// stream state), "consumers/<name>" (config and state JSON) for each
// consumer the state counts, one entry per message (name = subject,
// sequence, store time in ns, header then data), and an empty entry that
// marks the end: an archive without it was truncated.
const archiveMagic = "NATSARC1"

// Limits when reading untrusted archives.
const (
	maxArchiveName  = 1 << 20
	maxArchiveEntry = 64 << 20
)

var errArchiveInvalid = errors.New("invalid archive")

// archiveEntry is one entry's head.
type archiveEntry struct {
	name       string
	ts         int64
	seq        uint64
	hdr, size  int64 // header and payload sizes
	endOfStore bool
}

// archiveWriter writes entries in blocks of size bytes (the last one
// shorter), each handed to put once full: put owns it from then on, and
// may give it back through spare for reuse. Handing over whole blocks
// lets the s2 encoder compress them without a copy of its own.
type archiveWriter struct {
	put   func([]byte) error
	size  int
	spare <-chan []byte
	magic bool
	buf   []byte
	head  []byte
}

func (a *archiveWriter) write(name string, ts int64, seq uint64, hdr, data []byte) error {
	h := a.head[:0]
	if !a.magic {
		h = append(h, archiveMagic...)
		a.magic = true
	}
	h = binary.AppendUvarint(h, uint64(len(name)))
	h = binary.AppendVarint(h, ts)
	h = binary.AppendUvarint(h, seq)
	h = binary.AppendUvarint(h, uint64(len(hdr)))
	h = binary.AppendUvarint(h, uint64(len(data)))
	h = append(h, name...)
	a.head = h
	for _, p := range [...][]byte{h, hdr, data} {
		if err := a.add(p); err != nil {
			return err
		}
	}
	return nil
}

// add appends p, handing over each block it fills.
func (a *archiveWriter) add(p []byte) error {
	for len(p) > 0 {
		if a.buf == nil {
			select {
			case a.buf = <-a.spare:
			default:
				a.buf = make([]byte, 0, a.size)
			}
		}
		n := min(len(p), a.size-len(a.buf))
		a.buf = append(a.buf, p[:n]...)
		p = p[n:]
		if len(a.buf) == a.size {
			if err := a.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (a *archiveWriter) flush() error {
	b := a.buf
	a.buf = nil
	if len(b) == 0 {
		return nil
	}
	return a.put(b)
}

// end writes the end-of-archive entry and hands over the last block.
func (a *archiveWriter) end() error {
	if err := a.write("", 0, 0, nil, nil); err != nil {
		return err
	}
	return a.flush()
}

// archiveReader reads entries; every error but a clean end is one of a
// truncated or corrupt archive.
type archiveReader struct {
	r     *bufio.Reader
	magic bool
}

func newArchiveReader(r io.Reader) *archiveReader {
	return &archiveReader{r: bufio.NewReaderSize(r, 256<<10)}
}

// next reads the next entry with its header and data.
func (a *archiveReader) next() (archiveEntry, []byte, []byte, error) {
	var e archiveEntry
	if !a.magic {
		var m [len(archiveMagic)]byte
		if _, err := io.ReadFull(a.r, m[:]); err != nil {
			return e, nil, nil, truncated(err)
		}
		if string(m[:]) != archiveMagic {
			return e, nil, nil, fmt.Errorf("%w: not a NATSARC1 stream archive (archives of nats-server before 2.15, stream.tar.s2, can not be restored)", errArchiveInvalid)
		}
		a.magic = true
	}
	nameLen, err := binary.ReadUvarint(a.r)
	if err != nil {
		return e, nil, nil, truncated(err)
	}
	if e.ts, err = binary.ReadVarint(a.r); err != nil {
		return e, nil, nil, truncated(err)
	}
	if e.seq, err = binary.ReadUvarint(a.r); err != nil {
		return e, nil, nil, truncated(err)
	}
	h, err := binary.ReadUvarint(a.r)
	if err != nil {
		return e, nil, nil, truncated(err)
	}
	p, err := binary.ReadUvarint(a.r)
	if err != nil {
		return e, nil, nil, truncated(err)
	}
	if nameLen > maxArchiveName || h > maxArchiveEntry || p > maxArchiveEntry || h+p > maxArchiveEntry {
		return e, nil, nil, fmt.Errorf("%w: entry sizes out of range", errArchiveInvalid)
	}
	e.hdr, e.size = int64(h), int64(p)
	buf := make([]byte, nameLen+h+p)
	if _, err := io.ReadFull(a.r, buf); err != nil {
		return e, nil, nil, truncated(err)
	}
	e.name = string(buf[:nameLen])
	e.endOfStore = e.name == "" && e.ts == 0 && e.seq == 0 && h == 0 && p == 0
	hdr := buf[nameLen : nameLen+h]
	if h == 0 {
		hdr = nil
	}
	return e, hdr, buf[nameLen+h:], nil
}

func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: archive is truncated", errArchiveInvalid)
	}
	return err
}
