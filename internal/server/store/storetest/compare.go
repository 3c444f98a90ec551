package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"maps"

	"github.com/sluicehq/sluice/internal/server/store"
)

// Filters the comparisons ask about; the random ops use these subjects.
var (
	Subjects = []string{"a", "b.c", "b.d", "b.c.e", "x.y.z", "x.q.z"}
	Filters  = []string{"", ">", "a", "b.c", "b.*", "b.>", "*.y.z", "x.*.z", "x.>", "nope", "*"}
)

// Compare checks every query of s against the model and returns the first
// difference.
func Compare(s store.Store, m *Model) error {
	st := s.StateWithDeleted()
	seqs := m.Seqs()
	if st.Msgs != uint64(len(seqs)) || st.FirstSeq != m.First || st.LastSeq != m.Last {
		return fmt.Errorf("state msgs/first/last %d/%d/%d, want %d/%d/%d", st.Msgs, st.FirstSeq, st.LastSeq, len(seqs), m.First, m.Last)
	}
	if st.Bytes != m.Bytes() {
		return fmt.Errorf("state bytes %d, want %d", st.Bytes, m.Bytes())
	}
	var del []uint64
	if len(seqs) > 0 {
		for q := m.First; q <= m.Last; q++ {
			if _, ok := m.Msgs[q]; !ok {
				del = append(del, q)
			}
		}
	}
	if st.NumDeleted != len(del) || len(st.Deleted) != len(del) {
		return fmt.Errorf("deleted %d %v, want %v", st.NumDeleted, st.Deleted, del)
	}
	for i := range del {
		if st.Deleted[i] != del[i] {
			return fmt.Errorf("deleted %v, want %v", st.Deleted, del)
		}
	}
	if got, want := st.NumSubjects, len(m.Subjects(">")); got != want {
		return fmt.Errorf("num subjects %d, want %d", got, want)
	}
	lo := m.First
	if lo > 2 {
		lo -= 2
	}
	for q := lo; q <= m.Last+2; q++ {
		got, err := s.Load(q)
		want := m.Msgs[q]
		switch {
		case want != nil:
			if err != nil {
				return fmt.Errorf("load %d: %v", q, err)
			}
			if err := SameMsg(got, want); err != nil {
				return fmt.Errorf("load %d: %v", q, err)
			}
		case q >= m.First && q <= m.Last:
			if !errors.Is(err, store.ErrDeleted) {
				return fmt.Errorf("load deleted %d: %v, want ErrDeleted", q, err)
			}
		default:
			if !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("load %d outside %d..%d: %v, want ErrNotFound", q, m.First, m.Last, err)
			}
		}
	}
	starts := []uint64{0, m.First, (m.First + m.Last) / 2, m.Last, m.Last + 1}
	for _, f := range Filters {
		matching := m.Matching(f)
		for _, start := range starts {
			var want *store.Msg
			for _, q := range matching {
				if q >= start {
					want = m.Msgs[q]
					break
				}
			}
			if err := checkFound(s.LoadNext(f, start))(want); err != nil {
				return fmt.Errorf("load next %q from %d: %v", f, start, err)
			}
			want = nil
			for i := len(matching) - 1; i >= 0; i-- {
				if matching[i] <= start {
					want = m.Msgs[matching[i]]
					break
				}
			}
			if err := checkFound(s.LoadPrevious(f, start))(want); err != nil {
				return fmt.Errorf("load previous %q from %d: %v", f, start, err)
			}
			if got, want := s.FilteredState(f, start), m.Filtered(f, start); got != want {
				return fmt.Errorf("filtered state %q from %d: %+v, want %+v", f, start, got, want)
			}
			total, valid := s.NumPending(start, f, false)
			if total != m.Filtered(f, start).Msgs || valid != m.Last {
				return fmt.Errorf("num pending %q from %d: %d/%d, want %d/%d", f, start, total, valid, m.Filtered(f, start).Msgs, m.Last)
			}
			lps, _ := s.NumPending(start, f, true)
			var wantLPS uint64
			for _, ss := range m.Subjects(f) {
				if ss.Last >= start {
					wantLPS++
				}
			}
			if lps != wantLPS {
				return fmt.Errorf("num pending last per subject %q from %d: %d, want %d", f, start, lps, wantLPS)
			}
		}
		var want *store.Msg
		if len(matching) > 0 {
			want = m.Msgs[matching[len(matching)-1]]
		}
		if err := checkFound(s.LoadLast(f))(want); err != nil {
			return fmt.Errorf("load last %q: %v", f, err)
		}
		if got, want := s.SubjectsState(f), m.Subjects(f); !maps.Equal(got, want) {
			return fmt.Errorf("subjects state %q: %v, want %v", f, got, want)
		}
		tot := s.SubjectsTotals(f)
		for k, v := range m.Subjects(f) {
			if tot[k] != v.Msgs {
				return fmt.Errorf("subjects totals %q: %v", f, tot)
			}
		}
	}
	return nil
}

func checkFound(got *store.Msg, err error) func(want *store.Msg) error {
	return func(want *store.Msg) error {
		if want == nil {
			if !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("got %v %v, want ErrNotFound", got, err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("got %v, want seq %d", err, want.Seq)
		}
		return SameMsg(got, want)
	}
}

// SameMsg compares two messages (time too when want has one).
func SameMsg(got, want *store.Msg) error {
	if got.Seq != want.Seq || got.Subject != want.Subject || !bytes.Equal(got.Header, want.Header) || !bytes.Equal(got.Data, want.Data) {
		return fmt.Errorf("got seq %d %q hdr %q data %q, want seq %d %q hdr %q data %q",
			got.Seq, got.Subject, got.Header, got.Data, want.Seq, want.Subject, want.Header, want.Data)
	}
	if want.Time != 0 && got.Time != want.Time {
		return fmt.Errorf("seq %d: time %d, want %d", got.Seq, got.Time, want.Time)
	}
	return nil
}
