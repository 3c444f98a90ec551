package jetstream

import (
	"fmt"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/pkg/api"
)

// Atomic batch defaults, as nats-server's (jetstream { limits { batch {} } }
// overrides them).
const (
	defaultBatchSize     = 1000
	defaultBatchInflight = 50
	defaultBatchTimeout  = 10 * time.Second
	maxBatchIDLen        = 64
)

// atomicBatch collects the messages of one Nats-Batch-Id until its
// commit. Owned by the stream's ingest goroutine.
type atomicBatch struct {
	msgs     []inMsg
	lastSeq  uint64
	deadline time.Time
}

func (s *stream) batchLimits() (size, inflight int, timeout time.Duration) {
	l := s.js.cfg.Limits
	size, inflight, timeout = defaultBatchSize, defaultBatchInflight, defaultBatchTimeout
	if l.MaxBatchSize > 0 {
		size = l.MaxBatchSize
	}
	if l.MaxBatchInflightPerStream > 0 {
		inflight = l.MaxBatchInflightPerStream
	}
	if l.MaxBatchTimeout > 0 {
		timeout = l.MaxBatchTimeout
	}
	return
}

// batchMsg handles a message of an atomic batch: staged until the commit,
// then all stored or none.
func (s *stream) batchMsg(m *inMsg, out []outMsg, canRespond bool) ([]outMsg, bool) {
	fail := func(e *api.ApiError) ([]outMsg, bool) {
		m.trace.Result(e, false)
		if canRespond {
			out = append(out, outMsg{subj: m.reply, msg: errorAck(s.name, e)})
		}
		return out, false
	}
	cfg := s.config()
	if cfg.Sealed {
		return fail(api.JSStreamSealedErr)
	}
	if max := int(cfg.MaxMsgSize); max >= 0 && (len(m.hdr) > max || len(m.msg) > max-len(m.hdr)) {
		return fail(api.JSStreamMessageExceedsMaximumErr)
	}
	if !cfg.AllowAtomicPublish {
		return fail(api.JSAtomicPublishDisabledErr)
	}
	id := string(getHeader(m.hdr, hdrBatchID))
	if len(id) > maxBatchIDLen {
		return fail(api.JSAtomicPublishInvalidBatchIDErr)
	}
	bseq, ok := headerUint(m.hdr, hdrBatchSeq)
	if !ok {
		return fail(api.JSAtomicPublishMissingSeqErr)
	}
	commit, eob := false, false
	if c := getHeader(m.hdr, hdrBatchCommit); c != nil {
		commit = true
		switch string(c) {
		case "1":
		case "eob":
			eob = true
		default:
			s.dropBatch(id)
			return fail(api.JSAtomicPublishInvalidBatchCommitErr)
		}
	}
	maxSize, maxInflight, timeout := s.batchLimits()
	size := bseq
	if eob {
		size--
	}
	now := time.Now()
	s.expireBatches(now)
	b := s.batches[id]
	if b == nil {
		if size > uint64(maxSize) {
			return fail(api.JSAtomicPublishTooLargeBatchErrF.With("size", maxSize))
		}
		if bseq != 1 {
			return fail(api.JSAtomicPublishIncompleteBatchErr)
		}
		if len(s.batches)+1 > maxInflight {
			return fail(api.JSAtomicPublishTooManyInflight)
		}
		b = &atomicBatch{}
		if s.batches == nil {
			s.batches = map[string]*atomicBatch{}
		}
		s.batches[id] = b
	}
	b.deadline = now.Add(timeout)
	if v := getHeader(m.hdr, hdrRequiredLevel); v != nil && !levelOK(v) {
		s.dropBatch(id)
		return fail(api.JSRequiredApiLevelErr)
	}
	b.lastSeq++
	if b.lastSeq != bseq || (bseq == 1 && eob) {
		s.dropBatch(id)
		return fail(api.JSAtomicPublishIncompleteBatchErr)
	}
	if size > uint64(maxSize) {
		s.dropBatch(id)
		return fail(api.JSAtomicPublishTooLargeBatchErrF.With("size", maxSize))
	}
	if !eob {
		// The batch is stored under the commit's trace, as nats-server
		// does: a staged message's own trace (trace-only or not) is never
		// sent and does not keep it from being stored.
		b.msgs = append(b.msgs, *m)
		b.msgs[len(b.msgs)-1].trace = nil
	}
	if !commit {
		m.trace.Staged()
		if canRespond {
			out = append(out, outMsg{subj: m.reply}) // empty reply: staged
		}
		return out, false
	}
	s.dropBatch(id)
	return s.commitBatch(id, b.msgs, m, canRespond, out)
}

// commitBatch stores every message of a batch, or, when one is refused,
// none: the store is truncated back to where it was.
// A traced commit traces the whole batch: trace-only, it is checked and
// nothing is stored nor acknowledged.
func (s *stream) commitBatch(id string, msgs []inMsg, cm *inMsg, canRespond bool, out []outMsg) ([]outMsg, bool) {
	reply, tr := cm.reply, cm.trace
	failed := func(e *api.ApiError) ([]outMsg, bool) {
		tr.Result(e, false)
		return s.batchFail(reply, canRespond, out, e)
	}
	before := s.st.State().LastSeq
	lastID := s.dedupe.last
	var added []string
	var reps []outMsg
	var last uint64
	for i := range msgs {
		bm := msgs[i]
		if hasHeader(bm.hdr, hdrExpLastMsgID) {
			s.rollbackBatch(before, added, lastID)
			return failed(api.JSAtomicPublishUnsupportedHeaderBatchErr.With("header", hdrExpLastMsgID))
		}
		if hasHeader(bm.hdr, hdrRollup) {
			s.rollbackBatch(before, added, lastID)
			return failed(api.JSAtomicPublishUnsupportedHeaderBatchErr.With("header", hdrRollup))
		}
		bm.trace = tr
		r, e := s.storeOne(&bm, true)
		if e != nil {
			s.rollbackBatch(before, added, lastID)
			return failed(e)
		}
		if v := getHeader(bm.hdr, hdrMsgID); v != nil {
			added = append(added, string(v))
		}
		if r.republish != nil {
			reps = append(reps, *r.republish)
		}
		last = r.seq
	}
	if tr.Only() {
		return out, false // checked, nothing stored
	}
	if canRespond {
		ack := fmt.Appendf(nil, `{"stream":%q,%s"seq":%d,"batch":%s,"count":%d}`, s.name, s.domainField(), last, strconv.Quote(id), len(msgs))
		out = append(out, outMsg{subj: reply, msg: ack, stored: true})
	}
	return append(out, reps...), true
}

func (s *stream) batchFail(reply string, canRespond bool, out []outMsg, e *api.ApiError) ([]outMsg, bool) {
	if canRespond {
		out = append(out, outMsg{subj: reply, msg: errorAck(s.name, e)})
	}
	return out, true // the store may have changed and been put back
}

// rollbackBatch removes what a failed batch stored.
func (s *stream) rollbackBatch(before uint64, ids []string, lastID string) {
	if s.st.State().LastSeq > before {
		if err := s.st.Truncate(before); err != nil {
			s.js.log.Errorf("JetStream stream '%s > %s': rolling back a batch: %v", s.acc.name, s.name, err)
		}
	}
	for _, id := range ids {
		delete(s.dedupe.ids, id)
	}
	s.dedupe.last = lastID
}

func (s *stream) dropBatch(id string) { delete(s.batches, id) }

// expireBatches abandons batches whose next message did not come in time.
func (s *stream) expireBatches(now time.Time) {
	for id, b := range s.batches {
		if now.After(b.deadline) {
			delete(s.batches, id)
		}
	}
}
