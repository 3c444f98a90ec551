package jetstream

import (
	"bytes"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/server/store"
)

// ttlMarkers remembers which stored messages are themselves subject
// delete markers (a server MaxAge marker or a KV purge marker) in streams
// that write markers, because the store's removal callback no longer has
// the message: when a marker expires (by max age or its own TTL) the
// subject just goes, as in nats-server, instead of getting a new marker.
// The set lives in memory; after a restart an expiring marker may leave
// one more marker behind, which is then tracked. Entries of markers
// removed otherwise (purges) are pruned below the stream's first sequence.
type ttlMarkers struct {
	mu struct {
		sync.Mutex
		seqs    map[uint64]struct{}
		pruneAt int
	}
}

// isDeleteMarker reports what nats-server treats as a subject delete
// marker: its own markers and KV purges.
func isDeleteMarker(hdr []byte) bool {
	if len(hdr) == 0 {
		return false
	}
	if hasHeader(hdr, hdrMarkerReason) {
		return true
	}
	return bytes.Equal(getHeader(hdr, "KV-Operation"), []byte("PURGE"))
}

// noteStored records a stored message when it is a marker in a stream
// that writes markers.
func (s *stream) noteStored(seq uint64, hdr []byte) {
	if len(hdr) == 0 || s.config().SubjectDeleteMarkerTTL <= 0 || !isDeleteMarker(hdr) {
		return
	}
	t := &s.markers
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mu.seqs == nil {
		t.mu.seqs = make(map[uint64]struct{})
	}
	t.mu.seqs[seq] = struct{}{}
	if len(t.mu.seqs) >= max(t.mu.pruneAt, 1024) {
		first := s.st.State().FirstSeq
		for q := range t.mu.seqs {
			if q < first {
				delete(t.mu.seqs, q)
			}
		}
		t.mu.pruneAt = 2 * len(t.mu.seqs)
	}
}

// take reports whether seq was a marker and forgets it.
func (t *ttlMarkers) take(seq uint64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.mu.seqs[seq]
	delete(t.mu.seqs, seq)
	return ok
}

// onStoreRemove writes a subject delete marker when max_age or the
// message's own TTL removed the last message of a subject and the stream
// asks for markers (nats-server does the same for both reasons).
func (s *stream) onStoreRemove(seq uint64, subj string, _ uint64, reason store.RemoveReason) {
	wasMarker := s.markers.take(seq)
	cfg := s.config()
	if cfg.SubjectDeleteMarkerTTL <= 0 || wasMarker {
		return
	}
	if reason != store.RemoveMaxAge && reason != store.RemoveTTL {
		return
	}
	if s.st.FilteredState(subj, 0).Msgs > 0 {
		return
	}
	ttl := cfg.SubjectDeleteMarkerTTL
	hdr := appendHeaders(nil, hdrMarkerReason, "MaxAge", hdrTTL, ttl.String(), hdrRollup, "sub")
	s.in.push(inMsg{subj: subj, hdr: hdr, internal: true, ttl: int64(ttl / time.Second)})
}
