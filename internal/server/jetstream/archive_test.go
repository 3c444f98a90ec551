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
