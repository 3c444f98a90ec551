package jetstream

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/server/msgtrace"
	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/pkg/api"
)

type inMsg struct {
	subj, reply string
	hdr, msg    []byte
	internal    bool // made by the server (delete markers): no checks
	tick        bool // the schedule timer fired
	ttl         int64
	src         *sourceInfo // from a mirror's or source's consumer (source.go)
	sourced     bool        // a source's message, as stored (source.go)
	gen         uint64
	trace       *msgtrace.Hop // a traced message's step (nil-safe)
}

// ingestQueue holds publishes between the subscription callback and the
// stream's ingest goroutine. Like nats-server's, it is bounded
// (max_buffered_msgs and max_buffered_size of the jetstream block, 100,000
// messages and 128 MiB by default). A client's publish that finds it full
// waits for room on the client's read loop, so a publisher faster than the
// disk is slowed by TCP rather than refused; when the stream takes nothing
// for a while (the server package's ingestWaitMax), or from a goroutine
// that cannot wait, the publish is dropped and answered 429. The server's
// internal messages are never refused.
type ingestQueue struct {
	wake             chan struct{}
	maxMsgs, maxSize int
	lastWarn         atomic.Int64 // unix nanoseconds of the last drop warning
	mu               struct {
		sync.Mutex
		q      []inMsg
		size   int           // bytes of subject, reply, header and payload queued
		room   chan struct{} // closed by the next take (made for a waiting publisher)
		closed bool
	}
}

// Ingest queue bounds, as nats-server's defaults.
const (
	defaultMaxBufferedMsgs = 100_000
	defaultMaxBufferedSize = 128 << 20
)

func newIngestQueue(maxMsgs int, maxSize int64) *ingestQueue {
	// 0 is the default; a negative bound is no bound, as in nats-server.
	switch {
	case maxMsgs == 0:
		maxMsgs = defaultMaxBufferedMsgs
	case maxMsgs < 0:
		maxMsgs = math.MaxInt
	}
	switch {
	case maxSize == 0:
		maxSize = defaultMaxBufferedSize
	case maxSize < 0:
		maxSize = math.MaxInt
	}
	return &ingestQueue{wake: make(chan struct{}, 1), maxMsgs: maxMsgs, maxSize: int(maxSize)}
}

func inMsgSize(m *inMsg) int { return len(m.subj) + len(m.reply) + len(m.hdr) + len(m.msg) }

// errQueueFull is a publish refused because the ingest queue is full.
var errQueueFull = errors.New("ingest queue full")

// push queues m; false once closed. A client publish (not internal) that
// would pass the bounds is refused with errQueueFull.
func (q *ingestQueue) push(m inMsg) (bool, error) {
	ok, _, err := q.offer(m, false)
	return ok, err
}

// offer is push for a publisher that may wait: when wait is set, a client
// publish that would pass the bounds is not queued and room is returned
// instead, a channel closed once a take (or close) makes room.
func (q *ingestQueue) offer(m inMsg, wait bool) (ok bool, room <-chan struct{}, err error) {
	m.trace = msgtrace.Claim(m.subj)
	sz := inMsgSize(&m)
	q.mu.Lock()
	if q.mu.closed {
		q.mu.Unlock()
		m.trace.Done()
		return false, nil, nil
	}
	if !m.internal && (len(q.mu.q) >= q.maxMsgs || q.mu.size+sz > q.maxSize) {
		if wait && len(q.mu.q) > 0 { // one that fits no queue is refused at once
			if q.mu.room == nil {
				q.mu.room = make(chan struct{})
			}
			room = q.mu.room
		}
		q.mu.Unlock()
		m.trace.Done()
		if room != nil {
			return false, room, nil
		}
		return false, nil, errQueueFull
	}
	q.mu.q = append(q.mu.q, m)
	q.mu.size += sz
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true, nil, nil
}

// freeRoomLocked wakes the publishers waiting for room.
func (q *ingestQueue) freeRoomLocked() {
	if q.mu.room != nil {
		close(q.mu.room)
		q.mu.room = nil
	}
}

// maxTakeBytes bounds the bytes the ingest loop takes from the queue at
// once: with the queue and the groups waiting for their fsync each
// bounded, a publisher's unacknowledged messages are too (see
// maxPendingBytes). nats.go gives up on async publishes once 4,000 wait
// for their acks for 200 ms, which 1 GiB object puts reached, 128 KiB
// chunks at a time, while an fsync took seconds.
const maxTakeBytes = 32 << 20

// take waits for messages and swaps them out, up to maxTakeBytes of them
// (and at least one); false once closed and empty.
func (q *ingestQueue) take(buf []inMsg) ([]inMsg, bool) {
	for {
		q.mu.Lock()
		if len(q.mu.q) > 0 {
			var out []inMsg
			if q.mu.size <= maxTakeBytes {
				out = q.mu.q
				q.mu.q = buf[:0]
				q.mu.size = 0
			} else {
				k, sz := 0, 0
				for k < len(q.mu.q) && (k == 0 || sz+inMsgSize(&q.mu.q[k]) <= maxTakeBytes) {
					sz += inMsgSize(&q.mu.q[k])
					k++
				}
				out = append(buf[:0], q.mu.q[:k]...)
				rest := copy(q.mu.q, q.mu.q[k:])
				clear(q.mu.q[rest:])
				q.mu.q = q.mu.q[:rest]
				q.mu.size -= sz
			}
			q.freeRoomLocked()
			q.mu.Unlock()
			return out, true
		}
		closed := q.mu.closed
		q.mu.Unlock()
		if closed {
			return nil, false
		}
		<-q.wake
	}
}

// waitMore reports whether messages are queued, waiting up to d for one.
func (q *ingestQueue) waitMore(d time.Duration) bool {
	if q.len() > 0 {
		return true
	}
	if d <= 0 {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-q.wake:
	case <-t.C:
	}
	return q.len() > 0
}

func (q *ingestQueue) close() {
	q.mu.Lock()
	q.mu.closed = true
	q.freeRoomLocked()
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *ingestQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.mu.q)
}

// enqueue is the subscription callback for the stream's subjects. It may
// run on the publisher's read loop (inline subscription), where hdr and
// msg are borrowed unless owned says they are its to keep (an object's
// chunk handed over by the parser): borrowed ones are copied, in one
// allocation. When the queue is full and the caller may wait, the message
// is not taken and the channel to wait on is returned: the caller calls
// again once it is closed (or, its wait over, without may wait).
func (s *stream) enqueue(subj, reply string, hdr, msg []byte, owned, mayWait bool) <-chan struct{} {
	if !owned {
		buf := make([]byte, len(hdr)+len(msg))
		copy(buf, hdr)
		copy(buf[len(hdr):], msg)
		hdr, msg = buf[:len(hdr):len(hdr)], buf[len(hdr):]
	}
	m := inMsg{subj: subj, reply: reply, msg: msg}
	if len(hdr) > 0 {
		m.hdr = hdr
	}
	_, room, err := s.in.offer(m, mayWait)
	if err != nil {
		s.dropped(reply, err)
	}
	return room
}

// dropped answers a publish the ingest queue refused, as nats-server
// does: a 429 status with a too-many-requests pub ack, and a warning at
// most once a second.
func (s *stream) dropped(reply string, err error) {
	now := time.Now().UnixNano()
	if last := s.in.lastWarn.Load(); now-last > int64(time.Second) && s.in.lastWarn.CompareAndSwap(last, now) {
		s.js.log.Warnf("Dropping messages due to excessive stream ingest rate on '%s' > '%s': %v", s.acc.name, s.name, err)
	}
	if reply != "" {
		s.js.b.Publish(s.acc.name, reply, "", []byte("NATS/1.0 429 Too Many Requests\r\n\r\n"), errorAck(s.name, api.JSStreamTooManyRequests))
	}
}

type outMsg struct {
	subj, reply string
	hdr, msg    []byte
	stored      bool // an ack of a stored message (invalid if Sync fails)
}

// Group commit of bursts: a group whose size was followed by at least
// burstMin publishes last time waits for them up to maxLinger.
const (
	burstMin    = 32
	maxLinger   = 2 * time.Millisecond
	quietLinger = 50 * time.Microsecond
)

// ingestClock is the clock a stream's store stamps messages with: while
// the ingest loop stores a run of messages it holds one reading, taken
// after they were queued and renewed every clockRun messages (a clock
// reading cost 150-250 ns on the 2-core VM, a sixteenth of an async
// publish's server CPU); otherwise it reads the time.
type ingestClock struct{ ts atomic.Int64 }

const clockRun = 64

func (c *ingestClock) now() int64 {
	if t := c.ts.Load(); t != 0 {
		return t
	}
	return time.Now().UnixNano()
}

// ingestLoop stores queued publishes a batch at a time and hands each
// group to the committer (ingest_commit.go): one Sync for all of them
// (group commit), then every ack and republish.
func (s *stream) ingestLoop() {
	defer close(s.done)
	c := newCommitter(s)
	var buf []inMsg
	var out []outMsg
	for {
		batch, ok := s.in.take(buf)
		if !ok {
			s.dropFastBatches()
			c.close()
			return
		}
		stored, durable := false, false
		s.room = s.accountRoom()
		var lingerUntil time.Time
		n, size := 0, 0
		for {
			n += len(batch)
			for i := range batch {
				size += inMsgSize(&batch[i])
				if i%clockRun == 0 {
					s.clock.ts.Store(time.Now().UnixNano())
				}
				var did bool
				out, did = s.process(&batch[i], out)
				stored = stored || did
				// Mirrored and sourced messages need no fsync of their
				// own: a lost tail is fetched again from the origin.
				// Every other message, object chunks included, is
				// acked only once fsynced.
				if did && batch[i].src == nil {
					durable = true
				}
				batch[i].trace.Done()
				batch[i] = inMsg{}
			}
			s.clock.ts.Store(0)
			// While a group is being committed, this one waits for it
			// anyway: it is handed over at once and grows by whatever
			// is stored until the committer takes it.
			//
			// Otherwise: a burst of async publishes often reaches us in
			// two reads (a client flushes its buffer when full, then the
			// rest): when a group of this size was followed by a burst
			// before, the rest joins it (one fsync instead of two),
			// waiting no longer than an fsync takes. A sync publisher
			// never waits. Once the rest is coming, it is taken until it
			// pauses, or until the group is as large as one the
			// committer may hold pending: a publisher that never pauses
			// (an object's chunks, faster than the disk) would otherwise
			// make one group of everything it sends, acked only at its
			// end (nats.go gives up on async publishes waiting 200 ms).
			if size >= maxPendingBytes || len(out) >= maxPendingAcks {
				break
			}
			wait := quietLinger
			syncAvg := time.Duration(c.syncAvg.Load())
			if lingerUntil.IsZero() {
				if !stored || !c.idle() {
					break
				}
				if !c.followedBy(n) {
					break
				}
				lingerUntil = time.Now().Add(min(syncAvg, maxLinger))
				wait = maxLinger
			}
			if !s.in.waitMore(min(wait, time.Until(lingerUntil))) {
				break
			}
			batch, _ = s.in.take(batch)
		}
		out = c.add(ingestGroup{out: out, n: n, size: size, durable: durable, stored: stored, lingered: !lingerUntil.IsZero()}, s.fsyncs())
		buf = batch
	}
}

func errorAck(stream string, e *api.ApiError) []byte {
	b, _ := json.Marshal(api.PubAckResponse{Error: e, PubAck: &api.PubAck{Stream: stream}})
	return b
}

// result is what storing one message did.
type result struct {
	seq, dup  uint64 // dup: the sequence of the original of a duplicate
	val       string // counter value
	republish *outMsg
}

// process checks and stores one message, appending its ack (and
// republish) to out. It reports whether the store changed.
func (s *stream) process(m *inMsg, out []outMsg) ([]outMsg, bool) {
	if m.tick {
		return s.fireSchedules(out)
	}
	if m.src != nil {
		return s.processSourced(m, out)
	}
	s.mu.RLock()
	noAck := s.mu.cfg.NoAck // not s.config(): a copy of the whole config per message
	s.mu.RUnlock()
	canRespond := m.reply != "" && !noAck
	if !m.internal {
		if req, ok := parseFastReply(m.reply); ok {
			return s.fastBatchMsg(m, req, out)
		}
	}
	if !m.internal && hasHeader(m.hdr, hdrBatchID) {
		return s.batchMsg(m, out, canRespond)
	}
	r, e := s.storeOne(m, false)
	if m.trace.Result(e, r.dup > 0) {
		return out, false // trace-only: checked, never acked
	}
	if e != nil {
		if canRespond {
			out = append(out, outMsg{subj: m.reply, msg: errorAck(s.name, e)})
		}
		return out, false
	}
	if r.dup > 0 {
		if canRespond {
			ack := fmt.Appendf(nil, `{"stream":%q,%s"seq":%d,"duplicate": true}`, s.name, s.domainField(), r.dup)
			out = append(out, outMsg{subj: m.reply, msg: ack})
		}
		return out, false
	}
	if canRespond {
		var ack []byte
		if r.val != "" {
			ack = fmt.Appendf(nil, `{"stream":%q,%s"seq":%d,"val":%q}`, s.name, s.domainField(), r.seq, r.val)
		} else {
			ack = s.acks.ack(s, r.seq)
		}
		out = append(out, outMsg{subj: m.reply, msg: ack, stored: true})
	}
	if r.republish != nil {
		out = append(out, *r.republish)
	}
	return out, true
}

// storeOne checks and stores one message. In a batch, a duplicate
// message id is an error.
func (s *stream) storeOne(m *inMsg, inBatch bool) (result, *api.ApiError) {
	s.mu.RLock()
	cfg := &s.mu.cfg
	tr, rp := s.mu.transform, s.mu.republish
	s.mu.RUnlock()
	fail := func(e *api.ApiError) (result, *api.ApiError) { return result{}, e }
	subj, hdr, msg := m.subj, m.hdr, m.msg
	if tr != nil {
		if mapped, ok := tr.Apply(subj); ok {
			subj = mapped
		}
	}
	var ttl int64
	var incr *big.Int
	rollupSub, rollupAll := false, false
	isSchedule := false
	msgID := ""
	if !m.internal {
		if cfg.Sealed {
			return fail(api.JSStreamSealedErr)
		}
		if max := int(cfg.MaxMsgSize); max >= 0 && (len(hdr) > max || len(msg) > max-len(hdr)) {
			return fail(api.JSStreamMessageExceedsMaximumErr)
		}
		if len(hdr) > 0xffff {
			return fail(api.JSStreamHeaderExceedsMaximumErr)
		}
		if len(hdr) > 0 {
			if v := getHeader(hdr, hdrIncr); v != nil {
				n, ok := new(big.Int).SetString(string(v), 10)
				if !ok {
					return fail(api.JSMessageIncrInvalidErr)
				}
				// A source's message is stored as it is, or, in a
				// counter stream, counted (source_counter.go).
				if !m.sourced && !cfg.AllowMsgCounter {
					return fail(api.JSMessageIncrDisabledErr)
				}
				if !m.sourced && len(msg) > 0 {
					return fail(api.JSMessageIncrPayloadErr)
				}
				if !m.sourced && (hasHeader(hdr, hdrRollup) || hasHeader(hdr, hdrExpStream) || hasHeader(hdr, hdrExpLastMsgID) ||
					hasHeader(hdr, hdrExpLastSubjSeqTo) || hasHeader(hdr, hdrExpLastSeq) || hasHeader(hdr, hdrExpLastSubjSeq)) {
					return fail(api.JSMessageIncrInvalidErr)
				}
				if cfg.AllowMsgCounter {
					incr = n
				}
			}
			if !m.sourced && hasHeader(hdr, hdrStreamSource) {
				return fail(api.JSMessageSourceHdrNotAllowedErr)
			}
			if v := getHeader(hdr, hdrExpStream); v != nil && string(v) != s.name {
				return fail(api.JSStreamNotMatchErr)
			}
			if v := getHeader(hdr, hdrTTL); v != nil {
				t, err := parseTTL(string(v))
				if err == nil && t != 0 && !cfg.AllowMsgTTL {
					if !m.sourced {
						return fail(api.JSMessageTTLDisabledErr)
					}
					t = 0 // a source's message is kept, without its TTL
				}
				if err != nil {
					if !cfg.AllowMsgTTL {
						return fail(api.JSMessageTTLDisabledErr)
					}
					return fail(api.JSMessageTTLInvalidErr)
				}
				ttl = t
			}
			if seq, ok := headerUint(hdr, hdrExpLastSubjSeq); ok {
				filter := subj
				if v := getHeader(hdr, hdrExpLastSubjSeqTo); v != nil {
					filter = string(v)
				}
				var last uint64
				if lm, err := s.st.LoadLast(filter); err == nil {
					last = lm.Seq
				}
				if last != seq {
					return fail(api.JSStreamWrongLastSequenceErrF.With("seq", last))
				}
			} else if hasHeader(hdr, hdrExpLastSubjSeqTo) {
				return fail(api.JSStreamExpectedLastSeqPerSubjectInvalid)
			}
			if seq, ok := headerUint(hdr, hdrExpLastSeq); ok {
				if last := s.st.State().LastSeq; last != seq {
					return fail(api.JSStreamWrongLastSequenceErrF.With("seq", last))
				}
			}
			if hasHeader(hdr, hdrSchedule) && !m.sourced { // checked at its origin
				h, e := s.checkSchedule(cfg, subj, hdr)
				if e != nil {
					return fail(e)
				}
				hdr, isSchedule = h, true
			}
			if v := getHeader(hdr, hdrMsgID); v != nil {
				msgID = string(v)
				if seq := s.dedupe.lookup(msgID, cfg.Duplicates); seq > 0 {
					if inBatch {
						return fail(api.JSAtomicPublishContainsDuplicateMessageErr)
					}
					return result{dup: seq}, nil
				}
			}
			if v := getHeader(hdr, hdrExpLastMsgID); v != nil && string(v) != s.dedupe.last {
				return fail(api.JSStreamWrongLastMsgIDErrF.With("id", s.dedupe.last))
			}
			if v := getHeader(hdr, hdrRollup); v != nil {
				if (!cfg.AllowRollup || cfg.DenyPurge) && !m.sourced {
					return fail(api.JSStreamRollupFailedF.With("err", "rollup not permitted"))
				}
				switch string(v) {
				case "sub":
					rollupSub = true
				case "all":
					rollupAll = true
				default:
					return fail(api.JSStreamRollupFailedF.With("err", fmt.Sprintf("rollup value invalid: %q", string(v))))
				}
			}
		}
		if cfg.AllowMsgCounter && incr == nil {
			return fail(api.JSMessageIncrMissingErr)
		}
	} else {
		ttl = m.ttl
	}
	var counterVal string
	if incr != nil {
		var last, lastHdr []byte
		if lm, err := s.st.LoadLast(subj); err == nil {
			last, lastHdr = lm.Data, lm.Header
			if last == nil {
				last = []byte{}
			}
		}
		total, srcs, e := counterBase(last, lastHdr)
		if e != nil {
			return fail(e)
		}
		if m.sourced {
			if incr, srcs, e = sourcedIncrement(getHeader(hdr, hdrStreamSource), subj, msg, srcs); e != nil {
				return fail(e)
			}
		}
		hdr = counterHeaders(hdr, incr, m.sourced, srcs)
		total.Add(total, incr)
		counterVal = total.String()
		msg = fmt.Appendf(nil, `{"val":%q}`, counterVal)
	}
	if m.trace.SkipStore(subj) {
		return result{}, nil // trace-only: checked, not stored
	}
	size := int64(len(subj) + len(hdr) + len(msg) + 16)
	if !m.internal && s.room >= 0 {
		if size > s.room {
			return fail(api.JSAccountResourcesExceededErr)
		}
		s.room -= size
	}
	seq, ts, err := s.st.Store(subj, hdr, msg, ttl)
	if err != nil {
		return fail(storeError(err))
	}
	if msgID != "" {
		s.dedupe.add(msgID, seq, ts)
	}
	s.dedupe.last = msgID // Expected-Last-Msg-Id compares with the last message's id, "" for none
	s.onStored(seq, subj) // consumers hook: see consumers.go
	s.noteStored(seq, hdr)
	if isSchedule {
		s.trackSchedule(seq, hdr, ts)
	}
	if rollupSub {
		s.st.Purge(store.PurgeOpts{Subject: subj, Seq: seq})
	} else if rollupAll {
		s.st.Purge(store.PurgeOpts{Seq: seq})
	}
	r := result{seq: seq, val: counterVal}
	if rp != nil {
		if dest, ok := rp.Apply(subj); ok {
			om := s.republishMsg(dest, subj, hdr, msg, seq, ts)
			r.republish = &om
		}
	}
	return r, nil
}

// appendAck appends the pub ack of a stored message: what every publish
// gets, built without fmt.
func (s *stream) appendAck(b []byte, seq uint64) []byte {
	b = strconv.AppendQuote(append(b, `{"stream":`...), s.name)
	b = append(append(b, ','), s.domainField()...)
	b = strconv.AppendUint(append(b, `"seq":`...), seq, 10)
	return append(b, '}')
}

// ackArena hands out the pub acks of stored messages, carved from shared
// chunks: one allocation per few hundred acks instead of a few per ack.
// An ack is never written again once handed out (the chunk is only ever
// appended to, and a new one is taken when it is full), so acks may
// outlive any group. Owned by the ingest goroutine.
type ackArena struct {
	prefix []byte // {"stream":"NAME",["domain":"D",]"seq":
	chunk  []byte
}

const ackChunk = 16 << 10

func (a *ackArena) ack(s *stream, seq uint64) []byte {
	if a.prefix == nil {
		a.prefix = s.appendAck(nil, 0)
		a.prefix = a.prefix[:len(a.prefix)-2] // without "0}"
	}
	if cap(a.chunk)-len(a.chunk) < len(a.prefix)+21 {
		a.chunk = make([]byte, 0, max(ackChunk, len(a.prefix)+21))
	}
	start := len(a.chunk)
	a.chunk = append(strconv.AppendUint(append(a.chunk, a.prefix...), seq, 10), '}')
	return a.chunk[start:len(a.chunk):len(a.chunk)]
}

func (s *stream) domainField() string {
	if d := s.js.cfg.Domain; d != "" {
		return `"domain":` + strconv.Quote(d) + ","
	}
	return ""
}

func (s *stream) republishMsg(dest, subj string, hdr, msg []byte, seq uint64, ts int64) outMsg {
	var last uint64
	if pm, err := s.st.LoadPrevious(subj, seq-1); err == nil && seq > 1 {
		last = pm.Seq
	}
	kv := []string{hdrStream, s.name, hdrSubject, subj, hdrSequence, strconv.FormatUint(seq, 10),
		hdrTimeStamp, time.Unix(0, ts).UTC().Format(time.RFC3339Nano), hdrLastSeq, strconv.FormatUint(last, 10)}
	cfg := s.config()
	if cfg.RePublish != nil && cfg.RePublish.HeadersOnly {
		kv = append(kv, hdrMsgSize, strconv.Itoa(len(msg)))
		msg = nil
	}
	return outMsg{subj: dest, hdr: appendHeaders(hdr, kv...), msg: msg}
}

// parseTTL reads a Nats-TTL value: "never", a Go duration of at least a
// second, or whole seconds.
func parseTTL(v string) (int64, error) {
	if strings.EqualFold(v, "never") {
		return store.TTLNever, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		if d < time.Second {
			return 0, errors.New("invalid ttl")
		}
		return int64(d.Seconds()), nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, errors.New("invalid ttl")
	}
	return n, nil
}

// storeError maps a store error to the pub ack error nats-server sends.
func storeError(err error) *api.ApiError {
	switch {
	case errors.Is(err, store.ErrMsgTooBig):
		return api.JSStreamMessageExceedsMaximumErr
	}
	return api.JSStreamStoreFailedF.With("err", err)
}

// accountRoom is how many bytes the account may still store in this
// stream's kind of storage (-1: no limit), measured once per ingest batch
// so that unlimited accounts, the common case, pay nothing.
func (s *stream) accountRoom() int64 {
	cfg := s.config()
	l, ok := s.acc.limitsForReplicas(cfg.Replicas)
	if !ok {
		return -1
	}
	limit := l.MaxStore
	if cfg.Storage == api.MemoryStorage {
		limit = l.MaxMemory
	}
	if limit < 0 {
		return -1
	}
	mem, file, _, _ := s.acc.usage()
	used := int64(file)
	if cfg.Storage == api.MemoryStorage {
		used = int64(mem)
	}
	return max(limit-used, 0)
}
