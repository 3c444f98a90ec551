package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/server/store"
)

// Opener opens a new, empty store with cfg; the store is stopped by the
// test.
type Opener func(t testing.TB, cfg store.Config) store.Store

// Run runs the whole suite against the stores open makes.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"StoreLoad", testStoreLoad},
		{"RandomOps", testRandomOps},
		{"WideScan", testWideScan},
		{"FirstSeqAndSkip", testFirstSeqAndSkip},
		{"StoreRawGap", testStoreRawGap},
		{"Purge", testPurge},
		{"CompactTruncate", testCompactTruncate},
		{"MaxMsgs", testMaxMsgs},
		{"MaxBytes", testMaxBytes},
		{"MaxMsgsPer", testMaxMsgsPer},
		{"MaxAge", testMaxAge},
		{"TTL", testTTL},
		{"UpdateConfig", testUpdateConfig},
		{"BadInput", testBadInput},
		{"Closed", testClosed},
		{"Concurrent", testConcurrent},
		{"ConsumerStore", testConsumerStore},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open)
		})
	}
}

func cfgNamed(t testing.TB) store.Config { return store.Config{Name: "S", SyncAlways: true} }

func mustStore(t testing.TB, s store.Store, subj string, data string) uint64 {
	t.Helper()
	seq, _, err := s.Store(subj, nil, []byte(data), 0)
	if err != nil {
		t.Fatalf("store %s: %v", subj, err)
	}
	return seq
}

func check(t testing.TB, s store.Store, m *Model) {
	t.Helper()
	if err := Compare(s, m); err != nil {
		t.Fatal(err)
	}
}

func testStoreLoad(t *testing.T, open Opener) {
	s := open(t, cfgNamed(t))
	m := NewModel(1)
	check(t, s, m)
	for i, subj := range []string{"a", "b.c", "a", "x.y.z"} {
		hdr := []byte(nil)
		if i%2 == 1 {
			hdr = []byte("NATS/1.0\r\nk: v\r\n\r\n")
		}
		seq, ts, err := s.Store(subj, hdr, []byte(fmt.Sprintf("msg-%d", i)), 0)
		if err != nil || seq != uint64(i+1) || ts == 0 {
			t.Fatalf("store: %d %d %v", seq, ts, err)
		}
		m.Store(&store.Msg{Subject: subj, Header: hdr, Data: []byte(fmt.Sprintf("msg-%d", i)), Seq: seq, Time: ts})
	}
	check(t, s, m)
	if ok, err := s.Remove(2); !ok || err != nil {
		t.Fatalf("remove: %v %v", ok, err)
	}
	m.Remove(2)
	if ok, err := s.Remove(2); ok || err != nil {
		t.Fatalf("remove again: %v %v", ok, err)
	}
	if _, err := s.Load(2); !errors.Is(err, store.ErrDeleted) {
		t.Fatalf("load removed: %v", err)
	}
	if ok, err := s.Erase(1); !ok || err != nil {
		t.Fatalf("erase: %v %v", ok, err)
	}
	m.Remove(1)
	check(t, s, m)
	// Empty data and header are stored as such.
	seq, ts, err := s.Store("e", nil, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	m.Store(&store.Msg{Subject: "e", Seq: seq, Time: ts})
	check(t, s, m)
}

// Trace, when set, sees each random op (debugging).
var Trace func(desc string)

// RandomOps drives the store and the model with the same random operations
// and compares them after each.
func RandomOps(t testing.TB, s store.Store, m *Model, rng *rand.Rand, n int) {
	t.Helper()
	for i := range n {
		op := rng.IntN(100)
		var desc string
		switch {
		case op < 60:
			subj := Subjects[rng.IntN(len(Subjects))]
			var hdr []byte
			if rng.IntN(3) == 0 {
				hdr = []byte("NATS/1.0\r\nh: 1\r\n\r\n")
			}
			data := make([]byte, rng.IntN(64))
			for j := range data {
				data[j] = byte(rng.IntN(256))
			}
			seq, ts, err := s.Store(subj, hdr, data, 0)
			if err != nil {
				t.Fatalf("op %d store: %v", i, err)
			}
			m.Store(&store.Msg{Subject: subj, Header: hdr, Data: data, Seq: seq, Time: ts})
			desc = fmt.Sprintf("store %s -> %d", subj, seq)
		case op < 75:
			seq := m.First + uint64(rng.IntN(int(m.Last-m.First+3)))
			ok, err := s.Remove(seq)
			if err != nil || ok != m.Remove(seq) {
				t.Fatalf("op %d remove %d: %v %v", i, seq, ok, err)
			}
			desc = fmt.Sprintf("remove %d", seq)
		case op < 80:
			o := store.PurgeOpts{Subject: Filters[rng.IntN(len(Filters))]}
			switch rng.IntN(3) {
			case 0:
				o.Keep = uint64(rng.IntN(5))
			case 1:
				o.Seq = m.First + uint64(rng.IntN(int(m.Last-m.First+3)))
			}
			if o.Subject == "nope" || o.Subject == "*" {
				o.Subject = "b.>"
			}
			n, err := s.Purge(o)
			if want := m.Purge(o); err != nil || n != want {
				t.Fatalf("op %d purge %+v: %d %v, want %d", i, o, n, err, want)
			}
			desc = fmt.Sprintf("purge %+v", o)
		case op < 84:
			seq := m.First + uint64(rng.IntN(int(m.Last-m.First+4)))
			n, err := s.Compact(seq)
			if want := m.Compact(seq); err != nil || n != want {
				t.Fatalf("op %d compact %d: %d %v, want %d", i, seq, n, err, want)
			}
			desc = fmt.Sprintf("compact %d", seq)
		case op < 86:
			seq := m.Last - uint64(rng.IntN(int(min(m.Last, 5))+1))
			if err := s.Truncate(seq); err != nil {
				t.Fatalf("op %d truncate %d: %v", i, seq, err)
			}
			m.Truncate(seq)
			desc = fmt.Sprintf("truncate %d", seq)
		case op < 90:
			k := uint64(rng.IntN(3) + 1)
			if err := s.SkipMsgs(m.Last+1, k); err != nil {
				t.Fatalf("op %d skip: %v", i, err)
			}
			m.Skip(k)
			desc = fmt.Sprintf("skip %d", k)
		default:
			ok, err := s.Erase(m.Last)
			if err != nil || ok != m.Remove(m.Last) {
				t.Fatalf("op %d erase: %v %v", i, ok, err)
			}
			desc = "erase last"
		}
		if Trace != nil {
			Trace(desc)
		}
		if err := Compare(s, m); err != nil {
			t.Fatalf("op %d (%s): %v", i, desc, err)
		}
	}
}

func testRandomOps(t *testing.T, open Opener) {
	for seed := range uint64(4) {
		s := open(t, cfgNamed(t))
		RandomOps(t, s, NewModel(1), rand.New(rand.NewPCG(seed, 7)), 400)
	}
}

// WideScan makes queries go past the linear scan limit onto the index.
func testWideScan(t *testing.T, open Opener) {
	s := open(t, cfgNamed(t))
	m := NewModel(1)
	add := func(subj string) {
		seq, ts, err := s.Store(subj, nil, []byte("x"), 0)
		if err != nil {
			t.Fatal(err)
		}
		m.Store(&store.Msg{Subject: subj, Data: []byte("x"), Seq: seq, Time: ts})
	}
	add("x.y.z")
	add("b.c")
	for range 3000 {
		add("a")
	}
	add("x.q.z")
	add("b.d")
	for range 3000 {
		add("a")
	}
	check(t, s, m)
}

func testFirstSeqAndSkip(t *testing.T, open Opener) {
	cfg := cfgNamed(t)
	cfg.FirstSeq = 100
	s := open(t, cfg)
	m := NewModel(100)
	check(t, s, m)
	if err := s.SkipMsg(5); !errors.Is(err, store.ErrSequenceMismatch) {
		t.Fatalf("skip wrong seq: %v", err)
	}
	if err := s.SkipMsg(100); err != nil {
		t.Fatal(err)
	}
	m.Skip(1)
	check(t, s, m)
	seq := mustStore(t, s, "a", "1")
	if seq != 101 {
		t.Fatalf("seq %d after skip", seq)
	}
	m.Store(&store.Msg{Subject: "a", Data: []byte("1"), Seq: 101})
	if err := s.SkipMsgs(102, 10); err != nil {
		t.Fatal(err)
	}
	m.Skip(10)
	check(t, s, m)
	if seq := mustStore(t, s, "a", "2"); seq != 112 {
		t.Fatalf("seq %d after skips", seq)
	}
}

func testStoreRawGap(t *testing.T, open Opener) {
	s := open(t, cfgNamed(t))
	m := NewModel(1)
	ts := time.Now().UnixNano()
	for _, seq := range []uint64{5, 6, 10} {
		if err := s.StoreRaw("a", nil, []byte("r"), seq, ts, 0); err != nil {
			t.Fatal(err)
		}
		m.Store(&store.Msg{Subject: "a", Data: []byte("r"), Seq: seq, Time: ts})
	}
	check(t, s, m)
	if err := s.StoreRaw("a", nil, nil, 10, ts, 0); !errors.Is(err, store.ErrSequenceMismatch) {
		t.Fatalf("store raw at last: %v", err)
	}
}

func fill(t testing.TB, s store.Store, m *Model, subjs ...string) {
	for _, subj := range subjs {
		seq, ts, err := s.Store(subj, nil, []byte(subj), 0)
		if err != nil {
			t.Fatal(err)
		}
		m.Store(&store.Msg{Subject: subj, Data: []byte(subj), Seq: seq, Time: ts})
	}
}

func testPurge(t *testing.T, open Opener) {
	cases := []store.PurgeOpts{
		{},
		{Subject: ">"},
		{Subject: "a"},
		{Subject: "b.*"},
		{Subject: "b.>", Keep: 2},
		{Keep: 3},
		{Seq: 4},
		{Seq: 1},
		{Subject: "a", Seq: 5},
		{Subject: "x.y.z"},
		{Seq: 100},
	}
	for _, o := range cases {
		s := open(t, cfgNamed(t))
		m := NewModel(1)
		fill(t, s, m, "a", "b.c", "a", "b.d", "b.c.e", "a", "b.c", "x.y.z")
		n, err := s.Purge(o)
		if want := m.Purge(o); err != nil || n != want {
			t.Fatalf("purge %+v: %d %v, want %d", o, n, err, want)
		}
		check(t, s, m)
		fill(t, s, m, "a", "b.c")
		check(t, s, m)
	}
}

func testCompactTruncate(t *testing.T, open Opener) {
	s := open(t, cfgNamed(t))
	m := NewModel(1)
	fill(t, s, m, "a", "b.c", "a", "b.d", "a", "b.c")
	if n, err := s.Compact(3); err != nil || n != m.Compact(3) {
		t.Fatalf("compact: %d %v", n, err)
	}
	check(t, s, m)
	if err := s.Truncate(5); err != nil {
		t.Fatal(err)
	}
	m.Truncate(5)
	check(t, s, m)
	fill(t, s, m, "x.y.z")
	check(t, s, m)
	// Compact beyond the end moves both ends.
	if n, err := s.Compact(20); err != nil || n != m.Compact(20) {
		t.Fatalf("compact beyond: %d %v", n, err)
	}
	check(t, s, m)
	if seq := mustStore(t, s, "a", "z"); seq != 20 {
		t.Fatalf("seq after compact beyond: %d", seq)
	}
	m.Store(&store.Msg{Subject: "a", Data: []byte("z"), Seq: 20})
	if err := s.Truncate(0); err != nil {
		t.Fatal(err)
	}
	m.Truncate(0)
	check(t, s, m)
	if _, err := s.Compact(0); err == nil {
		t.Fatal("compact 0 accepted")
	}
}

type removal struct {
	seq    uint64
	subj   string
	reason store.RemoveReason
}

type recorder struct {
	mu  sync.Mutex
	got []removal
}

func (r *recorder) cb(seq uint64, subj string, _ uint64, reason store.RemoveReason) {
	r.mu.Lock()
	r.got = append(r.got, removal{seq, subj, reason})
	r.mu.Unlock()
}

func (r *recorder) list() []removal {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]removal(nil), r.got...)
}

func testMaxMsgs(t *testing.T, open Opener) {
	cfg := cfgNamed(t)
	cfg.MaxMsgs = 3
	s := open(t, cfg)
	var rec recorder
	s.RegisterRemoveCallback(rec.cb)
	for i := range 5 {
		mustStore(t, s, "a", fmt.Sprint(i))
	}
	if st := s.State(); st.Msgs != 3 || st.FirstSeq != 3 || st.LastSeq != 5 {
		t.Fatalf("discard old: %+v", st)
	}
	if got := rec.list(); len(got) != 2 || got[0] != (removal{1, "a", store.RemoveLimit}) {
		t.Fatalf("callbacks %+v", got)
	}
	cfg.Discard = store.DiscardNew
	s2 := open(t, cfg)
	for i := range 3 {
		mustStore(t, s2, "a", fmt.Sprint(i))
	}
	if _, _, err := s2.Store("a", nil, nil, 0); !errors.Is(err, store.ErrMaxMsgs) {
		t.Fatalf("discard new: %v", err)
	}
	if st := s2.State(); st.Msgs != 3 || st.LastSeq != 3 {
		t.Fatalf("refused store changed state: %+v", st)
	}
}

func testMaxBytes(t *testing.T, open Opener) {
	cfg := cfgNamed(t)
	one := store.Size("a", nil, []byte("0123456789"))
	cfg.MaxBytes = int64(3 * one)
	s := open(t, cfg)
	for range 5 {
		mustStore(t, s, "a", "0123456789")
	}
	if st := s.State(); st.Msgs != 3 || st.Bytes != 3*one || st.FirstSeq != 3 {
		t.Fatalf("discard old bytes: %+v", st)
	}
	if _, _, err := s.Store("a", nil, make([]byte, 4*one), 0); !errors.Is(err, store.ErrMaxBytes) {
		t.Fatalf("message above max bytes: %v", err)
	}
	cfg.Discard = store.DiscardNew
	s2 := open(t, cfg)
	for range 3 {
		mustStore(t, s2, "a", "0123456789")
	}
	if _, _, err := s2.Store("a", nil, []byte("0"), 0); !errors.Is(err, store.ErrMaxBytes) {
		t.Fatalf("discard new bytes: %v", err)
	}
}

func testMaxMsgsPer(t *testing.T, open Opener) {
	cfg := cfgNamed(t)
	cfg.MaxMsgsPer = 2
	s := open(t, cfg)
	var rec recorder
	s.RegisterRemoveCallback(rec.cb)
	for _, subj := range []string{"a", "b", "a", "a", "b", "a"} {
		mustStore(t, s, subj, subj)
	}
	got := s.SubjectsState(">")
	want := map[string]store.SimpleState{"a": {Msgs: 2, First: 4, Last: 6}, "b": {Msgs: 2, First: 2, Last: 5}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("per subject: %v", got)
	}
	if r := rec.list(); len(r) != 2 || r[0].reason != store.RemoveLimitPerSubject {
		t.Fatalf("callbacks: %+v", r)
	}
	// Discard new without per-subject still drops the oldest of the subject.
	cfg.Discard = store.DiscardNew
	s2 := open(t, cfg)
	for range 3 {
		mustStore(t, s2, "a", "x")
	}
	if st := s2.State(); st.Msgs != 2 || st.FirstSeq != 2 {
		t.Fatalf("discard new, per subject old: %+v", st)
	}
	cfg.DiscardNewPer = true
	s3 := open(t, cfg)
	mustStore(t, s3, "a", "x")
	mustStore(t, s3, "a", "x")
	if _, _, err := s3.Store("a", nil, nil, 0); !errors.Is(err, store.ErrMaxMsgsPerSubject) {
		t.Fatalf("discard new per subject: %v", err)
	}
	mustStore(t, s3, "b", "x")
}

// waitFor polls cond for up to d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testMaxAge(t *testing.T, open Opener) {
	cfg := cfgNamed(t)
	cfg.MaxAge = 100 * time.Millisecond
	cfg.AllowMsgTTL = true
	s := open(t, cfg)
	var rec recorder
	s.RegisterRemoveCallback(rec.cb)
	mustStore(t, s, "a", "1")
	if _, _, err := s.Store("keep", nil, nil, store.TTLNever); err != nil {
		t.Fatal(err)
	}
	mustStore(t, s, "a", "3")
	// Callbacks run once the store's lock is released, after the removal
	// is visible: wait for both.
	waitFor(t, 5*time.Second, "max age expiry", func() bool { return s.State().Msgs == 1 && len(rec.list()) >= 2 })
	if m, err := s.LoadLast(">"); err != nil || m.Subject != "keep" {
		t.Fatalf("ttl never message: %v %v", m, err)
	}
	r := rec.list()
	if len(r) != 2 || r[0].reason != store.RemoveMaxAge || r[0].seq != 1 || r[1].seq != 3 {
		t.Fatalf("callbacks %+v", r)
	}
	// New messages expire too, after the timer went idle.
	mustStore(t, s, "a", "4")
	waitFor(t, 5*time.Second, "second expiry", func() bool { return s.State().Msgs == 1 })
}

func testTTL(t *testing.T, open Opener) {
	cfg := cfgNamed(t)
	cfg.AllowMsgTTL = true
	cfg.MaxAge = time.Hour
	s := open(t, cfg)
	var rec recorder
	s.RegisterRemoveCallback(rec.cb)
	mustStore(t, s, "a", "stays")
	seq, _, err := s.Store("b", nil, []byte("goes"), 1)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "ttl expiry", func() bool { return s.State().Msgs == 1 })
	if r := rec.list(); len(r) != 1 || r[0] != (removal{seq, "b", store.RemoveTTL}) {
		t.Fatalf("callbacks %+v", r)
	}
	if _, err := s.Load(1); err != nil {
		t.Fatal(err)
	}
}

func testUpdateConfig(t *testing.T, open Opener) {
	s := open(t, cfgNamed(t))
	for _, subj := range []string{"a", "a", "a", "b", "b"} {
		mustStore(t, s, subj, "x")
	}
	cfg := cfgNamed(t)
	cfg.MaxMsgsPer = 1
	if err := s.UpdateConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if st := s.State(); st.Msgs != 2 {
		t.Fatalf("after per subject limit: %+v", st)
	}
	cfg.MaxMsgsPer = 0
	cfg.MaxMsgs = 1
	if err := s.UpdateConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if st := s.State(); st.Msgs != 1 || st.FirstSeq != 5 {
		t.Fatalf("after max msgs: %+v", st)
	}
	cfg.MaxAge = time.Millisecond
	if err := s.UpdateConfig(cfg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "max age after update", func() bool { return s.State().Msgs == 0 })
	cfg.MaxAge = -1
	if err := s.UpdateConfig(cfg); !errors.Is(err, store.ErrBadConfig) {
		t.Fatalf("negative max age: %v", err)
	}
}

func testBadInput(t *testing.T, open Opener) {
	cfg := cfgNamed(t)
	cfg.MaxMsgSize = 8
	s := open(t, cfg)
	for _, subj := range []string{"", "a.*", "a.>", "a..b", "a b", ".a"} {
		if _, _, err := s.Store(subj, nil, nil, 0); !errors.Is(err, store.ErrBadSubject) {
			t.Errorf("store %q: %v", subj, err)
		}
	}
	if _, _, err := s.Store("a", []byte("hdr"), []byte("123456"), 0); !errors.Is(err, store.ErrMsgTooBig) {
		t.Errorf("too big: %v", err)
	}
	mustStore(t, s, "a", "1")
	if _, err := s.LoadNext("a..b", 0); !errors.Is(err, store.ErrBadFilter) {
		t.Errorf("bad filter: %v", err)
	}
	if _, err := s.LoadLast("a.>.b"); !errors.Is(err, store.ErrBadFilter) {
		t.Errorf("bad filter last: %v", err)
	}
	if _, err := s.Purge(store.PurgeOpts{Seq: 1, Keep: 1}); !errors.Is(err, store.ErrPurgeArgs) {
		t.Errorf("purge seq and keep: %v", err)
	}
	if _, err := s.Purge(store.PurgeOpts{Subject: "a..b"}); !errors.Is(err, store.ErrBadFilter) {
		t.Errorf("purge bad filter: %v", err)
	}
	if ss := s.FilteredState("a..", 0); ss.Msgs != 0 {
		t.Errorf("bad filter state: %+v", ss)
	}
	if st := s.State(); st.Msgs != 1 || st.LastSeq != 1 {
		t.Errorf("bad input changed state: %+v", st)
	}
	if _, err := s.Load(0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("load 0: %v", err)
	}
}

func testClosed(t *testing.T, open Opener) {
	s := open(t, cfgNamed(t))
	mustStore(t, s, "a", "1")
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Store("a", nil, nil, 0); !errors.Is(err, store.ErrStoreClosed) {
		t.Fatalf("store after stop: %v", err)
	}
	if _, err := s.Load(1); !errors.Is(err, store.ErrStoreClosed) {
		t.Fatalf("load after stop: %v", err)
	}
	if err := s.Stop(); !errors.Is(err, store.ErrStoreClosed) {
		t.Fatalf("second stop: %v", err)
	}
}

func testConcurrent(t *testing.T, open Opener) {
	s := open(t, cfgNamed(t))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				if _, _, err := s.Store(Subjects[(w+i)%len(Subjects)], nil, []byte("c"), 0); err != nil {
					t.Error(err)
					return
				}
				if i%10 == 0 {
					if err := s.Sync(); err != nil {
						t.Error(err)
						return
					}
				}
				s.LoadLast(">")
				s.FilteredState("b.>", uint64(i))
			}
		}()
	}
	wg.Wait()
	if st := s.State(); st.Msgs != 800 || st.LastSeq != 800 {
		t.Fatalf("state %+v", st)
	}
}

func testConsumerStore(t *testing.T, open Opener) {
	s := open(t, cfgNamed(t))
	c, err := s.ConsumerStore("C1")
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.State()
	if err != nil || st.Delivered.Stream != 0 {
		t.Fatalf("new state: %+v %v", st, err)
	}
	want := &store.ConsumerState{
		Delivered:   store.SequencePair{Consumer: 5, Stream: 9},
		AckFloor:    store.SequencePair{Consumer: 2, Stream: 3},
		Pending:     map[uint64]*store.Pending{7: {Sequence: 4, Timestamp: 11}},
		Redelivered: map[uint64]uint64{7: 2},
	}
	if err := c.Update(want); err != nil {
		t.Fatal(err)
	}
	want.Pending[7].Sequence = 99 // the store kept its own copy
	got, err := c.State()
	if err != nil || got.Delivered != (store.SequencePair{Consumer: 5, Stream: 9}) || got.Pending[7].Sequence != 4 || got.Redelivered[7] != 2 {
		t.Fatalf("state %+v %v", got, err)
	}
	if err := c.Sync(); err != nil {
		t.Fatal(err)
	}
	if n := s.State().Consumers; n != 1 {
		t.Fatalf("consumers %d", n)
	}
	if err := c.Delete(); err != nil {
		t.Fatal(err)
	}
	if n := s.State().Consumers; n != 0 {
		t.Fatalf("consumers after delete %d", n)
	}
	if _, err := s.ConsumerStore(""); err == nil {
		t.Fatal("empty consumer name accepted")
	}
}
