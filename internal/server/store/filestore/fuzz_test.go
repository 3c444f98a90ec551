package filestore

import (
	"testing"
)

// FuzzScan feeds arbitrary bytes to the record scanner: it must not panic,
// and whatever it accepts must decode again to the same records.
func FuzzScan(f *testing.F) {
	var seed []byte
	seed = appendMsg(seed, 1, 10, 0, "a.b", []byte("NATS/1.0\r\n\r\n"), []byte("hello"))
	seed = appendCtl(seed, kindDelete, 1, 0)
	seed = appendCtl(seed, kindSkip, 2, 5)
	seed = appendCtl(seed, kindBase, 3, 0)
	seed = appendCtl(seed, kindLast, 9, 0)
	f.Add(seed)
	f.Add(seed[:len(seed)-7])
	f.Add([]byte("SLR1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		res := scan(b, 0, nil)
		if res.end < 0 || res.end > int64(len(b)) {
			t.Fatalf("end %d outside 0..%d", res.end, len(b))
		}
		for _, m := range res.metas {
			r := b[m.off : m.off+m.len]
			h, ok := decodeHeader(r)
			if !ok || h.seq != m.seq || h.kind != m.kind || !bodyOK(h, r) {
				t.Fatalf("accepted record at %d does not decode again", m.off)
			}
			if m.kind == kindMsg {
				body, err := (*codec)(nil).body(h, r)
				if err != nil {
					t.Fatalf("accepted record at %d: %v", m.off, err)
				}
				_, _, subj, _, _ := fields(h, body)
				if string(subj) != m.subj {
					t.Fatalf("subject %q, meta %q", subj, m.subj)
				}
			}
		}
	})
}

// FuzzIndex: a corrupt index is refused, never a panic.
func FuzzIndex(f *testing.F) {
	f.Add(encodeIndex(1, 100, []meta{{kind: kindMsg, seq: 1, off: 0, len: 50, subj: "a"}, {kind: kindDelete, seq: 1}}))
	f.Add(encodeIndexV1(1, 100, []meta{{kind: kindMsg, seq: 1, off: 0, len: 50, subj: "a"}, {kind: kindDelete, seq: 1}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		decodeIndex(b, 1, map[string]string{})
	})
}
