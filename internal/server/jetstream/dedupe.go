package jetstream

import (
	"time"

	"github.com/sluicehq/sluice/internal/server/store"
)

// dedupeState remembers the Nats-Msg-Id of recent messages (within the
// duplicate window). Owned by the ingest goroutine.
type dedupeState struct {
	ids   map[string]dedupeEntry
	order []dedupeKey // insertion order, for expiry
	last  string      // the last message id stored
}

type dedupeEntry struct {
	seq uint64
	ts  int64
}

type dedupeKey struct {
	id string
	ts int64
}

func (d *dedupeState) init() { d.ids = map[string]dedupeEntry{} }

func (d *dedupeState) expire(window time.Duration) {
	cutoff := time.Now().Add(-window).UnixNano()
	i := 0
	for ; i < len(d.order) && d.order[i].ts < cutoff; i++ {
		if e, ok := d.ids[d.order[i].id]; ok && e.ts == d.order[i].ts {
			delete(d.ids, d.order[i].id)
		}
	}
	if i > 0 {
		d.order = append(d.order[:0], d.order[i:]...)
	}
}

// lookup returns the sequence of an earlier message with id, or 0.
func (d *dedupeState) lookup(id string, window time.Duration) uint64 {
	d.expire(window)
	if e, ok := d.ids[id]; ok {
		return e.seq
	}
	return 0
}

func (d *dedupeState) add(id string, seq uint64, ts int64) {
	d.ids[id] = dedupeEntry{seq, ts}
	d.order = append(d.order, dedupeKey{id, ts})
	d.last = id
}

// headerScanner is a store that lists the headers of its messages without
// loading each one (the file store: a sequential read of its blocks that
// decodes only records that carry headers).
type headerScanner interface {
	ScanHeaders(start uint64, fn func(seq uint64, ts int64, hdr []byte) bool) error
}

// rebuild reloads ids of messages inside the window after a restart,
// reading forward from the window's first message and keeping only the
// ids.
func (d *dedupeState) rebuild(st store.Store, window time.Duration) {
	if window <= 0 {
		return
	}
	start := seqFromTime(st, time.Now().Add(-window))
	if hs, ok := st.(headerScanner); ok {
		err := hs.ScanHeaders(start, func(seq uint64, ts int64, hdr []byte) bool {
			d.note(seq, ts, hdr)
			return true
		})
		if err == nil {
			return
		}
		d.init() // start again the slow way
		d.order, d.last = nil, ""
	}
	last := st.State().LastSeq
	for seq := start; seq <= last; {
		m, err := st.LoadNext(">", seq)
		if err != nil {
			break
		}
		d.note(m.Seq, m.Time, m.Header)
		seq = m.Seq + 1
	}
}

// note is rebuild's step for one message: its id, if any, is remembered
// and it is the last message so far.
func (d *dedupeState) note(seq uint64, ts int64, hdr []byte) {
	if id := getHeader(hdr, hdrMsgID); id != nil {
		d.add(string(id), seq, ts)
	} else {
		d.last = ""
	}
}
