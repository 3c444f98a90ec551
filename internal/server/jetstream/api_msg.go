package jetstream

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/pkg/api"
)

// Direct get limits, as nats-server's.
const (
	maxDirectResults = 1024
	defaultMaxBytes  = 64 << 20 // when the request sets no max_bytes
)

func handleMsgGet(js *JetStream, a *jsAccount, r *apiReq, t []string) any {
	if len(r.msg) == 0 {
		return errResp(api.JSBadRequestErr)
	}
	var req api.JSApiMsgGetRequest
	if e := js.decode(r.msg, &req); e != nil {
		return errResp(e)
	}
	if req.Batch > 0 || req.MaxBytes > 0 ||
		(req.Seq > 0 && req.LastFor != "") ||
		(req.Seq == 0 && req.LastFor == "" && req.NextFor == "" && req.StartTime == nil) ||
		(req.Seq > 0 && req.StartTime != nil) ||
		(req.StartTime != nil && req.LastFor != "") ||
		(req.LastFor != "" && req.NextFor != "") {
		return errResp(api.JSBadRequestErr)
	}
	s := a.lookup(t[3])
	if s == nil {
		return errResp(api.JSStreamNotFoundErr)
	}
	seq := req.Seq
	if req.StartTime != nil {
		seq = seqFromTime(s.st, *req.StartTime)
	}
	var m *store.Msg
	var err error
	switch {
	case seq > 0 && req.NextFor == "":
		m, err = s.st.Load(seq)
	case req.NextFor != "":
		m, err = s.st.LoadNext(req.NextFor, seq)
	default:
		m, err = s.st.LoadLast(req.LastFor)
	}
	if err != nil {
		return errResp(api.JSNoMessageFoundErr)
	}
	sm := &api.StoredMsg{Subject: m.Subject, Sequence: m.Seq, Data: m.Data, Time: time.Unix(0, m.Time).UTC()}
	if !req.NoHeaders {
		sm.Header = m.Header
	}
	return &msgGetResp{api.JSApiMsgGetResponse{Message: sm}}
}

// seqFromTime is the first sequence stored at or after t (last+1 if none).
func seqFromTime(st store.Store, t time.Time) uint64 {
	state := st.State()
	ts := t.UnixNano()
	lo, hi := state.FirstSeq, state.LastSeq+1
	for lo < hi {
		mid := lo + (hi-lo)/2
		m, err := st.LoadNext(">", mid)
		if err != nil {
			hi = mid
			continue
		}
		if m.Time >= ts {
			hi = mid
		} else {
			lo = m.Seq + 1
		}
	}
	return lo
}

func (s *stream) sendStatus(reply, status string) {
	s.js.b.Publish(s.acc.name, reply, "", statusHeader(status), nil)
}

// directGet answers $JS.API.DIRECT.GET.<stream>[.<subject>] inline on
// the internal queue: reads do not wait behind API work.
func (s *stream) directGet(subj, reply string, hdr, msg []byte) {
	if reply == "" {
		return
	}
	if v := getHeader(hdr, hdrRequiredLevel); v != nil && !levelOK(v) {
		s.sendStatus(reply, "412 Required Api Level")
		return
	}
	var req api.JSApiMsgGetRequest
	if key, ok := directKey(subj, s.name); ok {
		if len(msg) > 0 && json.Unmarshal(msg, &req) != nil {
			s.sendStatus(reply, "408 Malformed Request")
			return
		}
		if key == "" || req.LastFor != "" || req.NextFor != "" || len(req.MultiLastFor) > 0 || req.Seq != 0 ||
			req.Batch != 0 || req.StartTime != nil || req.UpToSeq != 0 || req.UpToTime != nil {
			s.sendStatus(reply, "408 Bad Request")
			return
		}
		req.LastFor = key
	} else {
		if len(msg) == 0 {
			s.sendStatus(reply, "408 Empty Request")
			return
		}
		if seq, ok := seqOnlyRequest(msg); ok {
			req.Seq = seq // what clients send most: no reflection for it
		} else if json.Unmarshal(msg, &req) != nil {
			s.sendStatus(reply, "408 Malformed Request")
			return
		}
		if req.Seq == 0 && req.LastFor == "" && req.NextFor == "" && len(req.MultiLastFor) == 0 && req.StartTime == nil {
			s.sendStatus(reply, "408 Empty Request")
			return
		}
		if (req.Seq > 0 && req.LastFor != "") || (req.Seq > 0 && req.StartTime != nil) ||
			(req.StartTime != nil && req.LastFor != "") || (req.LastFor != "" && req.NextFor != "") ||
			(req.LastFor != "" && req.Batch > 0) || (req.LastFor != "" && len(req.MultiLastFor) > 0) ||
			(req.NextFor != "" && len(req.MultiLastFor) > 0) || (req.UpToSeq > 0 && req.UpToTime != nil) {
			s.sendStatus(reply, "408 Bad Request")
			return
		}
	}
	if len(req.MultiLastFor) > 0 {
		s.directMulti(&req, reply)
		return
	}
	s.directSingle(&req, reply)
}

// directHeader is the message's header with the direct get headers
// added, built in one allocation (a get answers on the requester's read
// loop).
func (s *stream) directHeader(m *store.Msg, batch bool, np, lseq uint64) []byte {
	n := len(m.Header) + len(hdrLine) + 2 + len(hdrStream) + len(s.name) + len(hdrSubject) + len(m.Subject) +
		len(hdrSequence) + len(hdrTimeStamp) + 20 + 35 + 4*4 + 2
	if batch {
		n += len(hdrNumPend) + len(hdrLastSeq) + 2*20 + 2*4
	}
	var out []byte
	if len(m.Header) >= len(hdrLine)+2 && bytes.HasSuffix(m.Header, []byte("\r\n\r\n")) {
		out = append(make([]byte, 0, n), m.Header[:len(m.Header)-2]...)
	} else {
		out = append(make([]byte, 0, n), hdrLine...)
	}
	kv := func(k string) { out = append(append(out, k...), ": "...) }
	kv(hdrStream)
	out = append(append(out, s.name...), "\r\n"...)
	kv(hdrSubject)
	out = append(append(out, m.Subject...), "\r\n"...)
	kv(hdrSequence)
	out = append(strconv.AppendUint(out, m.Seq, 10), "\r\n"...)
	kv(hdrTimeStamp)
	out = append(time.Unix(0, m.Time).UTC().AppendFormat(out, time.RFC3339Nano), "\r\n"...)
	if batch {
		kv(hdrNumPend)
		out = append(strconv.AppendUint(out, np, 10), "\r\n"...)
		kv(hdrLastSeq)
		out = append(strconv.AppendUint(out, lseq, 10), "\r\n"...)
	}
	return append(out, "\r\n"...)
}

// directKey returns the subject of a $JS.API.DIRECT.GET.<stream>.<subject>
// request (ok false: the subject is the stream's own API subject).
func directKey(subj, stream string) (string, bool) {
	rest, ok := strings.CutPrefix(subj, "$JS.API.DIRECT.GET.")
	if !ok {
		return "", false
	}
	rest, ok = strings.CutPrefix(rest, stream)
	if !ok || len(rest) == 0 || rest[0] != '.' {
		return "", false
	}
	return rest[1:], true
}

// seqOnlyRequest reads the request clients send to get one message by
// sequence, exactly {"seq":N} (N > 0); anything else goes through the
// JSON decoder.
func seqOnlyRequest(b []byte) (uint64, bool) {
	const pre = `{"seq":`
	if len(b) < len(pre)+2 || string(b[:len(pre)]) != pre || b[len(b)-1] != '}' {
		return 0, false
	}
	d := b[len(pre) : len(b)-1]
	if len(d) == 0 || len(d) > 19 || d[0] == '0' {
		return 0, false
	}
	var n uint64
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

func (s *stream) directSingle(req *api.JSApiMsgGetRequest, reply string) {
	seq := req.Seq
	if req.StartTime != nil {
		seq = seqFromTime(s.st, *req.StartTime)
	}
	batch, isBatch := req.Batch, req.Batch > 0
	if batch == 0 {
		batch = 1
	}
	var np uint64
	if isBatch {
		np, _ = s.st.NumPending(seq, req.NextFor, false)
	}
	mb := req.MaxBytes
	if mb <= 0 {
		mb = defaultMaxBytes
	}
	var lseq uint64
	sent := 0
	for i := 0; i < batch; i++ {
		var m *store.Msg
		var err error
		switch {
		case seq > 0 && req.NextFor == "":
			if i == 0 && !isBatch {
				m, err = s.st.Load(seq)
			} else {
				m, err = s.st.LoadNext(">", seq)
			}
		case req.NextFor != "":
			m, err = s.st.LoadNext(req.NextFor, seq)
		default:
			m, err = s.st.LoadLast(req.LastFor)
		}
		if err != nil {
			if i > 0 {
				break
			}
			s.sendStatus(reply, "404 Message Not Found")
			return
		}
		seq = m.Seq + 1
		var hdr []byte
		if !req.NoHeaders {
			if isBatch && np > 0 {
				np--
			}
			hdr = s.directHeader(m, isBatch, np, lseq)
		}
		lseq = m.Seq
		s.js.b.Publish(s.acc.name, reply, "", hdr, m.Data)
		sent += len(m.Subject) + len(m.Header) + len(m.Data)
		if sent >= mb {
			break
		}
	}
	if isBatch {
		np, _ = s.st.NumPending(seq, req.NextFor, false)
		s.js.b.Publish(s.acc.name, reply, "", statusHeader("204 EOB", hdrNumPend, strconv.FormatUint(np, 10),
			hdrLastSeq, strconv.FormatUint(lseq, 10)), nil)
	}
}

// directMulti answers multi_last: the last message of each subject
// matching the filters, up to a sequence or time, in sequence order.
func (s *stream) directMulti(req *api.JSApiMsgGetRequest, reply string) {
	upTo := req.UpToSeq
	if req.UpToTime != nil {
		upTo = seqFromTime(s.st, *req.UpToTime)
		if upTo <= s.st.State().FirstSeq {
			s.sendStatus(reply, "404 No Results")
			return
		}
		upTo--
	}
	if upTo == 0 {
		upTo = s.st.State().LastSeq
	}
	seen := map[uint64]bool{}
	var seqs []uint64
	for _, f := range req.MultiLastFor {
		for subj, ss := range s.st.SubjectsState(f) {
			last := ss.Last
			if last > upTo {
				m, err := s.st.LoadPrevious(subj, upTo)
				if err != nil {
					continue
				}
				last = m.Seq
			}
			if last >= req.Seq && !seen[last] {
				seen[last] = true
				seqs = append(seqs, last)
			}
		}
	}
	if len(seqs) > maxDirectResults {
		s.sendStatus(reply, "413 Too Many Results")
		return
	}
	if len(seqs) == 0 {
		s.sendStatus(reply, "404 No Results")
		return
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	mb := req.MaxBytes
	if mb <= 0 {
		mb = defaultMaxBytes
	}
	var lseq uint64
	sent, n := 0, 0
	np := uint64(len(seqs))
	for _, seq := range seqs {
		m, err := s.st.Load(seq)
		if err != nil {
			continue
		}
		np--
		s.js.b.Publish(s.acc.name, reply, "", s.directHeader(m, true, np, lseq), m.Data)
		lseq = m.Seq
		sent += len(m.Subject) + len(m.Header) + len(m.Data)
		n++
		if sent >= mb || (req.Batch > 0 && n >= req.Batch) {
			break
		}
	}
	s.js.b.Publish(s.acc.name, reply, "", []byte(fmt.Sprintf("NATS/1.0 204 EOB\r\n%s: %d\r\n%s: %d\r\n%s: %d\r\n\r\n",
		hdrNumPend, np, hdrLastSeq, lseq, hdrUpToSeq, upTo)), nil)
}
