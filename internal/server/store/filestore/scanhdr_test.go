package filestore

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/vfs"
)

type scanned struct {
	seq uint64
	ts  int64
	hdr string
}

// scanRef is what ScanHeaders must report: every live message from start,
// loaded one by one.
func scanRef(t *testing.T, s *Store, start uint64) []scanned {
	t.Helper()
	var out []scanned
	for seq := start; ; {
		m, err := s.LoadNext(">", seq)
		if err != nil {
			return out
		}
		sc := scanned{seq: m.Seq}
		if len(m.Header) > 0 {
			sc.ts, sc.hdr = m.Time, string(m.Header)
		}
		out = append(out, sc)
		seq = m.Seq + 1
	}
}

func scanGot(t *testing.T, s *Store, start uint64) []scanned {
	t.Helper()
	var out []scanned
	last := uint64(0)
	err := s.ScanHeaders(start, func(seq uint64, ts int64, hdr []byte) bool {
		if seq <= last {
			t.Fatalf("sequence %d after %d", seq, last)
		}
		last = seq
		sc := scanned{seq: seq}
		if hdr != nil {
			sc.ts, sc.hdr = ts, string(hdr)
		}
		out = append(out, sc)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func checkScan(t *testing.T, s *Store, what string) {
	t.Helper()
	st := s.State()
	for _, start := range []uint64{0, st.FirstSeq + st.Msgs/3, st.LastSeq, st.LastSeq + 1} {
		want, got := scanRef(t, s, start), scanGot(t, s, start)
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("%s, from %d: scan found %d messages, loads %d\nscan: %v\nload: %v", what, start, len(got), len(want), got, want)
		}
	}
}

// ScanHeaders agrees with loading every message, across deletes, erases,
// truncations (sequences used again), purges, block compaction, records
// larger than its read, buffered records and restarts, in every codec.
func TestScanHeadersMatchesLoads(t *testing.T) {
	s2cfg := testCfg
	s2cfg.Compression = store.S2Compression
	both := encCfg(store.AES, "k1", "")
	both.Compression = store.S2Compression
	cases := map[string]store.Config{"plain": testCfg, "s2": s2cfg, "aes+s2": both}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, uint64(len(name))))
			fsys := vfs.NewFaultFS(5)
			opts := Options{FS: fsys, BlockSize: 16 << 10}
			s := openT(t, "/h", cfg, opts)
			defer func() { s.Stop() }()
			for step := range 600 {
				switch r := rng.IntN(100); {
				case r < 60:
					var hdr []byte
					if rng.IntN(2) == 0 {
						hdr = fmt.Appendf(nil, "NATS/1.0\r\nNats-Msg-Id: id-%d\r\n\r\n", step)
					}
					data := bytes.Repeat([]byte{byte(step)}, rng.IntN(200))
					if rng.IntN(50) == 0 {
						data = make([]byte, scanChunk+rng.IntN(5000)) // larger than one read
						for i := range data {
							data[i] = byte(rng.Uint32())
						}
					}
					if _, _, err := s.Store(fmt.Sprintf("s.%d", rng.IntN(5)), hdr, data, 0); err != nil {
						t.Fatal(err)
					}
				case r < 72:
					st := s.State()
					if st.Msgs > 0 {
						seq := st.FirstSeq + rng.Uint64N(st.LastSeq-st.FirstSeq+1)
						if rng.IntN(3) == 0 {
							s.Erase(seq)
						} else {
							s.Remove(seq)
						}
					}
				case r < 75:
					if st := s.State(); st.Msgs > 4 {
						if err := s.Truncate(st.LastSeq - 3); err != nil {
							t.Fatal(err)
						}
					}
				case r < 77:
					if st := s.State(); st.Msgs > 10 {
						if _, err := s.Compact(st.FirstSeq + 5); err != nil {
							t.Fatal(err)
						}
					}
				case r < 85:
					if err := s.Sync(); err != nil {
						t.Fatal(err)
					}
				case r < 88:
					s.Stop()
					s = openT(t, "/h", cfg, opts)
				default:
					checkScan(t, s, fmt.Sprintf("step %d", step))
				}
			}
			checkScan(t, s, "at the end")
			s.Stop()
			s = openT(t, "/h", cfg, opts)
			checkScan(t, s, "after a restart")
		})
	}
}

// A damaged record is left out of the scan; the records after it are not.
func TestScanHeadersSkipsDamage(t *testing.T) {
	for _, where := range []string{"body", "header"} {
		t.Run(where, func(t *testing.T) {
			fsys := vfs.NewFaultFS(9)
			opts := Options{FS: fsys, BlockSize: 1 << 20}
			s := openT(t, "/d", testCfg, opts)
			for i := range 50 {
				hdr := fmt.Appendf(nil, "NATS/1.0\r\nNats-Msg-Id: %d\r\n\r\n", i)
				if _, _, err := s.Store("s", hdr, []byte("data"), 0); err != nil {
					t.Fatal(err)
				}
			}
			s.Lock()
			l, _ := s.PeekLocked(20)
			s.Unlock()
			s.Stop()
			off := map[string]int64{"body": int64(l.len) - 2, "header": 9}[where]
			if err := fsys.FlipBit(blockName("/d/blk", l.blk), int64(l.off)+off, 1); err != nil {
				t.Fatal(err)
			}
			s = openT(t, "/d", testCfg, opts) // the index still lists 20
			defer s.Stop()
			got := scanGot(t, s, 1)
			if len(got) != 49 {
				t.Fatalf("scan found %d messages, want 49: %v", len(got), got)
			}
			for _, g := range got {
				if g.seq == 20 || g.hdr != fmt.Sprintf("NATS/1.0\r\nNats-Msg-Id: %d\r\n\r\n", g.seq-1) {
					t.Fatalf("scan found %+v", g)
				}
			}
		})
	}
}

func TestScanHeadersStopsAndEmpty(t *testing.T) {
	s := openT(t, t.TempDir(), testCfg, Options{})
	defer s.Stop()
	if got := scanGot(t, s, 1); len(got) != 0 {
		t.Fatalf("empty store: %v", got)
	}
	fillN(t, s, 10)
	n := 0
	if err := s.ScanHeaders(1, func(uint64, int64, []byte) bool { n++; return n < 3 }); err != nil || n != 3 {
		t.Fatalf("stop after 3: %d %v", n, err)
	}
	if got := scanGot(t, s, 11); len(got) != 0 {
		t.Fatalf("past the end: %v", got)
	}
}
