package consumer

import (
	"container/heap"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/subject"
	"github.com/sluicehq/sluice/pkg/api"
)

// Logger is what a consumer logs through.
type Logger interface {
	Warnf(format string, v ...any)
	Errorf(format string, v ...any)
}

// Env is everything a consumer needs from its stream and the broker.
type Env struct {
	Account, Stream, Name string
	Store                 store.Store
	State                 store.ConsumerStore // nil: nothing persisted
	// Send delivers msg to subscribers of to, showing subj in the MSG line.
	Send func(to, subj, reply string, hdr, msg []byte)
	// SendBatch, when set, sends several at once (one flush).
	SendBatch func([]Msg)
	// HasInterest reports whether anyone listens on subj (push gating).
	HasInterest func(subj string) bool
	// ReplyInterest, for a reply made by service imports (_R_.), returns
	// a check of interest in the requester's account (nil: not through
	// an import).
	ReplyInterest func(reply string) func() bool
	// Event publishes an advisory or metric.
	Event func(subj string, v any)
	// Acked tells the stream a message is acknowledged (retention).
	Acked func(seq uint64)
	// Retention is the stream's retention policy.
	Retention api.RetentionPolicy
	// Inactive is called once when inactive_threshold passed.
	Inactive func()
	// RateBurst is how many bytes rate_limit_bps lets out at once: the
	// stream's max_msg_size, else the account's or server's max payload
	// (0: 1 MiB).
	RateBurst int
	// Journal records AckSync acks before they are answered (nil: the
	// answer waits for State.Sync instead).
	Journal Journal
	Domain  string
	Log     Logger
}

// Journal is an append-only record of acknowledged stream sequences that
// survives the process being killed (written, not fsynced): an AckSync is
// answered once its ack is in it. Rotate starts a new segment when the
// state is snapshotted; Release(seg) drops the segments the snapshot
// covers once it is stored.
type Journal interface {
	Append(seq uint64) error
	Rotate() int
	Release(seg int)
}

// pend is one delivered, unacknowledged message.
type pend struct {
	dseq     uint64 // consumer sequence of its last delivery
	ts       int64  // time of its last delivery
	deadline int64  // when it is due again (0: never)
}

// Consumer is one consumer's state machine.
type Consumer struct {
	env     Env
	created time.Time
	ackPfx  string // "$JS.ACK.<stream>.<consumer>."
	kick    chan struct{}
	quit    chan struct{}
	done    chan struct{}

	mu struct {
		sync.Mutex
		cfg      api.ConsumerConfig
		filters  []string
		sseq     uint64 // next stream sequence to consider
		dseq     uint64 // last consumer sequence used
		dsLast   uint64 // stream sequence of the last delivery
		aflr     store.SequencePair
		pending  map[uint64]*pend
		rdc      map[uint64]uint64 // stream seq -> deliveries - 1
		rdq      []uint64          // due for redelivery, in order
		inRdq    map[uint64]bool
		timers   deadlineHeap
		lps      []uint64 // last_per_subject start sequences still to deliver
		npending uint64   // matching messages at or after sseq
		npValid  uint64   // last stream sequence npending covers
		waiting  []*pullReq
		lastAct  time.Time
		lastSend time.Time
		// Flow control (nats-server's): fcBytes delivered and not yet
		// answered, fcSz of them covered by the outstanding request
		// fcOut, fcMax the window (0: no flow control).
		fcOut                string
		fcBytes, fcSz, fcMax int
		pauseAt              time.Time
		dirty                bool
		syncWant             []string        // AckSync replies waiting for the state to be stored
		ahead                map[uint64]bool // journaled acks beyond the stored delivered sequence
		closed               bool
		sampleN              int // sample_freq percent (0: none)
		// pinned_client: the current pin, its group, when it was given
		// and when it lapses without a request carrying it.
		pinID, pinGroup string
		pinTS, pinExp   time.Time
		// holdUntil: replay or rate limit holds delivery until then.
		holdUntil time.Time
		// replay_policy original: replaying up to replayTo (0: done),
		// the stored time of the last sent and when the next may go.
		replayTo  uint64
		replayLts int64
		replayAt  time.Time
		// rate_limit_bps token bucket (bytes).
		rlTokens float64
		rlAt     time.Time
		rlBurst  float64
	}
}

// New makes a consumer with a checked config and starts its goroutine.
// state is the persisted state (nil: fresh).
func New(env Env, cfg api.ConsumerConfig, created time.Time, state *store.ConsumerState, journaled ...uint64) *Consumer {
	c := &Consumer{env: env, created: created, kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	c.ackPfx = "$JS.ACK." + env.Stream + "." + env.Name + "."
	c.mu.cfg = cfg
	c.mu.filters = Filters(&cfg)
	c.mu.pending = map[uint64]*pend{}
	c.mu.rdc = map[uint64]uint64{}
	c.mu.inRdq = map[uint64]bool{}
	c.mu.lastAct = time.Now()
	c.mu.sampleN = sampleFreq(cfg.SampleFrequency)
	if cfg.PauseUntil != nil {
		c.mu.pauseAt = *cfg.PauseUntil
	}
	if cfg.FlowControl {
		c.mu.fcMax = fcStart
	}
	if state != nil && (state.Delivered.Stream > 0 || state.Delivered.Consumer > 0 || state.AckFloor.Stream > 0) {
		c.restoreLocked(state)
	} else {
		c.startLocked()
	}
	for _, seq := range journaled {
		if _, ok := c.mu.pending[seq]; ok {
			c.ackLocked(seq, 0, 0)
		} else if seq > c.mu.dsLast {
			if c.mu.ahead == nil {
				c.mu.ahead = map[uint64]bool{}
			}
			c.mu.ahead[seq] = true
		}
		c.mu.dirty = true
	}
	c.recountLocked()
	c.startPaceLocked()
	c.kick <- struct{}{}
	go c.run()
	return c
}

// Filters returns the consumer's filters (nil: everything).
func Filters(cfg *api.ConsumerConfig) []string {
	if cfg.FilterSubject != "" && cfg.FilterSubject != ">" {
		return []string{cfg.FilterSubject}
	}
	for _, f := range cfg.FilterSubjects {
		if f == ">" {
			return nil
		}
	}
	return append([]string(nil), cfg.FilterSubjects...)
}

// startLocked places a fresh consumer by its deliver policy.
func (c *Consumer) startLocked() {
	st := c.env.Store.State()
	cfg := &c.mu.cfg
	start := st.FirstSeq
	if start == 0 {
		start = 1
	}
	switch cfg.DeliverPolicy {
	case api.DeliverLast:
		var last uint64
		for _, f := range c.filterList() {
			if m, err := c.env.Store.LoadLast(f); err == nil && m.Seq > last {
				last = m.Seq
			}
		}
		if last > 0 {
			start = last
		} else {
			start = st.LastSeq + 1
		}
	case api.DeliverNew:
		start = st.LastSeq + 1
	case api.DeliverByStartSequence:
		start = cfg.OptStartSeq
	case api.DeliverByStartTime:
		start = c.seqForTime(*cfg.OptStartTime, st)
	case api.DeliverLastPerSubject:
		var seqs []uint64
		for _, f := range c.filterList() {
			for _, ss := range c.env.Store.SubjectsState(f) {
				seqs = append(seqs, ss.Last)
			}
		}
		sortU64(seqs)
		if len(seqs) > 0 {
			start = seqs[0]
			c.mu.lps = seqs
		} else {
			start = st.LastSeq + 1
		}
	}
	if start == 0 {
		start = 1
	}
	c.mu.sseq = start
	c.mu.dsLast = start - 1
	c.mu.aflr = store.SequencePair{Stream: start - 1}
}

// seqForTime finds the first sequence stored at or after t.
func (c *Consumer) seqForTime(t time.Time, st store.State) uint64 {
	ts := t.UnixNano()
	lo, hi := st.FirstSeq, st.LastSeq+1
	for lo < hi {
		mid := lo + (hi-lo)/2
		m, err := c.env.Store.LoadNext("", mid)
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
	if lo == 0 {
		lo = 1
	}
	return lo
}

func (c *Consumer) restoreLocked(s *store.ConsumerState) {
	c.mu.sseq = s.Delivered.Stream + 1
	c.mu.dseq = s.Delivered.Consumer
	c.mu.dsLast = s.Delivered.Stream
	c.mu.aflr = s.AckFloor
	wait := int64(c.ackWait(1))
	for sseq, p := range s.Pending {
		c.mu.pending[sseq] = &pend{dseq: p.Sequence, ts: p.Timestamp}
		c.setDeadlineLocked(sseq, p.Timestamp+wait)
	}
	for sseq, n := range s.Redelivered {
		if _, ok := c.mu.pending[sseq]; ok {
			c.mu.rdc[sseq] = n
		}
	}
}

func (c *Consumer) filterList() []string {
	if len(c.mu.filters) == 0 {
		return []string{""}
	}
	return c.mu.filters
}

// recountLocked sets npending from the store for everything at or after
// sseq.
func (c *Consumer) recountLocked() {
	var n, valid uint64
	for _, f := range c.filterList() {
		t, v := c.env.Store.NumPending(c.mu.sseq, f, false)
		n += t
		valid = v
	}
	if len(c.mu.lps) > 0 {
		n = uint64(len(c.mu.lps))
		for _, f := range c.filterList() {
			t, _ := c.env.Store.NumPending(c.mu.lps[len(c.mu.lps)-1]+1, f, false)
			n += t
		}
	}
	c.mu.npending, c.mu.npValid = n, valid
}

// catchUpLocked adds the messages stored since npValid to npending.
func (c *Consumer) catchUpLocked() {
	last := c.env.Store.State().LastSeq
	if last <= c.mu.npValid {
		return
	}
	from := max(c.mu.npValid+1, c.mu.sseq)
	for _, f := range c.filterList() {
		if from <= last {
			t, _ := c.env.Store.NumPending(from, f, false)
			c.mu.npending += t
		}
	}
	c.mu.npValid = last
}

// Config returns the configuration.
func (c *Consumer) Config() api.ConsumerConfig {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.cfg
}

// Created is when the consumer was made.
func (c *Consumer) Created() time.Time { return c.created }

// UpdateConfig applies an update checked by the caller.
func (c *Consumer) UpdateConfig(cfg api.ConsumerConfig) {
	c.mu.Lock()
	c.mu.cfg = cfg
	c.mu.filters = Filters(&cfg)
	c.mu.sampleN = sampleFreq(cfg.SampleFrequency)
	c.mu.pauseAt = time.Time{}
	if cfg.PauseUntil != nil {
		c.mu.pauseAt = *cfg.PauseUntil
	}
	c.recountLocked()
	c.mu.Unlock()
	c.Kick()
}

// Kick wakes the delivery goroutine (a new message, new interest).
func (c *Consumer) Kick() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// Stop ends the goroutine; pull requests waiting get 409 Consumer Deleted
// when deleted is set, else 409 Server Shutdown. The state is stored.
func (c *Consumer) Stop(deleted bool) {
	c.mu.Lock()
	if c.mu.closed {
		c.mu.Unlock()
		return
	}
	c.mu.closed = true
	waiting := c.mu.waiting
	c.mu.waiting = nil
	c.mu.Unlock()
	close(c.quit)
	<-c.done
	for _, r := range waiting {
		if deleted {
			c.env.Send(r.reply, r.reply, "", statusHdr("409 Consumer Deleted", nil), nil)
		} else {
			c.env.Send(r.reply, r.reply, "", statusHdr("409 Server Shutdown", r), nil)
		}
	}
	if !deleted {
		// Stored and synced already unless something changed since: an
		// fsync per idle consumer made stopping 10,000 take minutes.
		c.mu.Lock()
		dirty := c.mu.dirty
		c.mu.Unlock()
		if dirty {
			c.persist(true)
		}
	}
}

// Info is the consumer's state as ConsumerInfo reports it.
func (c *Consumer) Info() *api.ConsumerInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recountLocked()
	cfg := c.mu.cfg
	now := time.Now()
	ci := &api.ConsumerInfo{
		Stream: c.env.Stream, Name: c.env.Name, Created: c.created.UTC(), Config: &cfg,
		Delivered:      api.SequenceInfo{Consumer: c.mu.dseq, Stream: c.mu.dsLast},
		AckFloor:       api.SequenceInfo{Consumer: c.mu.aflr.Consumer, Stream: c.mu.aflr.Stream},
		NumAckPending:  len(c.mu.pending),
		NumRedelivered: len(c.mu.rdc),
		NumWaiting:     len(c.mu.waiting),
		NumPending:     c.mu.npending,
		TimeStamp:      now.UTC(),
	}
	if !c.mu.lastSend.IsZero() {
		t := c.mu.lastSend.UTC()
		ci.Delivered.Last = &t
	}
	if cfg.DeliverSubject != "" && c.env.HasInterest != nil {
		ci.PushBound = c.env.HasInterest(cfg.DeliverSubject)
	}
	if now.Before(c.mu.pauseAt) {
		ci.Paused = true
		ci.PauseRemaining = c.mu.pauseAt.Sub(now)
	}
	ci.PriorityGroups = c.priorityGroupsLocked()
	return ci
}

// NeedsAck reports whether the consumer still holds seq (subject subj)
// unacknowledged or undelivered: interest retention keeps it then.
func (c *Consumer) NeedsAck(seq uint64, subj string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.matchesLocked(subj) {
		return false
	}
	if seq <= c.mu.aflr.Stream {
		return false
	}
	if _, ok := c.mu.pending[seq]; ok {
		return true
	}
	if c.mu.cfg.AckPolicy == api.AckNone {
		return seq >= c.mu.sseq
	}
	return seq >= c.mu.sseq || seq > c.mu.dsLast
}

func (c *Consumer) matchesLocked(subj string) bool {
	if len(c.mu.filters) == 0 {
		return true
	}
	for _, f := range c.mu.filters {
		if matchSubject(subj, f) {
			return true
		}
	}
	return false
}

// Pause sets (or with a zero time clears) pause_until.
func (c *Consumer) Pause(until time.Time) {
	c.mu.Lock()
	c.mu.pauseAt = until
	if until.IsZero() {
		c.mu.cfg.PauseUntil = nil
	} else {
		t := until
		c.mu.cfg.PauseUntil = &t
	}
	c.mu.Unlock()
	c.Kick()
}

// State returns the state to persist.
func (c *Consumer) State() *store.ConsumerState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stateLocked()
}

func (c *Consumer) stateLocked() *store.ConsumerState {
	st := &store.ConsumerState{
		Delivered: store.SequencePair{Consumer: c.mu.dseq, Stream: c.mu.dsLast},
		AckFloor:  c.mu.aflr,
	}
	if len(c.mu.pending) > 0 {
		st.Pending = make(map[uint64]*store.Pending, len(c.mu.pending))
		for s, p := range c.mu.pending {
			st.Pending[s] = &store.Pending{Sequence: p.dseq, Timestamp: p.ts}
		}
	}
	if len(c.mu.rdc) > 0 {
		st.Redelivered = make(map[uint64]uint64, len(c.mu.rdc))
		for s, n := range c.mu.rdc {
			st.Redelivered[s] = n
		}
	}
	return st
}

// ackWait is how long delivery number dc waits for its ack.
func (c *Consumer) ackWait(dc uint64) time.Duration {
	cfg := &c.mu.cfg
	if n := len(cfg.BackOff); n > 0 && dc > 0 {
		return cfg.BackOff[min(int(dc-1), n-1)]
	}
	if cfg.AckWait > 0 {
		return cfg.AckWait
	}
	return 30 * time.Second
}

func (c *Consumer) setDeadlineLocked(sseq uint64, at int64) {
	p := c.mu.pending[sseq]
	if p == nil {
		return
	}
	p.deadline = at
	heap.Push(&c.mu.timers, deadline{at: at, seq: sseq})
}

type deadline struct {
	at  int64
	seq uint64
}

type deadlineHeap []deadline

func (h deadlineHeap) Len() int { return len(h) }
func (h deadlineHeap) Less(i, j int) bool {
	if h[i].at == h[j].at {
		return h[i].seq < h[j].seq
	}
	return h[i].at < h[j].at
}
func (h deadlineHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *deadlineHeap) Push(x any)   { *h = append(*h, x.(deadline)) }
func (h *deadlineHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func sampleFreq(s string) int {
	if s == "" {
		return 0
	}
	if s[len(s)-1] == '%' {
		s = s[:len(s)-1]
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 100 {
		return 0
	}
	return n
}

func sortU64(s []uint64) { slices.Sort(s) }

func matchSubject(subj, filter string) bool { return filter == "" || subject.Matches(subj, filter) }

// persist writes the state (and with sync, makes it durable).
func (c *Consumer) persist(sync bool) {
	if c.env.State == nil {
		return
	}
	st := c.State()
	if err := c.env.State.Update(st); err != nil {
		if c.env.Log != nil {
			c.env.Log.Errorf("JetStream consumer '%s > %s' state: %v", c.env.Stream, c.env.Name, err)
		}
		return
	}
	if sync {
		c.env.State.Sync()
	}
}
