package memstore

import (
	"sync"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/internal/engine"
)

// payload is a message's header and data in one buffer.
type payload struct {
	b    []byte
	hlen int32
}

type backend struct{}

func (backend) Append(_ uint64, _, _ int64, _ string, hdr, data []byte) (payload, error) {
	b := make([]byte, len(hdr)+len(data))
	copy(b, hdr)
	copy(b[len(hdr):], data)
	return payload{b: b, hlen: int32(len(hdr))}, nil
}

func (backend) Skip(uint64, uint64) error { return nil }

func (backend) Read(_ uint64, p payload, m *store.Msg) error {
	if p.hlen > 0 {
		m.Header = p.b[:p.hlen:p.hlen]
	}
	m.Data = p.b[p.hlen:]
	return nil
}

func (backend) Remove(rm []engine.Removed[payload], erase bool) (int, error) {
	// Loaded messages share the buffer, so erasing only drops it: the
	// bytes go with the garbage collector, and readers keep their copy.
	return len(rm), nil
}

func (backend) Compact(uint64, []engine.Removed[payload]) error  { return nil }
func (backend) Truncate(uint64, []engine.Removed[payload]) error { return nil }

// Store is a memory store.
type Store struct {
	*engine.Engine[payload]

	cmu       sync.Mutex
	consumers map[string]*consumerStore
}

var _ store.Store = (*Store)(nil)

// New returns an empty memory store.
func New(cfg store.Config, log store.Logger) (*Store, error) {
	e, err := engine.New(cfg, engine.Backend[payload](backend{}), engine.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	return &Store{Engine: e, consumers: make(map[string]*consumerStore)}, nil
}

// Type implements store.Store.
func (*Store) Type() store.StorageType { return store.MemoryStorage }

// Sync implements store.Store: nothing to do in memory.
func (s *Store) Sync() error { return nil }

// Stop implements store.Store.
func (s *Store) Stop() error {
	s.Lock()
	defer s.Unlock()
	if s.ClosedLocked() {
		return store.ErrStoreClosed
	}
	s.CloseLocked()
	return nil
}

// Delete implements store.Store.
func (s *Store) Delete() error {
	if err := s.Stop(); err != nil && err != store.ErrStoreClosed {
		return err
	}
	return nil
}

// State adds the consumer count to the engine's state.
func (s *Store) State() store.State {
	st := s.Engine.State()
	s.cmu.Lock()
	st.Consumers = len(s.consumers)
	s.cmu.Unlock()
	return st
}

// StateWithDeleted adds the consumer count to the engine's state.
func (s *Store) StateWithDeleted() store.State {
	st := s.Engine.StateWithDeleted()
	s.cmu.Lock()
	st.Consumers = len(s.consumers)
	s.cmu.Unlock()
	return st
}

// ConsumerStore implements store.Store.
func (s *Store) ConsumerStore(name string) (store.ConsumerStore, error) {
	if name == "" {
		return nil, store.ErrBadConfig
	}
	s.cmu.Lock()
	defer s.cmu.Unlock()
	if c := s.consumers[name]; c != nil {
		return c, nil
	}
	c := &consumerStore{s: s, name: name}
	s.consumers[name] = c
	return c, nil
}

type consumerStore struct {
	s    *Store
	name string
	mu   sync.Mutex
	st   *store.ConsumerState
}

func (c *consumerStore) Update(st *store.ConsumerState) error {
	c.mu.Lock()
	c.st = store.CopyConsumerState(st)
	c.mu.Unlock()
	return nil
}

func (c *consumerStore) State() (*store.ConsumerState, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st == nil {
		return &store.ConsumerState{}, nil
	}
	return store.CopyConsumerState(c.st), nil
}

func (c *consumerStore) Sync() error { return nil }
func (c *consumerStore) Stop() error { return nil }

// NewDetachedConsumerStore keeps a consumer's state in memory without
// registering it with any stream store, so it is not counted in the
// stream's state (nats-server does not record direct consumers there).
func NewDetachedConsumerStore(name string) store.ConsumerStore {
	return &consumerStore{name: name}
}

func (c *consumerStore) Delete() error {
	if c.s == nil {
		return nil
	}
	c.s.cmu.Lock()
	delete(c.s.consumers, c.name)
	c.s.cmu.Unlock()
	return nil
}
