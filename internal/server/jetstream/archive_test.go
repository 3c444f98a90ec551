package jetstream

import (
	"bytes"
	"errors"
	"testing"
)

func TestArchiveRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := &archiveWriter{put: func(b []byte) error { buf.Write(b); return nil }, size: 7}
	w.write("state.json", 5, 0, nil, []byte(`{}`))
	w.write("a.b", -7, 3, []byte("NATS/1.0\r\n\r\n"), []byte("data"))
	w.end()
	if !bytes.HasPrefix(buf.Bytes(), []byte(archiveMagic)) {
		t.Fatal("no magic")
	}
	r := newArchiveReader(bytes.NewReader(buf.Bytes()))
	e, _, data, err := r.next()
	if err != nil || e.name != "state.json" || e.ts != 5 || string(data) != "{}" {
		t.Fatalf("%+v %q %v", e, data, err)
	}
	e, hdr, data, err := r.next()
	if err != nil || e.name != "a.b" || e.ts != -7 || e.seq != 3 || string(hdr) != "NATS/1.0\r\n\r\n" || string(data) != "data" {
		t.Fatalf("%+v %q %q %v", e, hdr, data, err)
	}
	if e, _, _, err = r.next(); err != nil || !e.endOfStore {
		t.Fatalf("end: %+v %v", e, err)
	}
	// Cut anywhere inside, the archive is invalid, never a clean end.
	for cut := 1; cut < buf.Len()-1; cut++ {
		r := newArchiveReader(bytes.NewReader(buf.Bytes()[:cut]))
		var err error
		for err == nil {
			var e archiveEntry
			if e, _, _, err = r.next(); err == nil && e.endOfStore {
				t.Fatalf("cut at %d read as complete", cut)
			}
		}
		if !errors.Is(err, errArchiveInvalid) {
			t.Fatalf("cut at %d: %v", cut, err)
		}
	}
	if _, _, _, err := newArchiveReader(bytes.NewReader([]byte("NOTANARCHIVE"))).next(); !errors.Is(err, errArchiveInvalid) {
		t.Fatal(err)
	}
}

// The archive's bytes do not depend on the block size it is written in:
// entries are cut across blocks, never padded or reordered.
func TestArchiveBlocks(t *testing.T) {
	write := func(size int) ([]byte, int) {
		var out bytes.Buffer
		blocks := 0
		w := &archiveWriter{put: func(b []byte) error {
			if len(b) > size {
				t.Fatalf("block of %d bytes, size %d", len(b), size)
			}
			out.Write(b)
			blocks++
			return nil
		}, size: size}
		for i := range 50 {
			w.write("s.x", int64(i), uint64(i+1), bytes.Repeat([]byte("h"), i%3), bytes.Repeat([]byte{byte(i)}, i*13))
		}
		w.end()
		return out.Bytes(), blocks
	}
	whole, n := write(1 << 20)
	if n != 1 {
		t.Fatalf("%d blocks", n)
	}
	for _, size := range []int{1, 5, 64, 1000} {
		if got, n := write(size); !bytes.Equal(got, whole) || n != (len(whole)+size-1)/size {
			t.Fatalf("size %d: %d blocks, bytes differ %v", size, n, !bytes.Equal(got, whole))
		}
	}
}
