package jetstream

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/api"
)

// Fast batch publish (allow_batched, API level 4 in nats-server): the
// publisher encodes the batch in the reply subject,
//
//	<inbox prefix>.<batch id>.<flow>.<gap mode>.<batch seq>.<op>.$FI
//
// and the stream stores every message as it comes, answering only with
// flow acks every <flow> messages ({"type":"ack"}), gap reports
// ({"type":"gap"}), per-message errors ({"type":"err"}) and one PubAck
// with "batch" and "count" at the commit. Unlike atomic batches nothing
// is staged: a commit ends the batch, it does not make it visible.
//
// Messages are stored synchronously by the ingest goroutine, so a batch
// never has messages in flight between check and store: what nats-server
// tracks as pending is always zero here, and the flow ack for a message
// goes out after the group-commit Sync that covers it.

// Operations, the last token before $FI.
const (
	fastOpStart = iota
	fastOpAppend
	fastOpCommit
	fastOpCommitEOB
	fastOpPing
)

const (
	fastSuffix                   = ".$FI"
	defaultFastInflightPerStream = 1000
	defaultFastInflightTotal     = 50_000
	fastMaxFlow                  = 500 // flow acks at most every 500 messages
)

// fastReq is what a fast batch reply subject says.
type fastReq struct {
	id        string
	seq       uint64
	flow      uint16
	gapOK     bool
	ping      bool
	commit    bool
	commitEOB bool
}

// parseFastReply decodes a fast batch reply subject. isFast reports the
// $FI suffix; req is nil when the pattern is wrong.
func parseFastReply(reply string) (req *fastReq, isFast bool) {
	if len(reply) <= len(fastSuffix) || !strings.HasSuffix(reply, fastSuffix) {
		return nil, false
	}
	toks := strings.Split(reply[:len(reply)-len(fastSuffix)], ".")
	if len(toks) < 5 {
		return nil, true
	}
	n := len(toks)
	op, err := strconv.Atoi(toks[n-1])
	if err != nil || op < fastOpStart || op > fastOpPing {
		return nil, true
	}
	seq, err := strconv.ParseUint(toks[n-2], 10, 64)
	if err != nil || seq == 0 || seq == math.MaxUint64 {
		return nil, true
	}
	r := &fastReq{seq: seq, ping: op == fastOpPing, commitEOB: op == fastOpCommitEOB}
	r.commit = r.commitEOB || op == fastOpCommit
	switch {
	case seq == 1 && r.commitEOB, op == fastOpStart && seq != 1, op == fastOpAppend && seq <= 1:
		return nil, true
	}
	switch toks[n-3] {
	case "ok":
		r.gapOK = true
	case "fail":
	default:
		return nil, true
	}
	flow, err := strconv.ParseInt(toks[n-4], 10, 64)
	switch {
	case err != nil || flow <= 0:
		flow = 10
	case flow > math.MaxUint16:
		flow = math.MaxUint16
	}
	r.flow = uint16(flow)
	r.id = toks[n-5]
	return r, true
}

// fastBatch is the state of one fast batch. Owned by the ingest goroutine.
type fastBatch struct {
	lseq     uint64 // highest batch sequence accepted
	fseq     uint64 // batch sequence of the last flow ack
	sseq     uint64 // stream sequence of the last stored message
	ackEvery uint16 // flow acks every ackEvery messages
	maxFlow  uint16 // the publisher's ceiling for ackEvery
	gapOK    bool
	deadline time.Time
}

type flowAck struct {
	Type string `json:"type"`
	Seq  uint64 `json:"seq"`
	Msgs uint16 `json:"msgs"`
}

type flowGap struct {
	Type    string `json:"type"`
	LastSeq uint64 `json:"last_seq"`
	Seq     uint64 `json:"seq"`
}

type flowErr struct {
	Type  string        `json:"type"`
	Seq   uint64        `json:"seq"`
	Error *api.ApiError `json:"error"`
}

func marshal(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func (s *stream) fastLimits() (perStream, total int) {
	l := s.js.cfg.Limits
	perStream, total = defaultFastInflightPerStream, defaultFastInflightTotal
	if l.MaxBatchInflightPerStream > 0 {
		perStream = l.MaxBatchInflightPerStream
	}
	if l.MaxBatchInflightTotal > 0 {
		total = l.MaxBatchInflightTotal
	}
	return
}

// fastBatchMsg handles one message (or ping, or end-of-batch) of a fast
// batch, appending what goes back to the publisher to out.
func (s *stream) fastBatchMsg(m *inMsg, req *fastReq, out []outMsg) ([]outMsg, bool) {
	cfg := s.config()
	canRespond := m.reply != "" && !cfg.NoAck
	send := func(b []byte, stored bool) {
		if m.reply != "" {
			out = append(out, outMsg{subj: m.reply, msg: b, stored: stored})
		}
	}
	fail := func(e *api.ApiError) ([]outMsg, bool) {
		if canRespond {
			send(errorAck(s.name, e), false)
		}
		return out, false
	}
	if cfg.Sealed {
		return fail(api.JSStreamSealedErr)
	}
	if s.room == 0 {
		return fail(api.JSAccountResourcesExceededErr)
	}
	if max := int(cfg.MaxMsgSize); max >= 0 && (len(m.hdr) > max || len(m.msg) > max-len(m.hdr)) {
		return fail(api.JSStreamMessageExceedsMaximumErr)
	}
	if !cfg.AllowBatchPublish {
		s.dropFastBatches()
		return fail(api.JSBatchPublishDisabledErr)
	}
	if req == nil {
		return fail(api.JSBatchPublishInvalidPatternErr)
	}
	if len(req.id) > maxBatchIDLen {
		return fail(api.JSBatchPublishInvalidBatchIDErr)
	}
	now := time.Now()
	s.expireFastBatches(now)
	b := s.fast[req.id]
	if b == nil {
		if req.seq != 1 || req.ping {
			return fail(api.JSBatchPublishUnknownBatchIDErr)
		}
		perStream, total := s.fastLimits()
		if len(s.fast)+1 > perStream {
			return fail(api.JSBatchPublishTooManyInflight)
		}
		if s.js.fastInflight.Add(1) > int64(total) {
			s.js.fastInflight.Add(-1)
			return fail(api.JSBatchPublishTooManyInflight)
		}
		if s.fast == nil {
			s.fast = map[string]*fastBatch{}
		}
		b = &fastBatch{gapOK: req.gapOK, maxFlow: req.flow}
		s.fast[req.id] = b
		b.ackEvery = min(fastMaxFlow, b.maxFlow)
		if len(s.fast) > 1 {
			b.ackEvery = 1 // share: ramp up from one
		}
	}
	_, _, timeout := s.batchLimits()
	b.deadline = now.Add(timeout)
	if v := getHeader(m.hdr, hdrRequiredLevel); v != nil {
		if !levelOK(v) {
			s.endFast(req.id)
			return fail(api.JSRequiredApiLevelErr)
		}
		m.hdr = stripHeaders(m.hdr, hdrRequiredLevel)
	}
	// commit ends the batch with the PubAck for everything stored.
	commit := func() {
		s.endFast(req.id)
		send(fmt.Appendf(nil, `{"stream":%q,%s"seq":%d,"batch":%q,"count":%d}`, s.name, s.domainField(), b.sseq, req.id, b.lseq), true)
	}
	if req.ping {
		if req.seq > b.lseq {
			send(marshal(flowGap{Type: "gap", LastSeq: b.lseq + 1, Seq: req.seq + 1}), false)
			if !b.gapOK {
				commit()
				return out, false
			}
			b.lseq = req.seq
			if s.checkFlow(b, send) {
				return out, false
			}
		}
		send(marshal(flowAck{Type: "ack", Seq: b.fseq, Msgs: b.ackEvery}), true)
		return out, false
	}
	b.lseq++
	if b.lseq != req.seq {
		send(marshal(flowGap{Type: "gap", LastSeq: b.lseq, Seq: req.seq}), false)
		if !b.gapOK || req.seq < b.lseq {
			b.lseq--
			commit()
			return out, false
		}
		b.lseq = req.seq
	}
	if req.commitEOB {
		b.lseq--
		commit()
		return out, false
	}
	if req.seq == 1 && canRespond && !req.commit {
		send(marshal(flowAck{Type: "ack", Seq: 0, Msgs: b.ackEvery}), false)
	}
	r, e := s.storeOne(m, false)
	if m.trace.Result(e, r.dup > 0) {
		// Trace-only: checked, not stored, and, as with nats-server,
		// neither flow-acked nor committed.
		return out, false
	}
	if e != nil {
		if !b.gapOK && b.lseq == 1 {
			s.endFast(req.id)
			return fail(e)
		}
		send(marshal(flowErr{Type: "err", Seq: req.seq, Error: e}), false)
		if b.gapOK && !req.commit {
			return out, false
		}
		b.lseq--
		commit()
		return out, false
	}
	if r.dup > 0 {
		if !b.gapOK && b.lseq == 1 && req.commit {
			s.endFast(req.id)
			send(fmt.Appendf(nil, `{"stream":%q,%s"seq":%d,"duplicate": true,"batch":%q,"count":%d}`, s.name, s.domainField(), r.dup, req.id, req.seq), false)
			return out, false
		}
	} else {
		b.sseq = r.seq
		if r.republish != nil {
			out = append(out, *r.republish)
		}
	}
	if req.commit {
		commit()
	} else {
		s.checkFlow(b, send)
	}
	return out, r.dup == 0
}

// checkFlow sends a flow ack once ackEvery more messages are stored,
// adjusting ackEvery to share the stream between its batches. It reports
// whether it sent one.
func (s *stream) checkFlow(b *fastBatch, send func([]byte, bool)) bool {
	every := uint64(b.ackEvery)
	if b.lseq < b.fseq+every {
		return false
	}
	b.fseq += (b.lseq - b.fseq) / every * every
	ceiling := uint16(max(fastMaxFlow/len(s.fast), 1))
	ceiling = min(ceiling, b.maxFlow)
	switch {
	case b.ackEvery < ceiling:
		b.ackEvery = min(b.ackEvery*2, ceiling)
	case b.ackEvery > ceiling:
		b.ackEvery = max(b.ackEvery/2, ceiling)
	}
	send(marshal(flowAck{Type: "ack", Seq: b.fseq, Msgs: b.ackEvery}), true)
	return true
}

func (s *stream) endFast(id string) {
	if _, ok := s.fast[id]; ok {
		delete(s.fast, id)
		s.js.fastInflight.Add(-1)
	}
}

// expireFastBatches abandons batches idle for longer than the batch
// timeout: their next message is an unknown batch.
func (s *stream) expireFastBatches(now time.Time) {
	for id, b := range s.fast {
		if now.After(b.deadline) {
			s.endFast(id)
		}
	}
}

// dropFastBatches forgets every batch (the stream is going away).
func (s *stream) dropFastBatches() {
	for id := range s.fast {
		s.endFast(id)
	}
}
