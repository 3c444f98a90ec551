package jetstream

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/server/jetstream/consumer"
	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/filestore"
	"github.com/sluicehq/sluice/internal/server/store/memstore"
	"github.com/sluicehq/sluice/pkg/api"
)

// Optional Broker abilities consumers use when the server has them.
type (
	// deliverer delivers to subscribers of to showing subj in the MSG line.
	deliverer interface {
		Deliver(account, to, subj, reply string, hdr, msg []byte)
	}
	batchDeliverer interface {
		DeliverBatch(account string, n int, at func(i int) (to, subj, reply string, hdr, msg []byte))
	}
	interestChecker interface {
		HasInterest(account, subj string) bool
	}
	// payloadLimiter knows an account's largest message payload.
	payloadLimiter interface {
		MaxPayload(account string) int
	}
	replyTracker interface {
		ReplyInterest(account, reply string) func() bool
	}
)

// consumerDir holds a file stream's durable consumer configs.
const consumerDir = "consumers"

// consumerSet is a stream's consumers (the stream's cons field).
type consumerSet struct {
	mu struct {
		sync.RWMutex
		m map[string]*consumerEntry
		// subs: the stream's ack and flow control subscriptions, shared
		// by its consumers (one pair per stream, not per consumer, keeps
		// 10,000 consumers cheap to create and to hold).
		subs []Subscription
	}
}

// consumerEntry is one consumer with its subscriptions and state store.
type consumerEntry struct {
	s    *stream
	name string
	c    *consumer.Consumer
	cs   store.ConsumerStore
	subs []Subscription
	jr   *ackJournal // file streams only
}

type consumerMeta struct {
	Config  api.ConsumerConfig `json:"config"`
	Created time.Time          `json:"created"`
}

func (s *stream) consumer(name string) *consumerEntry {
	s.cons.mu.RLock()
	defer s.cons.mu.RUnlock()
	return s.cons.mu.m[name]
}

// consumerList returns the stream's consumers sorted by name.
func (s *stream) consumerList() []*consumerEntry {
	s.cons.mu.RLock()
	out := make([]*consumerEntry, 0, len(s.cons.mu.m))
	for _, e := range s.cons.mu.m {
		out = append(out, e)
	}
	s.cons.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// publicConsumers is consumerList without the direct consumers that feed
// mirrors and sources elsewhere: nats-server leaves them out of listings.
func (s *stream) publicConsumers() []*consumerEntry {
	all := s.consumerList()
	out := all[:0]
	for _, e := range all {
		if !e.c.Config().Direct {
			out = append(out, e)
		}
	}
	return out
}

// numLimitable counts the consumers that max_consumers and work-queue
// exclusivity apply to: direct (sourcing) consumers are exempt.
func (s *stream) numLimitable() int {
	s.cons.mu.RLock()
	defer s.cons.mu.RUnlock()
	n := 0
	for _, e := range s.cons.mu.m {
		if e.c == nil || !e.c.Config().Direct {
			n++
		}
	}
	return n
}

// startConsumer makes and registers a consumer with a checked config.
// state is the recovered state (nil: new).
func (s *stream) startConsumer(cfg api.ConsumerConfig, created time.Time, recovering bool, segs ...int) (*consumerEntry, error) {
	name := cfg.Name
	if cfg.Durable != "" {
		name = cfg.Durable
	}
	var cs store.ConsumerStore
	var err error
	if cfg.Direct {
		cs = memstore.NewDetachedConsumerStore(name)
	} else if cs, err = s.st.ConsumerStore(name); err != nil {
		return nil, err
	}
	var state *store.ConsumerState
	if recovering {
		if state, err = cs.State(); err != nil {
			s.js.log.Warnf("JetStream consumer '%s > %s > %s' state: %v", s.acc.name, s.name, name, err)
			state = nil
		}
	} else if st, err := cs.State(); err == nil && st != nil && (st.Delivered.Stream > 0 || st.Delivered.Consumer > 0 || st.AckFloor.Stream > 0) {
		// A state left by an earlier consumer of that name (one kept in
		// memory only): start clean. A new consumer's state is written
		// at its first delivery, not at creation, so neither creating
		// nor stopping 10,000 idle ones costs a write each.
		if err := cs.Update(&store.ConsumerState{}); err != nil {
			return nil, err
		}
		if err := cs.Sync(); err != nil {
			return nil, err
		}
	}
	e := &consumerEntry{s: s, name: name, cs: cs}
	var journaled []uint64
	var jr consumer.Journal = noJournal{}
	if s.persists(&cfg) {
		e.jr, journaled = openAckJournal(filepath.Join(s.dir, consumerDir), name, segs, s.sealer())
		jr = e.jr
	}
	acc := s.acc.name
	b := s.js.b
	send := func(to, subj, reply string, hdr, msg []byte) { b.Publish(acc, to, reply, hdr, msg) }
	if d, ok := b.(deliverer); ok {
		send = func(to, subj, reply string, hdr, msg []byte) { d.Deliver(acc, to, subj, reply, hdr, msg) }
	}
	var sendBatch func([]consumer.Msg)
	if d, ok := b.(batchDeliverer); ok {
		sendBatch = func(ms []consumer.Msg) {
			d.DeliverBatch(acc, len(ms), func(i int) (string, string, string, []byte, []byte) {
				m := &ms[i]
				return m.To, m.Subj, m.Reply, m.Hdr, m.Data
			})
		}
	}
	var interest func(string) bool
	if ic, ok := b.(interestChecker); ok {
		interest = func(subj string) bool { return ic.HasInterest(acc, subj) }
	}
	env := consumer.Env{
		Account: acc, Stream: s.name, Name: name, Store: s.st, State: cs, Send: send, SendBatch: sendBatch, HasInterest: interest,
		Event:   func(subj string, v any) { s.js.publishEvent(acc, subj, v) },
		Journal: jr, Domain: s.js.cfg.Domain, Log: s.js.log, Retention: s.config().Retention,
	}
	if rt, ok := b.(replyTracker); ok {
		env.ReplyInterest = func(reply string) func() bool { return rt.ReplyInterest(acc, reply) }
	}
	// rate_limit_bps bursts by one largest message, as in nats-server.
	if mm := s.config().MaxMsgSize; mm > 0 {
		env.RateBurst = int(mm)
	} else if pl, ok := b.(payloadLimiter); ok {
		env.RateBurst = pl.MaxPayload(acc)
	}
	if s.config().Retention != api.LimitsPolicy { // retention can not change on update
		env.Acked = func(seq uint64) { s.consumerAcked(seq) }
	}
	if cfg.InactiveThreshold > 0 {
		env.Inactive = func() { go s.deleteConsumer(name, false) }
	}
	e.c = consumer.New(env, cfg, created, state, journaled...)
	if err := e.subscribe(); err != nil {
		e.c.Stop(true)
		cs.Delete()
		return nil, err
	}
	s.cons.mu.Lock()
	if s.cons.mu.m == nil {
		s.cons.mu.m = map[string]*consumerEntry{}
	}
	s.cons.mu.m[name] = e
	s.cons.mu.Unlock()
	if s.persists(&cfg) && !recovering {
		if err := s.writeConsumerMeta(name, consumerMeta{Config: cfg, Created: created}); err != nil {
			s.js.log.Warnf("JetStream consumer '%s > %s > %s' config not saved: %v", acc, s.name, name, err)
		}
	}
	return e, nil
}

func (e *consumerEntry) subscribe() error {
	s := e.s
	b := s.js.b
	acc := s.acc.name
	pfx := []string{"$JS.API."}
	if d := s.js.cfg.Domain; d != "" {
		pfx = append(pfx, "$JS."+d+".API.")
	}
	add := func(subj string, cb MsgHandler) error {
		sub, err := b.Subscribe(acc, subj, cb)
		if err != nil {
			return err
		}
		e.subs = append(e.subs, sub)
		return nil
	}
	for _, p := range pfx {
		if err := add(p+"CONSUMER.MSG.NEXT."+s.name+"."+e.name, func(_, reply string, hdr, msg []byte) {
			if v := getHeader(hdr, hdrRequiredLevel); v != nil && !levelOK(v) && reply != "" {
				s.js.b.Publish(s.acc.name, reply, "", []byte("NATS/1.0 412 Required Api Level\r\n\r\n"), nil)
				return
			}
			e.c.ProcessPull(reply, msg)
		}); err != nil {
			return err
		}
	}
	return s.subscribeShared()
}

// subscribeShared makes the stream's ack and flow control subscriptions
// once; they hand each message to the consumer its subject names.
func (s *stream) subscribeShared() error {
	s.cons.mu.Lock()
	defer s.cons.mu.Unlock()
	if len(s.cons.mu.subs) > 0 {
		return nil
	}
	b := s.js.b
	ack, err := b.Subscribe(s.acc.name, "$JS.ACK."+s.name+".>", func(subj, reply string, _, msg []byte) {
		if e := s.consumerOf(subj, len("$JS.ACK.")); e != nil {
			e.c.ProcessAck(subj, reply, msg)
		}
	})
	if err != nil {
		return err
	}
	fc, err := b.Subscribe(s.acc.name, "$JS.FC."+s.name+".>", func(subj, _ string, hdr, _ []byte) {
		if e := s.consumerOf(subj, len("$JS.FC.")); e != nil {
			e.c.ProcessFlowControl(subj, hdr)
		}
	})
	if err != nil {
		b.Unsubscribe(ack)
		return err
	}
	s.cons.mu.subs = []Subscription{ack, fc}
	return nil
}

// consumerOf finds the consumer named in subj after "<prefix><stream>.".
func (s *stream) consumerOf(subj string, prefix int) *consumerEntry {
	rest := subj[min(prefix+len(s.name)+1, len(subj)):]
	name, _, _ := strings.Cut(rest, ".")
	return s.consumer(name)
}

func (e *consumerEntry) unsubscribe() {
	for _, sub := range e.subs {
		e.s.js.b.Unsubscribe(sub)
	}
	e.subs = nil
}

// deleteConsumer removes a consumer and its state; false if unknown.
func (s *stream) deleteConsumer(name string, _ bool) bool {
	s.cons.mu.Lock()
	e := s.cons.mu.m[name]
	delete(s.cons.mu.m, name)
	s.cons.mu.Unlock()
	if e == nil {
		return false
	}
	e.unsubscribe()
	e.c.Stop(true)
	e.cs.Delete()
	if e.jr != nil {
		e.jr.remove()
	}
	if s.dir != "" {
		os.Remove(filepath.Join(s.dir, consumerDir, name+".json"))
	}
	s.js.consumerAdvisory(s.acc, s.name, name, "delete", nil)
	s.checkInterestAll()
	return true
}

// stopConsumers stops every consumer (hook in stream.stop); with remove
// their state goes too.
func (s *stream) stopConsumers(remove bool) {
	s.cons.mu.Lock()
	list, shared := s.cons.mu.m, s.cons.mu.subs
	s.cons.mu.m, s.cons.mu.subs = nil, nil
	s.cons.mu.Unlock()
	for _, sub := range shared {
		s.js.b.Unsubscribe(sub)
	}
	for _, e := range list {
		e.unsubscribe()
		e.c.Stop(remove)
		if remove {
			e.cs.Delete()
		} else {
			e.cs.Stop()
		}
		if e.jr != nil {
			e.jr.close()
		}
	}
}

// persists reports whether a consumer's config and state are kept on disk
// and recovered at start: on file streams, durable or ephemeral (which
// come back as ephemerals, their inactive_threshold running again),
// unless mem_storage, as in nats-server.
func (s *stream) persists(cfg *api.ConsumerConfig) bool {
	return s.dir != "" && !cfg.MemoryStorage
}

func (s *stream) writeConsumerMeta(name string, m consumerMeta) error {
	dir := filepath.Join(s.dir, consumerDir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if b, err = s.sealer().Seal(consumerPurpose+name, b); err != nil {
		return err
	}
	// Written and renamed, not fsynced: a config survives the process
	// being killed; an fsync per create made 10,000 creates take minutes.
	return writeFileAtomic(filepath.Join(dir, name+".json"), b, false)
}

// recoverConsumers restarts the durable consumers saved beside a file
// stream (hook in openStream).
func (s *stream) recoverConsumers() {
	if s.dir == "" {
		return
	}
	ents, err := os.ReadDir(filepath.Join(s.dir, consumerDir))
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			s.js.log.Warnf("JetStream stream '%s > %s' consumers: %v", s.acc.name, s.name, err)
		}
		return
	}
	n := 0
	segs := journalSegments(ents)
	for _, de := range ents {
		if !strings.HasSuffix(de.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.dir, consumerDir, de.Name()))
		if err != nil {
			continue
		}
		name := strings.TrimSuffix(de.Name(), ".json")
		plain := !filestore.IsSealed(b)
		if b, err = s.sealer().Open(consumerPurpose+name, b); err != nil {
			s.js.log.Errorf("JetStream consumer metadata %q of '%s > %s': %v", de.Name(), s.acc.name, s.name, err)
			continue
		}
		var m consumerMeta
		if err := json.Unmarshal(b, &m); err != nil {
			s.js.log.Warnf("JetStream consumer metadata %q of '%s > %s': %v", de.Name(), s.acc.name, s.name, err)
			continue
		}
		if _, err := s.startConsumer(m.Config, m.Created, true, segs[name]...); err != nil {
			s.js.log.Warnf("JetStream consumer %q of '%s > %s' not recovered: %v", m.Config.Durable, s.acc.name, s.name, err)
			continue
		}
		if plain && s.sealer() != nil { // encryption turned on since it was written
			if err := s.writeConsumerMeta(name, m); err != nil {
				s.js.log.Warnf("JetStream consumer %q of '%s > %s' config not sealed: %v", name, s.acc.name, s.name, err)
			}
		}
		n++
	}
	if n > 0 {
		s.js.log.Noticef("  Recovered %d consumers for stream '%s > %s'", n, s.acc.name, s.name)
	}
}

// kickConsumers wakes every consumer after new messages (hook in the
// ingest loop).
func (s *stream) kickConsumers() {
	s.cons.mu.RLock()
	for _, e := range s.cons.mu.m {
		e.c.Kick()
	}
	s.cons.mu.RUnlock()
}

// onStored drops a message of an interest stream nobody is interested in
// (hook in process, after the store).
func (s *stream) onStored(seq uint64, subj string) {
	if s.config().Retention != api.InterestPolicy {
		return
	}
	if !s.anyNeeds(seq, subj) {
		s.st.Remove(seq)
	}
}

func (s *stream) anyNeeds(seq uint64, subj string) bool {
	s.cons.mu.RLock()
	defer s.cons.mu.RUnlock()
	for _, e := range s.cons.mu.m {
		if e.c.NeedsAck(seq, subj) {
			return true
		}
	}
	return false
}

// consumerAcked applies retention once a consumer acknowledged seq.
func (s *stream) consumerAcked(seq uint64) {
	switch s.config().Retention {
	case api.WorkQueuePolicy:
		s.st.Remove(seq)
	case api.InterestPolicy:
		m, err := s.st.Load(seq)
		if err != nil {
			return
		}
		if !s.anyNeeds(seq, m.Subject) {
			s.st.Remove(seq)
		}
	}
}

// checkInterestAll drops messages of an interest stream no remaining
// consumer needs (after a consumer is deleted).
func (s *stream) checkInterestAll() {
	if s.config().Retention != api.InterestPolicy {
		return
	}
	st := s.st.State()
	for seq := st.FirstSeq; seq <= st.LastSeq && seq > 0; seq++ {
		m, err := s.st.LoadNext("", seq)
		if err != nil {
			return
		}
		seq = m.Seq
		if !s.anyNeeds(seq, m.Subject) {
			s.st.Remove(seq)
		}
	}
}

func (js *JetStream) consumerAdvisory(a *jsAccount, stream, name, action string, cfg *api.ConsumerConfig) {
	subj := map[string]string{"create": "CREATED", "delete": "DELETED"}[action]
	ev := api.JSConsumerActionAdvisory{
		TypedEvent: api.TypedEvent{Type: api.JSConsumerActionAdvisoryType, ID: eventID(), Time: time.Now().UTC()},
		Stream:     stream, Consumer: name, Action: action, Config: cfg, Domain: js.cfg.Domain,
	}
	js.publishEvent(a.name, "$JS.EVENT.ADVISORY.CONSUMER."+subj+"."+stream+"."+name, ev)
}

// consumerDetails is what /jsz?consumers=1 shows of each consumer.
func (s *stream) consumerDetails(withConfig bool) []json.RawMessage {
	var out []json.RawMessage
	for _, e := range s.consumerList() {
		ci := e.c.Info() // no cluster info on a single server, as nats-server
		if !withConfig {
			ci.Config = nil
		}
		b, err := json.Marshal(ci)
		if err == nil {
			out = append(out, b)
		}
	}
	return out
}
