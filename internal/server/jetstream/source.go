package jetstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/subject"
	"github.com/sluicehq/sluice/pkg/api"
)

// A mirror or source is fed by an ephemeral push consumer on the origin
// stream, created through the JetStream API exactly as a client would
// (so it works across accounts through imports and across domains with
// an api prefix). The consumer has no acks, flow control and idle
// heartbeats; messages come in on an internal subscription and go
// through the stream's ingest queue, so they are stored in order with
// client publishes and group-committed like them.
//
// Timings are nats-server's; variables so tests can shorten them.
var (
	sourceHeartbeat  = time.Second      // idle heartbeat of the feeding consumer
	sourceStaleAfter = 10 * time.Second // silence after which the consumer is remade
	sourceRetryMin   = 2 * time.Second  // at most one create per source in this time
	sourceCreateWait = 30 * time.Second // wait for a consumer create answer
)

// Header names of sourcing.
const (
	hdrStreamSource  = "Nats-Stream-Source"
	hdrLastConsumer  = "Nats-Last-Consumer"
	hdrLastStream    = "Nats-Last-Stream"
	hdrConsumerStall = "Nats-Consumer-Stalled"
	hdrStreamIdent   = "Nats-Stream-Identity"
)

// sourceSet is the mirror or the sources of one stream and the goroutine
// that keeps their consumers alive.
type sourceSet struct {
	s      *stream
	list   []*sourceInfo
	direct []Subscription // mirror_direct subscriptions
	kick   chan struct{}
	quit   chan struct{}
	wg     sync.WaitGroup
}

// sourceInfo is one mirror or source.
type sourceInfo struct {
	set    *sourceSet
	mirror bool
	cfg    api.StreamSource
	iname  string
	hdrPre string // "<name> " of the Nats-Stream-Source header
	hdrSuf string // " <filter> <dest> " before the original subject
	trs    []*subject.Transform
	last   atomic.Int64 // unix ns of the last message or heartbeat

	mu struct {
		sync.Mutex
		sseq, dseq uint64 // last origin and delivery sequence taken
		ident      string // origin's identity (hash of its creation time)
		lag        uint64
		err        *api.ApiError
		gen        uint64 // generation of the current consumer
		cname      string
		sub        Subscription
		setup      bool // a create is in flight
		retry      bool // remake the consumer
		fails      int
		lastReq    time.Time
		stopped    bool
	}
}

func newSourceInfo(set *sourceSet, ss *api.StreamSource, mirror bool) *sourceInfo {
	si := &sourceInfo{set: set, mirror: mirror, cfg: *ss, iname: sourceIndexName(ss)}
	parts := strings.SplitN(si.iname, " ", 3)
	si.hdrPre, si.hdrSuf = parts[0]+" ", " "+parts[1]+" "+parts[2]+" "
	for _, tr := range ss.SubjectTransforms {
		var t *subject.Transform
		if tr.Destination != "" {
			t, _ = subject.NewTransform(orAll(tr.Source), tr.Destination) // checked at create
		}
		si.trs = append(si.trs, t)
	}
	return si
}

// startSources starts the stream's mirror or sources, resuming each where
// the store says it stopped.
func (s *stream) startSources() {
	cfg := s.config()
	if cfg.Mirror == nil && len(cfg.Sources) == 0 {
		return
	}
	set := &sourceSet{s: s, kick: make(chan struct{}, 1), quit: make(chan struct{})}
	if cfg.Mirror != nil {
		si := newSourceInfo(set, cfg.Mirror, true)
		si.mu.sseq = s.st.State().LastSeq
		set.list = append(set.list, si)
		if cfg.MirrorDirect {
			set.subscribeMirrorDirect(cfg.Mirror.Name)
		}
	} else {
		for _, ss := range cfg.Sources {
			set.list = append(set.list, newSourceInfo(set, ss, false))
		}
		s.recoverSourceSeqs(set.list)
	}
	s.mu.Lock()
	s.mu.sources = set
	s.mu.Unlock()
	set.wg.Add(1)
	go set.run()
}

// stopSources stops the feeding consumers and waits for the goroutines.
func (s *stream) stopSources() {
	s.mu.Lock()
	set := s.mu.sources
	s.mu.sources = nil
	s.mu.Unlock()
	if set == nil {
		return
	}
	close(set.quit)
	for _, sub := range set.direct {
		s.js.b.Unsubscribe(sub)
	}
	for _, si := range set.list {
		si.mu.Lock()
		si.mu.stopped = true
		si.mu.gen++
		si.cancelLocked()
		si.mu.Unlock()
	}
	set.wg.Wait()
}

// subscribeMirrorDirect answers direct gets of the origin stream from the
// mirror as well.
func (set *sourceSet) subscribeMirrorDirect(origin string) {
	s := set.s
	pre := "$JS.API.DIRECT.GET." + origin
	own := "$JS.API.DIRECT.GET." + s.name
	h := func(subj, reply string, hdr, msg []byte) {
		s.directGet(own+strings.TrimPrefix(subj, pre), reply, hdr, msg)
	}
	for _, subj := range []string{pre, pre + ".>"} {
		if sub, err := s.js.b.Subscribe(s.acc.name, subj, h); err == nil {
			set.direct = append(set.direct, sub)
		}
	}
}

// recoverSourceSeqs finds, newest first, the last message each source
// stored (its Nats-Stream-Source header), so a restart resumes after it
// with neither duplicates nor gaps.
func (s *stream) recoverSourceSeqs(list []*sourceInfo) {
	want := make(map[string]*sourceInfo, len(list))
	for _, si := range list {
		want[si.iname] = si
	}
	seq := s.st.State().LastSeq
	for seq > 0 && len(want) > 0 {
		m, err := s.st.LoadPrevious("", seq)
		if err != nil {
			return
		}
		if iname, oseq, ident, ok := parseSourceHeader(getHeader(m.Header, hdrStreamSource)); ok {
			if si := want[iname]; si != nil {
				si.mu.sseq, si.mu.ident = oseq, ident
				delete(want, iname)
			}
		}
		seq = m.Seq - 1
	}
}

// parseSourceHeader reads "<name> <seq> <filter> <dest> <subject>
// [<ident>]".
func parseSourceHeader(v []byte) (iname string, seq uint64, ident string, ok bool) {
	f := strings.Split(string(v), " ")
	if len(f) < 4 {
		return "", 0, "", false
	}
	n, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return "", 0, "", false
	}
	if len(f) >= 6 {
		ident = f[5]
	}
	return f[0] + " " + f[2] + " " + f[3], n, ident, true
}

// streamIdentity is nats-server's identity of a stream: a hash of its
// creation time, which tells a recreated origin from the one sourced.
func streamIdentity(created time.Time) string {
	return shortHash(created.UTC().Format(time.RFC3339Nano))
}

// identityHeader is a reply header carrying a stream's identity.
func identityHeader(created time.Time) []byte {
	return []byte("NATS/1.0\r\n" + hdrStreamIdent + ": " + streamIdentity(created) + "\r\n\r\n")
}

func (set *sourceSet) run() {
	defer set.wg.Done()
	t := time.NewTicker(sourceHeartbeat)
	defer t.Stop()
	for {
		for _, si := range set.list {
			si.check()
		}
		select {
		case <-set.quit:
			return
		case <-t.C:
		case <-set.kick:
		}
	}
}

func (set *sourceSet) wake() {
	select {
	case set.kick <- struct{}{}:
	default:
	}
}

// check starts a consumer create when the source has none, asked for a
// new one, or went silent; creates are throttled and back off on failure.
func (si *sourceInfo) check() {
	si.mu.Lock()
	defer si.mu.Unlock()
	if si.mu.setup || si.mu.stopped {
		return
	}
	stale := si.mu.sub != nil && time.Since(time.Unix(0, si.last.Load())) > sourceStaleAfter
	if si.mu.sub != nil && !si.mu.retry && !stale {
		return
	}
	wait := sourceRetryMin * time.Duration(min(si.mu.fails, 15)+1)
	if si.mu.fails == 0 && si.mu.lastReq.IsZero() {
		wait = 0
	}
	if time.Since(si.mu.lastReq) < wait {
		return
	}
	si.mu.setup = true
	si.set.wg.Add(1)
	go si.setup()
}

// cancelLocked drops the current consumer: its subscription, and the
// consumer itself (its inactive threshold would remove it anyway).
func (si *sourceInfo) cancelLocked() {
	s := si.set.s
	if si.mu.sub != nil {
		s.js.b.Unsubscribe(si.mu.sub)
		si.mu.sub = nil
	}
	if si.mu.cname != "" {
		subj := si.apiSubject("CONSUMER.DELETE." + si.cfg.Name + "." + si.mu.cname)
		s.js.b.Publish(s.acc.name, subj, "$JSC.D."+randName(), nil, nil)
		si.mu.cname = ""
	}
}

func (si *sourceInfo) apiSubject(rest string) string {
	pre := "$JS.API"
	if e := si.cfg.External; e != nil && e.ApiPrefix != "" {
		pre = e.ApiPrefix
	}
	return strings.ReplaceAll(pre+"."+rest, "..", ".")
}

func randName() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 10)
	for i := range b {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return string(b)
}

// request builds the consumer create for a new consumer starting after
// what is stored.
func (si *sourceInfo) request(sseq uint64, deliver string) api.CreateConsumerRequest {
	s := si.set.s
	cc := &api.ConsumerConfig{
		DeliverSubject: deliver, AckPolicy: api.AckNone, AckWait: 22 * time.Hour, MaxDeliver: 1,
		Heartbeat: sourceHeartbeat, FlowControl: true, Direct: true, InactiveThreshold: sourceStaleAfter,
		DeliverPolicy: api.DeliverAll,
	}
	kind := "source"
	if si.mirror {
		kind = "mirror"
	}
	cc.Metadata = map[string]string{"_nats." + kind + ".stream": s.name, "_nats." + kind + ".acc": s.acc.name}
	if d := s.js.cfg.Domain; d != "" {
		cc.Metadata["_nats."+kind+".domain"] = d
	}
	switch {
	case sseq > 0:
		cc.DeliverPolicy, cc.OptStartSeq = api.DeliverByStartSequence, sseq+1
	case si.cfg.OptStartSeq > 0:
		cc.DeliverPolicy, cc.OptStartSeq = api.DeliverByStartSequence, si.cfg.OptStartSeq
	case si.cfg.OptStartTime != nil:
		t := *si.cfg.OptStartTime
		cc.DeliverPolicy, cc.OptStartTime = api.DeliverByStartTime, &t
	}
	if si.cfg.FilterSubject != "" {
		cc.FilterSubject = si.cfg.FilterSubject
	}
	if n := len(si.cfg.SubjectTransforms); n == 1 {
		cc.FilterSubject = orAll(si.cfg.SubjectTransforms[0].Source)
	} else if n > 1 {
		for _, tr := range si.cfg.SubjectTransforms {
			cc.FilterSubjects = append(cc.FilterSubjects, orAll(tr.Source))
		}
	}
	if cc.FilterSubject == ">" {
		cc.FilterSubject = ""
	}
	return api.CreateConsumerRequest{Stream: si.cfg.Name, Config: cc}
}

// setup makes a new consumer: subscribe its deliver subject, send the
// create and wait for the answer.
func (si *sourceInfo) setup() {
	set := si.set
	s := set.s
	defer set.wg.Done()
	si.mu.Lock()
	si.cancelLocked()
	si.mu.gen++
	gen := si.mu.gen
	si.mu.dseq, si.mu.retry, si.mu.lastReq = 0, false, time.Now()
	if si.cfg.External == nil {
		if o := s.acc.lookup(si.cfg.Name); o != nil {
			ident := streamIdentity(o.created)
			if !si.mirror && si.mu.ident != "" && ident != si.mu.ident {
				// The origin was deleted and made again: its sequences
				// start over, so take it from the start.
				si.mu.sseq = 0
			}
			si.mu.ident = ident
		}
	}
	sseq := si.mu.sseq
	si.mu.Unlock()
	if si.mirror {
		sseq = s.st.State().LastSeq
		si.mu.Lock()
		si.mu.sseq = sseq
		si.mu.Unlock()
	}
	fail := func(e *api.ApiError) {
		si.mu.Lock()
		si.mu.setup = false
		si.mu.fails++
		if e != nil {
			si.mu.err = e
		}
		si.mu.Unlock()
	}
	deliver := "$JS.M." + randName()
	if e := si.cfg.External; e != nil && e.DeliverPrefix != "" {
		deliver = strings.ReplaceAll(e.DeliverPrefix+".M."+randName(), "..", ".")
	}
	acc := s.acc.name
	sub, err := s.js.b.Subscribe(acc, deliver, func(subj, reply string, hdr, msg []byte) {
		si.last.Store(time.Now().UnixNano())
		s.in.push(inMsg{subj: subj, reply: reply, hdr: hdr, msg: msg, src: si, gen: gen})
	})
	if err != nil {
		fail(si.setupErr(err.Error()))
		return
	}
	type answer struct{ hdr, msg []byte }
	respCh := make(chan answer, 1)
	reply := "$JSC.R." + randName()
	rsub, err := s.js.b.Subscribe(acc, reply, func(_, _ string, hdr, msg []byte) {
		select {
		case respCh <- answer{hdr, msg}:
		default:
		}
	})
	if err != nil {
		s.js.b.Unsubscribe(sub)
		fail(si.setupErr(err.Error()))
		return
	}
	b, _ := json.Marshal(si.request(sseq, deliver))
	s.js.b.Publish(acc, si.apiSubject("CONSUMER.CREATE."+si.cfg.Name), reply, nil, b)
	var msg, rhdr []byte
	timer := time.NewTimer(sourceCreateWait)
	select {
	case a := <-respCh:
		msg, rhdr = a.msg, a.hdr
	case <-timer.C:
	case <-set.quit:
	}
	timer.Stop()
	s.js.b.Unsubscribe(rsub)
	var resp api.JSApiConsumerCreateResponse
	var e *api.ApiError
	switch {
	case msg == nil:
		e = si.setupErr("consumer create timed out")
	case json.Unmarshal(msg, &resp) != nil:
		e = api.JSInvalidJSONErr
	case resp.Error != nil:
		e = resp.Error
	case resp.ConsumerInfo == nil:
		e = si.setupErr("invalid consumer create response")
	}
	si.mu.Lock()
	if e != nil || si.mu.stopped || si.mu.gen != gen {
		si.mu.Unlock()
		s.js.b.Unsubscribe(sub)
		if e == nil && resp.ConsumerInfo != nil {
			// Stopped meanwhile: remove the consumer just made.
			s.js.b.Publish(acc, si.apiSubject("CONSUMER.DELETE."+si.cfg.Name+"."+resp.Name), "$JSC.D."+randName(), nil, nil)
		}
		if e != nil {
			s.js.log.Warnf("JetStream %s '%s > %s' of '%s': %s", si.kind(), acc, s.name, si.cfg.Name, e.Description)
		}
		fail(e)
		return
	}
	if ident := string(getHeader(rhdr, hdrStreamIdent)); ident != "" {
		si.mu.ident = ident
	}
	si.mu.sub, si.mu.cname, si.mu.err = sub, resp.Name, nil
	si.mu.fails, si.mu.setup = 0, false
	si.mu.Unlock()
	si.last.Store(time.Now().UnixNano())
}

func (si *sourceInfo) kind() string {
	if si.mirror {
		return "mirror"
	}
	return "source"
}

func (si *sourceInfo) setupErr(msg string) *api.ApiError {
	if si.mirror {
		return api.JSMirrorConsumerSetupFailedErrF.With("err", msg)
	}
	return api.JSSourceConsumerSetupFailedErrF.With("err", msg)
}

// retryLocked asks the manager for a new consumer.
func (si *sourceInfo) retryLocked() {
	si.mu.retry = true
	si.mu.gen++ // drop what the old consumer still has queued
	si.set.wake()
}

// isControl reports a status message of the consumer (heartbeat, flow
// control): "NATS/1.0 100 ...".
func isControl(hdr []byte) bool {
	return bytes.HasPrefix(hdr, []byte("NATS/1.0 100"))
}

// parseAckReply reads the delivery facts from a consumer's ack subject:
// $JS.ACK.<stream>.<consumer>.<dc>.<sseq>.<dseq>.<ts>.<pending>, or the
// longer form with domain and account hash.
func parseAckReply(reply string) (sseq, dseq, dc uint64, ts int64, pending uint64, ok bool) {
	t := strings.Split(reply, ".")
	var off int
	switch {
	case len(t) == 9:
		off = 4
	case len(t) >= 11:
		off = 6
	default:
		return 0, 0, 0, 0, 0, false
	}
	if t[0] != "$JS" || t[1] != "ACK" {
		return 0, 0, 0, 0, 0, false
	}
	n := func(s string) uint64 { v, _ := strconv.ParseUint(s, 10, 64); return v }
	return n(t[off+1]), n(t[off+2]), n(t[off]), int64(n(t[off+3])), n(t[off+4]), true
}

// processSourced handles one message of a mirror's or source's consumer
// on the ingest goroutine, appending what to send once it is stored.
func (s *stream) processSourced(m *inMsg, out []outMsg) ([]outMsg, bool) {
	si := m.src
	si.mu.Lock()
	if m.gen != si.mu.gen || si.mu.stopped {
		si.mu.Unlock()
		return out, false
	}
	if isControl(m.hdr) {
		switch {
		case m.reply != "":
			// Flow control: answered after what came before is stored.
			hdr := appendHeaders(nil, hdrLastConsumer, strconv.FormatUint(si.mu.dseq, 10), hdrLastStream, strconv.FormatUint(si.mu.sseq, 10))
			out = append(out, outMsg{subj: m.reply, hdr: hdr})
		default:
			if n, ok := headerUint(m.hdr, hdrLastConsumer); ok && n > 0 && n != si.mu.dseq {
				si.retryLocked() // we missed messages
			} else if v := getHeader(m.hdr, hdrConsumerStall); v != nil {
				out = append(out, outMsg{subj: string(v)})
			}
		}
		si.mu.Unlock()
		return out, false
	}
	sseq, dseq, dc, ts, pending, ok := parseAckReply(m.reply)
	if !ok || dc > 1 {
		si.mu.Unlock()
		return out, false
	}
	if sseq <= si.mu.sseq {
		if dseq == si.mu.dseq+1 {
			si.mu.dseq++
		}
		si.mu.Unlock()
		return out, false
	}
	if dseq != si.mu.dseq+1 {
		si.retryLocked()
		si.mu.Unlock()
		return out, false
	}
	osseq, odseq := si.mu.sseq, si.mu.dseq
	si.mu.sseq, si.mu.dseq = sseq, dseq
	si.mu.lag = 0
	if pending > 0 {
		si.mu.lag = pending - 1
	}
	si.mu.Unlock()

	undo := func() {
		si.mu.Lock()
		if si.mu.gen == m.gen {
			si.mu.sseq, si.mu.dseq = osseq, odseq
			si.retryLocked()
		}
		si.mu.Unlock()
	}
	subj := m.subj
	for i, tr := range si.trs {
		if tr == nil {
			if subject.Matches(subj, orAll(si.cfg.SubjectTransforms[i].Source)) {
				break
			}
			continue
		}
		if mapped, ok := tr.Apply(subj); ok {
			subj = mapped
			break
		}
	}
	hdr := m.hdr
	if len(hdr) > 0 {
		hdr = removeHeaders(hdr, func(k string) bool {
			return strings.HasPrefix(k, "Nats-Expected-") || strings.HasPrefix(k, "Nats-Batch-") || (!si.mirror && k == hdrStreamSource)
		})
	}
	if si.mirror {
		return out, s.storeMirrored(subj, hdr, m.msg, sseq, ts, undo)
	}
	si.mu.Lock()
	ident := si.mu.ident
	si.mu.Unlock()
	val := si.hdrPre + strconv.FormatUint(sseq, 10) + si.hdrSuf + m.subj
	if ident != "" {
		val += " " + ident
	}
	hdr = appendHeaders(hdr, hdrStreamSource, val)
	im := inMsg{subj: subj, hdr: hdr, msg: m.msg, sourced: true}
	r, e := s.storeOne(&im, false)
	if e != nil {
		s.js.log.Debugf("JetStream source '%s > %s' from '%s': %s", s.acc.name, s.name, si.cfg.Name, e.Description)
		undo()
		return out, false
	}
	if r.dup > 0 {
		return out, false
	}
	if r.republish != nil {
		out = append(out, *r.republish)
	}
	return out, true
}

// storeMirrored stores a mirrored message at its origin sequence.
func (s *stream) storeMirrored(subj string, hdr, msg []byte, seq uint64, ts int64, undo func()) bool {
	cfg := s.config()
	var ttl int64
	if cfg.AllowMsgTTL {
		if v := getHeader(hdr, hdrTTL); v != nil {
			ttl, _ = parseTTL(string(v))
		}
	}
	if err := s.st.StoreRaw(subj, hdr, msg, seq, ts, ttl); err != nil {
		if errors.Is(err, store.ErrSequenceMismatch) {
			return false // already here (a restart raced the consumer)
		}
		s.js.log.Warnf("JetStream mirror '%s > %s': store %d: %v", s.acc.name, s.name, seq, err)
		undo()
		return false
	}
	s.onStored(seq, subj)
	return true
}

// removeHeaders drops the header lines whose name drop matches.
func removeHeaders(hdr []byte, drop func(string) bool) []byte {
	end := bytes.Index(hdr, []byte("\r\n"))
	if end < 0 {
		return hdr
	}
	var out []byte
	rest := hdr[end+2:]
	changed := false
	for len(rest) > 0 {
		i := bytes.Index(rest, []byte("\r\n"))
		if i < 0 {
			i = len(rest)
		}
		line := rest[:i]
		next := rest[min(i+2, len(rest)):]
		if c := bytes.IndexByte(line, ':'); c > 0 && drop(string(line[:c])) {
			if !changed {
				out = append(make([]byte, 0, len(hdr)), hdr[:len(hdr)-len(rest)]...)
				changed = true
			}
		} else if changed {
			out = append(out, rest[:min(i+2, len(rest))]...)
		}
		rest = next
	}
	if !changed {
		return hdr
	}
	return out
}

// mirrorInfo and sourcesInfo fill StreamInfo.
func (s *stream) sourcesInfo() (*api.StreamSourceInfo, []*api.StreamSourceInfo) {
	s.mu.RLock()
	set := s.mu.sources
	s.mu.RUnlock()
	if set == nil {
		return nil, nil
	}
	var srcs []*api.StreamSourceInfo
	for _, si := range set.list {
		if si.mirror {
			return si.info(), nil
		}
		srcs = append(srcs, si.info())
	}
	return nil, srcs
}

func (si *sourceInfo) info() *api.StreamSourceInfo {
	si.mu.Lock()
	defer si.mu.Unlock()
	out := &api.StreamSourceInfo{Name: si.cfg.Name, Lag: si.mu.lag, Seq: si.mu.sseq, Error: si.mu.err, FilterSubject: si.cfg.FilterSubject}
	if last := si.last.Load(); last == 0 {
		out.Active = -1
	} else {
		out.Active = time.Since(time.Unix(0, last))
	}
	out.SubjectTransforms = append(out.SubjectTransforms, si.cfg.SubjectTransforms...)
	if e := si.cfg.External; e != nil {
		out.External = &api.ExternalStream{ApiPrefix: e.ApiPrefix, DeliverPrefix: e.DeliverPrefix}
	}
	return out
}
