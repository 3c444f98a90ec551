package server

import (
	"sync"
	"sync/atomic"

	"github.com/sluicehq/sluice/internal/server/subject"
)

const globalAccountName = "$G"

// Account is an isolated subject namespace: its own subscription index and
// its own connections.
type Account struct {
	Name string
	sl   *subject.Sublist[*subscription]

	numClients atomic.Int32
	limits     accountLimits // account_limits.go
	// mappings rewrite published subjects; nil (the common case) costs a
	// publisher one atomic load. A reload swaps in a new set.
	mappings atomic.Pointer[subject.MappingSet]
	// traceDest is where sampled traceparent messages are traced; nil for none.
	traceDest atomic.Pointer[traceDest]

	imu        sync.Mutex      // guards what follows
	importSubs []*subscription // import subscriptions held in sl
	resp       *responseMap    // requests in flight through service imports
	stats      accountStats    // monitoring counters (monitor_accounts.go)
}

func newAccount(name string) *Account {
	return &Account{Name: name, sl: subject.NewSublist[*subscription]()}
}

// NumSubscriptions is the number of subscriptions in the account.
func (a *Account) NumSubscriptions() int { return a.sl.Count() }

// NumClients is the number of connections bound to the account.
func (a *Account) NumClients() int { return int(a.numClients.Load()) }

// accountRegistry finds accounts by name. Accounts may be added at any time
// (later from a resolver), so nothing caches the set.
type accountRegistry struct {
	mu   sync.RWMutex
	accs map[string]*Account
}

func newAccountRegistry() *accountRegistry {
	return &accountRegistry{accs: make(map[string]*Account)}
}

// register adds a, or returns the account already registered by that name.
func (r *accountRegistry) register(a *Account) *Account {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.accs[a.Name]; ok {
		return old
	}
	r.accs[a.Name] = a
	return a
}

func (r *accountRegistry) all() []*Account {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*Account, 0, len(r.accs))
	for _, a := range r.accs {
		out = append(out, a)
	}
	return out
}

func (r *accountRegistry) lookup(name string) *Account {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.accs[name]
}

// LookupAccount returns the named account, or nil.
func (s *Server) LookupAccount(name string) *Account { return s.accs.lookup(name) }

// GlobalAccount is the default account ($G) of connections without one.
func (s *Server) GlobalAccount() *Account { return s.accs.lookup(globalAccountName) }

// SystemAccount is the account of $SYS traffic, nil when disabled.
func (s *Server) SystemAccount() *Account { return s.sysAcc }

// registerAccounts adds the configured accounts not yet known and puts
// their mappings in force. Accounts are never removed while running:
// clients of users that are gone are cut on reload, and an empty account
// costs next to nothing.
func (s *Server) registerAccounts(o *Options) {
	for _, ac := range o.Accounts {
		s.accs.register(newAccount(ac.Name))
		s.SetAccountLimits(ac.Name, ac.limits())
	}
	for _, a := range s.accs.all() {
		a.mappings.Store(o.mapSets[a.Name]) // nil when it has none (any more)
		a.traceDest.Store(nil)
	}
	for _, ac := range o.Accounts {
		if ac.TraceDest != "" {
			s.accs.lookup(ac.Name).traceDest.Store(&traceDest{dest: ac.TraceDest, sampling: ac.TraceSampling})
		}
	}
	s.configureImports(o)
}

// Match counts the subscriptions (local and remote) interested in subj.
func (a *Account) Match(subj string) int { return a.sl.Match(subj).Len() }
