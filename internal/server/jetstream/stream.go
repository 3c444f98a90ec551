package jetstream

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/subject"
	"github.com/sluicehq/sluice/pkg/api"
)

// metaFile holds a file stream's configuration beside its store.
const metaFile = "meta.json"

type streamMeta struct {
	Config  api.StreamConfig `json:"config"`
	Created time.Time        `json:"created"`
}

// stream is one stream: its configuration, store, subscriptions and
// ingest loop.
type stream struct {
	acc     *jsAccount
	js      *JetStream
	name    string
	dir     string // file streams only
	st      store.Store
	created time.Time
	in      *ingestQueue
	clock   ingestClock   // the store's clock (ingest.go)
	done    chan struct{} // ingest loop ended

	mu struct {
		sync.RWMutex
		cfg       api.StreamConfig
		subs      []Subscription
		directSub []Subscription
		transform *subject.Transform
		republish *subject.Transform
		closed    bool
		sources   *sourceSet // mirror or sources (source.go)
	}
	// Owned by the ingest goroutine.
	dedupe     dedupeState
	batches    map[string]*atomicBatch
	fast       map[string]*fastBatch // fast batches: see fastbatch.go
	sched      []scheduleEntry       // stored schedules, soonest first
	schedTimer *time.Timer
	room       int64       // bytes the account may still store, -1 unlimited
	cons       consumerSet // consumers hook: see consumers.go
	markers    ttlMarkers  // see kv_markers.go
	acks       ackArena    // pub acks (ingest.go)
}

func storeConfig(cfg *api.StreamConfig, js *JetStream) store.Config {
	sc := store.Config{
		Name: cfg.Name, Subjects: cfg.Subjects, MaxMsgs: cfg.MaxMsgs, MaxBytes: cfg.MaxBytes, MaxAge: cfg.MaxAge,
		MaxMsgsPer: cfg.MaxMsgsPer, MaxMsgSize: cfg.MaxMsgSize, DiscardNewPer: cfg.DiscardNewPer, FirstSeq: cfg.FirstSeq,
		AllowMsgTTL: cfg.AllowMsgTTL, SubjectDeleteMarkerTTL: cfg.SubjectDeleteMarkerTTL,
		SyncInterval: js.cfg.SyncInterval,
	}
	if cfg.Storage == api.MemoryStorage {
		sc.Storage = store.MemoryStorage
	}
	if cfg.Discard == api.DiscardNew {
		sc.Discard = store.DiscardNew
	}
	if cfg.Compression == api.S2Compression {
		sc.Compression = store.S2Compression
	}
	sc.SyncAlways = js.cfg.SyncAlways && cfg.PersistMode != api.AsyncPersistMode
	if e := js.cfg.Encryption; e.Key != "" {
		if e.Cipher == 0 {
			e.Cipher = store.ChaChaPoly
		}
		sc.Encryption = &e
	}
	return sc
}

// openStream creates (or reopens, for recovery) a stream with a checked
// config, registers it in the account and starts it.
func (a *jsAccount) openStream(cfg api.StreamConfig, created time.Time) (*stream, error) {
	return a.openStreamStore(cfg, created, nil)
}

// openStreamStore is openStream with the store already open (a restored
// memory stream); nil opens it.
func (a *jsAccount) openStreamStore(cfg api.StreamConfig, created time.Time, st store.Store) (*stream, error) {
	s := &stream{acc: a, js: a.js, name: cfg.Name, created: created, done: make(chan struct{})}
	s.mu.cfg = cfg
	s.dedupe.init()
	if err := s.compileLocked(); err != nil {
		return nil, err
	}
	sc := storeConfig(&cfg, a.js)
	sc.Clock = s.clock.now
	if cfg.Storage == api.FileStorage {
		s.dir = filepath.Join(a.dir, cfg.Name)
		if err := os.MkdirAll(s.dir, 0o750); err != nil {
			return nil, err
		}
	}
	if st == nil {
		var err error
		if st, err = openStore(s.dir, sc, a.js.log); err != nil {
			return nil, err
		}
	}
	s.st = st
	if s.dir != "" {
		// After the store opened: it checked the key (a wrong one
		// changes nothing) and has the data key that seals the file.
		if err := s.writeMeta(); err != nil {
			st.Stop()
			return nil, err
		}
	}
	st.RegisterRemoveCallback(s.onStoreRemove)
	st.RegisterLostCallback(s.onLost)
	s.dedupe.rebuild(st, cfg.Duplicates)
	s.in = newIngestQueue(a.js.cfg.MaxBufferedMsgs, a.js.cfg.MaxBufferedSize)
	s.recoverSchedules()
	go s.ingestLoop()
	a.mu.Lock()
	a.mu.streams[cfg.Name] = s
	a.mu.Unlock()
	if err := s.subscribe(); err != nil {
		s.stop(true)
		return nil, err
	}
	s.recoverConsumers() // consumers hook: see consumers.go
	s.startSources()
	return s, nil
}

func (s *stream) writeMeta() error {
	s.mu.RLock()
	m := streamMeta{Config: s.mu.cfg, Created: s.created}
	s.mu.RUnlock()
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if b, err = s.sealer().Seal(metaPurpose, b); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(s.dir, metaFile), b, true)
}

// compileLocked prepares the subject transform and republish of the
// config.
func (s *stream) compileLocked() error {
	cfg := &s.mu.cfg
	s.mu.transform, s.mu.republish = nil, nil
	if t := cfg.SubjectTransform; t != nil {
		tr, err := subject.NewTransform(orAll(t.Source), t.Destination)
		if err != nil {
			return err
		}
		s.mu.transform = tr
	}
	if rp := cfg.RePublish; rp != nil {
		tr, err := subject.NewTransform(orAll(rp.Source), rp.Destination)
		if err != nil {
			return err
		}
		s.mu.republish = tr
	}
	return nil
}

func (s *stream) config() api.StreamConfig {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.cfg
}

// subscribe listens on the stream's subjects (and direct get).
func (s *stream) subscribe() error {
	cfg := s.config()
	var subs, direct []Subscription
	for _, subj := range cfg.Subjects {
		sub, err := s.js.subscribeIngest(s.acc.name, subj, s.enqueue)
		if err != nil {
			return fmt.Errorf("subscribe %s: %w", subj, err)
		}
		subs = append(subs, sub)
	}
	if cfg.AllowDirect {
		for _, subj := range []string{"$JS.API.DIRECT.GET." + s.name, "$JS.API.DIRECT.GET." + s.name + ".>"} {
			sub, err := s.js.subscribeInline(s.acc.name, subj, s.directGet)
			if err != nil {
				return err
			}
			direct = append(direct, sub)
		}
	}
	s.mu.Lock()
	s.mu.subs, s.mu.directSub = subs, direct
	s.mu.Unlock()
	return nil
}

func (s *stream) unsubscribe() {
	s.mu.Lock()
	subs := append(s.mu.subs, s.mu.directSub...)
	s.mu.subs, s.mu.directSub = nil, nil
	s.mu.Unlock()
	for _, sub := range subs {
		s.js.b.Unsubscribe(sub)
	}
}

// stop ends the stream: unsubscribes, drains the ingest loop, and stops
// (or with remove, deletes) the store.
func (s *stream) stop(remove bool) error {
	s.mu.Lock()
	if s.mu.closed {
		s.mu.Unlock()
		return nil
	}
	s.mu.closed = true
	s.mu.Unlock()
	s.unsubscribe()
	s.stopSources()
	s.in.close()
	<-s.done
	s.stopConsumers(remove) // consumers hook: see consumers.go
	if s.schedTimer != nil {
		s.schedTimer.Stop()
	}
	s.acc.mu.Lock()
	if s.acc.mu.streams[s.name] == s {
		delete(s.acc.mu.streams, s.name)
	}
	s.acc.mu.Unlock()
	if remove {
		err := s.st.Delete()
		if s.dir != "" {
			os.RemoveAll(s.dir)
		}
		return err
	}
	return s.st.Stop()
}

// update applies a checked new config.
func (s *stream) update(cfg api.StreamConfig) error {
	if err := s.st.UpdateConfig(storeConfig(&cfg, s.js)); err != nil {
		return err
	}
	s.mu.Lock()
	old := s.mu.cfg
	s.mu.cfg = cfg
	err := s.compileLocked()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if s.dir != "" {
		if err := s.writeMeta(); err != nil {
			return err
		}
	}
	if !reflect.DeepEqual(old.Mirror, cfg.Mirror) || !reflect.DeepEqual(old.Sources, cfg.Sources) || old.MirrorDirect != cfg.MirrorDirect {
		s.stopSources()
		s.startSources()
	}
	if !reflect2Equal(old.Subjects, cfg.Subjects) || old.AllowDirect != cfg.AllowDirect {
		s.unsubscribe()
		return s.subscribe()
	}
	return nil
}

func reflect2Equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// state converts the store's state to the API's.
func (s *stream) state(deleted bool) api.StreamState {
	var st store.State
	if deleted {
		st = s.st.StateWithDeleted()
	} else {
		st = s.st.State()
	}
	out := api.StreamState{
		Msgs: st.Msgs, Bytes: st.Bytes, FirstSeq: st.FirstSeq, LastSeq: st.LastSeq,
		FirstTime: st.FirstTime.UTC(), LastTime: st.LastTime.UTC(),
		NumSubjects: st.NumSubjects, NumDeleted: st.NumDeleted, Deleted: st.Deleted, Consumers: st.Consumers,
	}
	if st.Msgs == 0 && st.LastSeq == 0 {
		out.FirstSeq = 0 // an empty, never written stream, as nats-server shows it
	}
	if st.Lost != nil {
		out.Lost = &api.LostStreamData{Msgs: st.Lost.Msgs, Bytes: st.Lost.Bytes}
	}
	return out
}

// info builds StreamInfo; cfg gets the server's version metadata.
func (s *stream) info(deleted bool) *api.StreamInfo {
	cfg := s.config()
	cfg.Metadata = withVersionMetadata(cfg.Metadata, requiredLevel(&cfg))
	mirror, sources := s.sourcesInfo()
	return &api.StreamInfo{
		Config:    cfg,
		Created:   s.created.UTC(),
		State:     s.state(deleted),
		Domain:    s.js.cfg.Domain,
		Mirror:    mirror,
		Sources:   sources,
		TimeStamp: time.Now().UTC(),
	}
}

func (s *stream) onLost(lost store.LostData) {
	s.js.log.Errorf("JetStream stream '%s > %s' lost %d messages (%d bytes) to corruption", s.acc.name, s.name, len(lost.Msgs), lost.Bytes)
}
