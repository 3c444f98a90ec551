package jetstream

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/sluicehq/sluice/pkg/api"
)

// jsAccount is one JetStream-enabled account: its limits, streams and API
// counters.
type jsAccount struct {
	js     *JetStream
	name   string
	dir    string                        // <store_dir>/jetstream/<account>/streams
	limits atomic.Pointer[AccountLimits] // replaced whole at reload
	// createMu serialises create, update and delete of streams.
	createMu sync.Mutex

	apiTotal, apiErrors atomic.Uint64

	mu struct {
		sync.RWMutex
		streams map[string]*stream
	}
}

// SetAccount puts an account's JetStream setting in force at run time
// (operator mode: an account JWT installed, updated or reloaded):
// limits enables JetStream for the account, or replaces the limits of an
// enabled one (streams already over them are kept, as in nats-server);
// nil disables it, stopping its streams and keeping their data on disk.
// Either way the account's $JS.API is subscribed, so an account without
// JetStream is told so. The system account never gets JetStream.
func (js *JetStream) SetAccount(name string, limits *AccountLimits) error {
	js.setMu.Lock()
	defer js.setMu.Unlock()
	js.mu.Lock()
	stopped := js.mu.stopped
	js.mu.Unlock()
	if stopped {
		return errors.New("jetstream: stopped")
	}
	if err := js.subscribeAPI(name); err != nil {
		return err
	}
	if name == js.b.SystemAccount() {
		limits = nil
	}
	a := js.account(name)
	switch {
	case limits == nil && a != nil:
		js.mu.Lock()
		delete(js.mu.accounts, name)
		js.mu.Unlock()
		a.stop()
		js.log.Noticef("JetStream disabled for account %q", name)
	case limits != nil && a != nil:
		a.limits.Store(normalizeLimits(limits))
	case limits != nil:
		if _, err := js.enableAccount(name, limits); err != nil {
			return err
		}
		js.log.Noticef("JetStream enabled for account %q", name)
	}
	return nil
}

// normalizeLimits copies the R1 tier's consumer limits to the account
// level when the account level leaves them open: a single server only has
// R1 streams, and consumers read the account level.
func normalizeLimits(l *AccountLimits) *AccountLimits {
	r1, ok := l.Tiers["R1"]
	if !ok {
		return l
	}
	out := *l
	if out.MaxAckPending <= 0 {
		out.MaxAckPending = r1.MaxAckPending
	}
	if out.MaxConsumers <= 0 {
		out.MaxConsumers = r1.MaxConsumers
	}
	return &out
}

// enableAccount turns JetStream on for an account and opens the file
// streams it has on disk.
func (js *JetStream) enableAccount(name string, limits *AccountLimits) (*jsAccount, error) {
	a := &jsAccount{js: js, name: name, dir: filepath.Join(js.cfg.StoreDir, name, "streams")}
	a.limits.Store(normalizeLimits(limits))
	a.mu.streams = map[string]*stream{}
	js.mu.Lock()
	js.mu.accounts[name] = a
	js.mu.Unlock()
	if err := a.recover(); err != nil {
		return nil, err
	}
	return a, nil
}

// recover reopens every stream whose metadata is on disk.
func (a *jsAccount) recover() error {
	ents, err := os.ReadDir(a.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		m, err := a.readStreamMeta(filepath.Join(a.dir, e.Name()))
		if err != nil {
			a.js.log.Errorf("  Error reading stream metadata of %q in account %q: %v", e.Name(), a.name, err)
			continue
		}
		s, err := a.openStream(m.Config, m.Created)
		if err != nil {
			a.js.log.Warnf("  Error recreating stream %q in account %q: %v", m.Config.Name, a.name, err)
			continue
		}
		st := s.st.State()
		a.js.restored.Add(st.Msgs)
		a.js.log.Noticef("  Restored %d messages for stream '%s > %s'", st.Msgs, a.name, m.Config.Name)
	}
	return nil
}

func (a *jsAccount) stop() {
	a.mu.Lock()
	streams := make([]*stream, 0, len(a.mu.streams))
	for _, s := range a.mu.streams {
		streams = append(streams, s)
	}
	a.mu.Unlock()
	for _, s := range streams {
		s.stop(false)
	}
}

func (a *jsAccount) lookup(name string) *stream {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.mu.streams[name]
}

// streams returns the account's streams sorted by name.
func (a *jsAccount) streams() []*stream {
	a.mu.RLock()
	out := make([]*stream, 0, len(a.mu.streams))
	for _, s := range a.mu.streams {
		out = append(out, s)
	}
	a.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// usage adds up the account's streams.
func (a *jsAccount) usage() (mem, store uint64, streams, consumers int) {
	for _, s := range a.streams() {
		st := s.st.State()
		if s.config().Storage == api.MemoryStorage {
			mem += st.Bytes
		} else {
			store += st.Bytes
		}
		streams++
		consumers += st.Consumers
	}
	return
}

// info is the body of $JS.API.INFO.
func (a *jsAccount) info() *api.JetStreamAccountStats {
	mem, store, ns, nc := a.usage()
	lim := a.limits.Load()
	tier := api.JetStreamTier{Memory: mem, Store: store, Streams: ns, Consumers: nc, Limits: lim.JetStreamAccountLimits}
	st := &api.JetStreamAccountStats{
		JetStreamTier: tier,
		Domain:        a.js.cfg.Domain,
		API:           api.JetStreamAPIStats{Level: APILevel, Total: a.apiTotal.Load(), Errors: a.apiErrors.Load()},
	}
	if len(lim.Tiers) > 0 {
		st.Tiers = map[string]api.JetStreamTier{}
		for name, l := range lim.Tiers {
			t := api.JetStreamTier{Limits: l}
			if name == "R1" {
				t.Memory, t.Store, t.Streams, t.Consumers = mem, store, ns, nc
			}
			st.Tiers[name] = t
		}
	}
	return st
}

// limitsFor picks the limits that apply to a stream with r replicas: the
// tier's (R<r>) when tiers are configured, else the account's.
func (a *jsAccount) limitsForReplicas(r int) (api.JetStreamAccountLimits, bool) {
	lim := a.limits.Load()
	if len(lim.Tiers) == 0 {
		return lim.JetStreamAccountLimits, true
	}
	if r < 1 {
		r = 1
	}
	l, ok := lim.Tiers["R"+itoa(r)]
	return l, ok
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
