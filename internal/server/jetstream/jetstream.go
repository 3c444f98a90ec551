package jetstream

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/pkg/api"
)

// APILevel is the JetStream API level sluice reports: 3, the level
// jsm.go v0.5.1 gives allow_batched (fast batch publish). Level 1 is TTLs
// and subject delete markers; 2 counters, atomic batches, schedules and
// async persistence. nats-server v2.15.2 reports 5: its level 4 adds
// durable (consumer-backed) sourcing, AckFlowControl consumers and
// consumer reset, which sluice does not have, so 4 is not claimed (and
// natscli's `bench js pub fast`, which asks for 4, refuses to run).
const APILevel = 3

// MsgHandler receives a message of an internal subscription; the slices
// belong to the handler.
type MsgHandler func(subject, reply string, hdr, msg []byte)

// Subscription is an internal subscription handle from the Broker.
type Subscription any

// Broker is what JetStream needs of the server.
type Broker interface {
	// Subscribe registers cb for subj in account. Callbacks must not block.
	Subscribe(account, subj string, cb MsgHandler) (Subscription, error)
	Unsubscribe(sub Subscription)
	// Publish sends a message into account as if a client published it.
	Publish(account, subj, reply string, hdr, msg []byte)
	// Accounts lists the names of every account the server knows.
	Accounts() []string
	// SystemAccount is the system account's name ("" when none).
	SystemAccount() string
	ServerID() string
	ServerName() string
}

// InlineBroker is what a Broker may add: subscriptions whose callback
// runs on the publisher's goroutine. The callback must be quick, must not
// block and must copy hdr and msg to keep them.
type InlineBroker interface {
	SubscribeInline(account, subj string, cb MsgHandler) (Subscription, error)
}

// OwningHandler is a MsgHandler told whether hdr and msg (one buffer) are
// its to keep, and whether its caller, a publishing client's read loop,
// may wait: a handler that cannot take the message yet then returns a
// channel, and is called again with the same message once it is closed or
// the caller stops waiting (mayWait false then).
type OwningHandler func(subject, reply string, hdr, msg []byte, owned, mayWait bool) (wait <-chan struct{})

// OwningBroker is what a Broker may add: inline subscriptions whose
// callback is told which messages it may keep without a copy.
type OwningBroker interface {
	SubscribeOwning(account, subj string, cb OwningHandler) (Subscription, error)
}

// subscribeIngest subscribes a callback that keeps the messages it is
// given: owning and inline when the broker can, else copying.
func (js *JetStream) subscribeIngest(account, subj string, cb OwningHandler) (Subscription, error) {
	if ob, ok := js.b.(OwningBroker); ok {
		return ob.SubscribeOwning(account, subj, cb)
	}
	return js.subscribeInline(account, subj, func(subject, reply string, hdr, msg []byte) {
		cb(subject, reply, hdr, msg, false, false)
	})
}

// subscribeInline subscribes inline when the broker can, else as usual.
func (js *JetStream) subscribeInline(account, subj string, cb MsgHandler) (Subscription, error) {
	if ib, ok := js.b.(InlineBroker); ok {
		return ib.SubscribeInline(account, subj, cb)
	}
	return js.b.Subscribe(account, subj, cb)
}

// Logger is the logging JetStream does.
type Logger interface {
	Noticef(format string, v ...any)
	Warnf(format string, v ...any)
	Errorf(format string, v ...any)
	Debugf(format string, v ...any)
}

// JetStream is the engine of one server.
type JetStream struct {
	cfg  Config
	b    Broker
	log  Logger
	apiq *apiQueue
	// API counters, server-wide; accounts count their own too.
	apiTotal, apiErrors, apiInflight atomic.Uint64
	fastInflight                     atomic.Int64 // fast batches open, all streams
	apiDropWarn                      atomic.Int64 // unix ns of the last queue-limit warning
	started                          time.Time
	restored                         atomic.Uint64 // messages recovered by Start (releaseRecoveryMemory)

	// setMu serialises SetAccount (JWT updates arrive from any goroutine).
	setMu sync.Mutex

	mu struct {
		sync.Mutex
		accounts map[string]*jsAccount // JetStream-enabled accounts
		subs     []Subscription        // $JS.API.> in every account
		apiAccts map[string]bool       // accounts whose API is subscribed
		stopped  bool
	}
	usage struct {
		mem, store atomic.Int64 // bytes used, all accounts
	}
	restoring sync.Map // "<account> <stream>" of restores in progress (restore.go)
}

// New prepares JetStream; Start subscribes and opens the streams on disk.
func New(cfg Config, b Broker, log Logger) (*JetStream, error) {
	if b == nil || log == nil {
		return nil, errors.New("jetstream: broker and logger are required")
	}
	js := &JetStream{cfg: cfg.resolved(), b: b, log: log}
	js.mu.accounts = map[string]*jsAccount{}
	js.mu.apiAccts = map[string]bool{}
	return js, nil
}

// Config returns the configuration in effect (defaults applied).
func (js *JetStream) Config() Config { return js.cfg }

// Start creates the store directory, enables the accounts and subscribes
// the API in every account.
func (js *JetStream) Start() error {
	cfg := js.cfg
	if err := os.MkdirAll(cfg.StoreDir, 0o750); err != nil {
		return fmt.Errorf("could not create storage directory - %v", err)
	}
	js.started = time.Now()
	js.apiq = newAPIQueue(js, cfg.RequestQueueLimit)
	js.log.Noticef("Starting JetStream")
	js.log.Noticef("  Max Memory:      %s", friendlyBytes(js.maxMemory()))
	js.log.Noticef("  Max Storage:     %s", friendlyBytes(js.maxStore()))
	js.log.Noticef("  Store Directory: \"%s\"", cfg.StoreDir)
	if cfg.Domain != "" {
		js.log.Noticef("  Domain:          %s", cfg.Domain)
	}
	if js.cfg.SyncAlways {
		js.log.Noticef("  Sync:            always (file publishes acknowledged after fsync, group commit)")
	} else {
		js.log.Noticef("  Sync Interval:   %v (acknowledged before fsync)", cfg.SyncInterval)
	}
	if e := cfg.Encryption; e.Key != "" {
		c := e.Cipher
		if c == 0 {
			c = store.ChaChaPoly
		}
		js.log.Noticef("  Encryption:      %s", c)
	}
	js.log.Noticef("  API Level:       %d", APILevel)
	sys := js.b.SystemAccount()
	for _, name := range js.b.Accounts() {
		if err := js.subscribeAPI(name); err != nil {
			return err
		}
		if name == sys {
			continue
		}
		limits := js.limitsFor(name)
		if limits == nil {
			continue
		}
		if _, err := js.enableAccount(name, limits); err != nil {
			return err
		}
	}
	if js.restored.Load() >= releaseAfterMsgs {
		releaseRecoveryMemory()
	}
	js.log.Noticef("JetStream ready")
	return nil
}

// limitsFor says which limits an account gets: its own jetstream setting,
// or, when no account is configured beyond the global one, unlimited for
// the global account ($G), as nats-server does.
func (js *JetStream) limitsFor(name string) *AccountLimits {
	if l, ok := js.cfg.Accounts[name]; ok {
		return l
	}
	if name == "$G" && len(js.cfg.Accounts) == 0 {
		return Unlimited()
	}
	return nil
}

func (js *JetStream) subscribeAPI(account string) error {
	js.mu.Lock()
	done := js.mu.apiAccts[account] || js.mu.stopped
	js.mu.apiAccts[account] = true
	js.mu.Unlock()
	if done {
		return nil
	}
	// Only the API families built: DIRECT.GET belongs to each stream that
	// allows it, so a get on any other stream finds no responders, as in
	// nats-server.
	var prefixes []string
	for _, pre := range []string{"$JS.API."} {
		prefixes = append(prefixes, pre+"INFO", pre+"STREAM.>")
		prefixes = append(prefixes, consumerAPISubjects(pre)...) // consumers hook: see api_consumer.go
	}
	if d := js.cfg.Domain; d != "" {
		prefixes = append(prefixes, "$JS."+d+".API.INFO", "$JS."+d+".API.STREAM.>", "$JS."+d+".API.DIRECT.GET.>")
		prefixes = append(prefixes, consumerAPISubjects("$JS."+d+".API.")...) // consumers hook: see api_consumer.go
		prefixes = append(prefixes, kvDomainSubjects(d)...)                   // see kv_domain.go
	}
	for _, p := range prefixes {
		sub, err := js.b.Subscribe(account, p, func(subj, reply string, hdr, msg []byte) {
			js.apiRequest(account, subj, reply, hdr, msg)
		})
		if err != nil {
			return fmt.Errorf("jetstream: subscribe %s in %s: %w", p, account, err)
		}
		js.mu.Lock()
		js.mu.subs = append(js.mu.subs, sub)
		js.mu.Unlock()
	}
	return nil
}

// Stop stops every stream (flushing file stores) and the API.
func (js *JetStream) Stop() {
	js.mu.Lock()
	if js.mu.stopped {
		js.mu.Unlock()
		return
	}
	js.mu.stopped = true
	subs := js.mu.subs
	accs := make([]*jsAccount, 0, len(js.mu.accounts))
	for _, a := range js.mu.accounts {
		accs = append(accs, a)
	}
	js.mu.Unlock()
	for _, s := range subs {
		js.b.Unsubscribe(s)
	}
	if js.apiq != nil {
		js.apiq.stop()
	}
	for _, a := range accs {
		a.stop()
	}
	js.log.Noticef("JetStream stopped")
}

func (js *JetStream) account(name string) *jsAccount {
	js.mu.Lock()
	defer js.mu.Unlock()
	return js.mu.accounts[name]
}

func (js *JetStream) accountList() []*jsAccount {
	js.mu.Lock()
	defer js.mu.Unlock()
	out := make([]*jsAccount, 0, len(js.mu.accounts))
	for _, a := range js.mu.accounts {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// AccountEnabled reports whether account has JetStream.
func (js *JetStream) AccountEnabled(account string) bool { return js.account(account) != nil }

func (js *JetStream) maxMemory() int64 {
	if js.cfg.MaxMemory > 0 {
		return js.cfg.MaxMemory
	}
	return systemMemory() * 3 / 4
}

func (js *JetStream) maxStore() int64 {
	if js.cfg.MaxStore > 0 {
		return js.cfg.MaxStore
	}
	return 1 << 40 // 1 TB, nats-server's default when the disk is not measured
}

func friendlyBytes(n int64) string {
	f := float64(n)
	for _, u := range []string{"B", "KB", "MB", "GB", "TB"} {
		if f < 1024 || u == "TB" {
			if u == "B" {
				return fmt.Sprintf("%d B", n)
			}
			return fmt.Sprintf("%.2f %s", f, u)
		}
		f /= 1024
	}
	return ""
}

// apiStats is the server-wide API figure of /jsz and /varz.
func (js *JetStream) apiStats() api.JetStreamAPIStats {
	return api.JetStreamAPIStats{Level: APILevel, Total: js.apiTotal.Load(), Errors: js.apiErrors.Load(), Inflight: js.apiInflight.Load()}
}

// Reload applies cfg when it differs from the running configuration only
// in the accounts' limits: existing accounts get their new limits (streams
// already over them are kept), newly listed accounts are enabled. It
// returns false, changing nothing, for any other difference.
func (js *JetStream) Reload(cfg Config) bool {
	cur, next := js.cfg, cfg.resolved()
	cur.Accounts, next.Accounts = nil, nil
	if !reflect.DeepEqual(cur, next) {
		return false
	}
	for name, l := range cfg.Accounts {
		if l == nil {
			continue
		}
		if js.b.SystemAccount() != name {
			if err := js.SetAccount(name, l); err != nil {
				js.log.Errorf("JetStream: enabling account %q at reload: %v", name, err)
			}
		}
	}
	js.mu.Lock()
	js.cfg.Accounts = cfg.Accounts
	js.mu.Unlock()
	return true
}
