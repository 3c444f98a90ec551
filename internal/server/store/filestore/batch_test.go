package filestore

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/vfs"
)

// loadAll reads first..last with LoadRange in batches of about budget
// bytes, reusing one batch, and returns copies of what it read.
func loadAll(t *testing.T, s *Store, first, last uint64, budget int) []store.Msg {
	t.Helper()
	var out []store.Msg
	var b store.Batch
	for seq := first; seq <= last; {
		next, err := s.LoadRange(seq, last, budget, &b)
		if err != nil {
			t.Fatalf("LoadRange(%d): %v", seq, err)
		}
		if next <= seq {
			t.Fatalf("LoadRange(%d) did not move on (%d)", seq, next)
		}
		for _, m := range b.Msgs {
			if m.Seq < seq || m.Seq >= next {
				t.Fatalf("LoadRange(%d) returned %d, next %d", seq, m.Seq, next)
			}
			m.Header, m.Data = bytes.Clone(m.Header), bytes.Clone(m.Data)
			out = append(out, m)
		}
		seq = next
	}
	return out
}

// sameAsLoad checks that got is what Load gives for every live sequence
// of first..last.
func sameAsLoad(t *testing.T, s *Store, got []store.Msg, first, last uint64) {
	t.Helper()
	i := 0
	for seq := first; seq <= last; seq++ {
		m, err := s.Load(seq)
		if err != nil {
			continue
		}
		if i == len(got) {
			t.Fatalf("LoadRange stopped before %d", seq)
		}
		g := got[i]
		i++
		if g.Seq != m.Seq || g.Subject != m.Subject || g.Time != m.Time || !bytes.Equal(g.Header, m.Header) || !bytes.Equal(g.Data, m.Data) {
			t.Fatalf("seq %d: LoadRange %+v, Load %+v", seq, g, m)
		}
	}
	if i != len(got) {
		t.Fatalf("LoadRange returned %d messages, Load %d", len(got), i)
	}
}

func TestLoadRange(t *testing.T) {
	s2cfg := testCfg
	s2cfg.Compression = store.S2Compression
	lazy := store.Config{Name: "L"} // the tail's records stay buffered
	cases := map[string]store.Config{
		"plain": testCfg, "s2": s2cfg, "aes": encCfg(store.AES, "k1", ""), "buffered": lazy,
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			fsys := vfs.NewFaultFS(7)
			s := openT(t, "/r", cfg, Options{FS: fsys, BlockSize: 64 << 10, manualCompress: true})
			defer s.Stop()
			fillBig(t, s, 0, 1500)
			for seq := uint64(10); seq <= 1500; seq += 97 {
				s.Remove(seq)
			}
			if _, err := s.Purge(store.PurgeOpts{Subject: "s.3"}); err != nil {
				t.Fatal(err)
			}
			s.compressNow()
			for i := 1500; i < 1600; i++ { // not synced: "buffered" keeps them in memory
				if _, _, err := s.Store(fmt.Sprintf("s.%d", i%7), nil, bigPayload(i), 0); err != nil {
					t.Fatal(err)
				}
			}
			for _, budget := range []int{1, 5000, 1 << 20} {
				sameAsLoad(t, s, loadAll(t, s, 1, 1600, budget), 1, 1600)
			}
			sameAsLoad(t, s, loadAll(t, s, 700, 1200, 3000), 700, 1200)
			if got := loadAll(t, s, 1601, 1700, 1000); len(got) != 0 {
				t.Fatalf("past the last: %d messages", len(got))
			}
		})
	}
}

// A corrupt record is dropped and reported as lost, as Load does, and the
// batch goes on past it.
func TestLoadRangeCorrupt(t *testing.T) {
	fsys := vfs.NewFaultFS(9)
	s := openT(t, "/c", testCfg, Options{FS: fsys, BlockSize: 64 << 10})
	defer s.Stop()
	fillBig(t, s, 0, 300)
	c, _ := fsys.Contents(blockName("/c/blk", 1))
	if err := fsys.FlipBit(blockName("/c/blk", 1), int64(len(c)/2), 2); err != nil {
		t.Fatal(err)
	}
	got := loadAll(t, s, 1, 300, 20000)
	st := s.State()
	if st.Lost == nil || len(st.Lost.Msgs) != 1 || len(got) != 299 {
		t.Fatalf("%d read, state %+v", len(got), st)
	}
	sameAsLoad(t, s, got, 1, 300)
}

// LoadRange runs beside a writer that appends (to a buffered tail) and
// removes: every message it returns is the one stored at its sequence.
func TestLoadRangeWhileWriting(t *testing.T) {
	s := openT(t, t.TempDir(), store.Config{Name: "W"}, Options{BlockSize: 32 << 10})
	defer s.Stop()
	payload := func(seq uint64) []byte { return []byte(fmt.Sprintf("m-%d-%s", seq, bigPayload(int(seq%50)))) }
	for seq := uint64(1); seq <= 500; seq++ {
		s.Store("a", nil, payload(seq), 0)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for seq := uint64(501); seq <= 3000; seq++ {
			s.Store("a", nil, payload(seq), 0)
			if seq%5 == 0 {
				s.Remove(seq - 200)
			}
		}
	}()
	var b store.Batch
	for pass := 0; ; pass++ {
		finished := false
		select {
		case <-done:
			finished = true
		default:
		}
		last := s.State().LastSeq
		for seq := uint64(1); seq <= last; {
			next, err := s.LoadRange(seq, last, 4000, &b)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range b.Msgs {
				if !bytes.Equal(m.Data, payload(m.Seq)) {
					t.Fatalf("pass %d: seq %d holds %.20q", pass, m.Seq, m.Data)
				}
			}
			seq = next
		}
		if finished {
			return
		}
	}
}
