package storetest

import (
	"slices"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/subject"
)

// Model is the obvious, slow store the real ones are compared with. It
// knows only what the conformance suite's random ops do (no limits, no
// expiry).
type Model struct {
	Msgs        map[uint64]*store.Msg
	First, Last uint64
}

// NewModel returns an empty model starting at sequence first.
func NewModel(first uint64) *Model {
	first = max(first, 1)
	return &Model{Msgs: make(map[uint64]*store.Msg), First: first, Last: first - 1}
}

func (m *Model) fix() {
	if len(m.Msgs) == 0 {
		m.First = m.Last + 1
		return
	}
	// First is at or below the lowest live sequence (Store lowers it):
	// removals only move it up, to the next live one.
	for m.Msgs[m.First] == nil {
		m.First++
	}
}

// Store adds a message at seq.
func (m *Model) Store(msg *store.Msg) {
	m.Msgs[msg.Seq] = msg
	m.Last = max(m.Last, msg.Seq)
	if len(m.Msgs) == 1 || msg.Seq < m.First {
		m.First = msg.Seq
	}
	m.fix()
}

// Skip consumes n sequences.
func (m *Model) Skip(n uint64) { m.Last += n; m.fix() }

// Remove deletes seq.
func (m *Model) Remove(seq uint64) bool {
	_, ok := m.Msgs[seq]
	delete(m.Msgs, seq)
	m.fix()
	return ok
}

// Seqs is every live sequence in order.
func (m *Model) Seqs() []uint64 {
	out := make([]uint64, 0, len(m.Msgs))
	for s := range m.Msgs {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// Matching is the live sequences matching filter, in order.
func (m *Model) Matching(filter string) []uint64 {
	var out []uint64
	for _, s := range m.Seqs() {
		if match(m.Msgs[s].Subject, filter) {
			out = append(out, s)
		}
	}
	return out
}

func match(subj, filter string) bool {
	return filter == "" || filter == ">" || subject.Matches(subj, filter)
}

// Compact removes everything below seq.
func (m *Model) Compact(seq uint64) uint64 {
	n := uint64(0)
	for s := range m.Msgs {
		if s < seq {
			delete(m.Msgs, s)
			n++
		}
	}
	if seq > m.Last+1 {
		m.Last = seq - 1
	}
	m.fix()
	return n
}

// Truncate removes everything above seq.
func (m *Model) Truncate(seq uint64) {
	if seq >= m.Last {
		return
	}
	for s := range m.Msgs {
		if s > seq {
			delete(m.Msgs, s)
		}
	}
	m.Last = seq
	m.fix()
}

// Purge follows store.PurgeOpts.
func (m *Model) Purge(o store.PurgeOpts) uint64 {
	if o.Subject == "" || o.Subject == ">" {
		switch {
		case o.Keep == 0 && o.Seq == 0:
			return m.Compact(m.Last + 1)
		case o.Seq > 0:
			if o.Seq == 1 {
				return 0
			}
			return m.Compact(o.Seq)
		}
	}
	seqs := m.Matching(o.Subject)
	if o.Seq > 0 {
		i := 0
		for i < len(seqs) && seqs[i] < o.Seq {
			i++
		}
		seqs = seqs[:i]
	}
	if o.Keep > 0 {
		if o.Keep >= uint64(len(seqs)) {
			return 0
		}
		seqs = seqs[:uint64(len(seqs))-o.Keep]
	}
	for _, s := range seqs {
		delete(m.Msgs, s)
	}
	m.fix()
	return uint64(len(seqs))
}

// Filtered is FilteredState the slow way.
func (m *Model) Filtered(filter string, start uint64) store.SimpleState {
	var ss store.SimpleState
	for _, s := range m.Matching(filter) {
		if s < start {
			continue
		}
		ss.Msgs++
		if ss.First == 0 {
			ss.First = s
		}
		ss.Last = s
	}
	return ss
}

// Subjects is SubjectsState the slow way.
func (m *Model) Subjects(filter string) map[string]store.SimpleState {
	out := make(map[string]store.SimpleState)
	for _, s := range m.Matching(filter) {
		subj := m.Msgs[s].Subject
		ss := out[subj]
		ss.Msgs++
		if ss.First == 0 {
			ss.First = s
		}
		ss.Last = s
		out[subj] = ss
	}
	return out
}

// Bytes is what the live messages count for.
func (m *Model) Bytes() uint64 {
	var n uint64
	for _, msg := range m.Msgs {
		n += store.Size(msg.Subject, msg.Header, msg.Data)
	}
	return n
}
