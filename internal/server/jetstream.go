package server

import (
	"errors"

	"github.com/sluicehq/sluice/internal/server/jetstream"
	opjwt "github.com/sluicehq/sluice/internal/server/jwt"
	"github.com/sluicehq/sluice/pkg/conf"
)

// jsBroker gives the jetstream package what it needs of the server.
type jsBroker struct{ s *Server }

func (b jsBroker) Subscribe(account, subj string, cb jetstream.MsgHandler) (jetstream.Subscription, error) {
	acc := b.s.accs.lookup(account)
	if acc == nil {
		return nil, errors.New("no account " + account)
	}
	return b.s.SubscribeInternal(acc, subj, "", MsgHandler(cb))
}

// SubscribeInline is Subscribe for quick callbacks that may run on a
// publishing client's read loop (direct get).
func (b jsBroker) SubscribeInline(account, subj string, cb jetstream.MsgHandler) (jetstream.Subscription, error) {
	acc := b.s.accs.lookup(account)
	if acc == nil {
		return nil, errors.New("no account " + account)
	}
	return b.s.SubscribeInternalInline(acc, subj, MsgHandler(cb))
}

// SubscribeOwning is SubscribeInline for a callback that keeps messages.
func (b jsBroker) SubscribeOwning(account, subj string, cb jetstream.OwningHandler) (jetstream.Subscription, error) {
	acc := b.s.accs.lookup(account)
	if acc == nil {
		return nil, errors.New("no account " + account)
	}
	return b.s.SubscribeInternalOwning(acc, subj, OwningMsgHandler(cb))
}

func (b jsBroker) Unsubscribe(sub jetstream.Subscription) {
	if is, ok := sub.(*InternalSub); ok {
		b.s.UnsubscribeInternal(is)
	}
}

func (b jsBroker) Publish(account, subj, reply string, hdr, msg []byte) {
	if acc := b.s.accs.lookup(account); acc != nil {
		b.s.PublishInternal(acc, subj, reply, hdr, msg)
	}
}

// PublishBatch is Publish for n messages into account, with one flush of
// their receivers at the end (a group commit's acks).
func (b jsBroker) PublishBatch(account string, n int, at func(i int) (subj, reply string, hdr, msg []byte)) {
	b.internalBatch(account, func(c *client, _ *Account) {
		// Subjects are copied into reused buffers: publish borrows them
		// as it does a read buffer's.
		var buf, sb, rb []byte
		for i := 0; i < n; i++ {
			subj, reply, hdr, msg := at(i)
			sb, rb = append(sb[:0], subj...), append(rb[:0], reply...)
			c.publish(sb, rb, len(hdr), joinHeaders(&buf, hdr, msg))
		}
	})
}

// internalBatch runs fn with the server's internal publisher in account
// (under its lock), then wakes the receivers of what fn sent, once.
func (b jsBroker) internalBatch(account string, fn func(c *client, acc *Account)) {
	acc := b.s.accs.lookup(account)
	if acc == nil {
		return
	}
	s := b.s
	s.ipub.Lock()
	defer s.ipub.Unlock()
	c := s.internalPublisherLocked(acc)
	fn(c, acc)
	c.endBatch()
}

// joinHeaders is a message as the delivery path takes it: headers and
// payload in one buffer (buf, reused, when there are headers).
func joinHeaders(buf *[]byte, hdr, msg []byte) []byte {
	if len(hdr) == 0 {
		return msg
	}
	*buf = append(append((*buf)[:0], hdr...), msg...)
	return *buf
}

func (b jsBroker) Accounts() []string {
	var out []string
	for _, a := range b.s.accs.all() {
		out = append(out, a.Name)
	}
	return out
}

func (b jsBroker) SystemAccount() string {
	if b.s.sysAcc == nil {
		return ""
	}
	return b.s.sysAcc.Name
}

func (b jsBroker) ServerID() string   { return b.s.id }
func (b jsBroker) ServerName() string { return b.s.Name() }

// startJetStream starts JetStream when the options enable it.
func (s *Server) startJetStream() error {
	cfg := s.getOpts().JetStream
	if cfg == nil || !cfg.Enabled {
		return nil
	}
	js, err := jetstream.New(*cfg, jsBroker{s}, s.log)
	if err != nil {
		return err
	}
	if err := js.Start(); err != nil {
		return err
	}
	s.js.Store(js)
	s.mu.Lock()
	s.mu.info.JetStream = true
	s.mu.info.Domain = js.Config().Domain
	s.mu.Unlock()
	s.jwtJetStreamAll()
	return nil
}

// jwtJetStream puts an account JWT's JetStream limits in force (operator
// mode): enabled, updated or disabled as the JWT says.
func (s *Server) jwtJetStream(name string, l opjwt.Limits) {
	js := s.js.Load()
	if js == nil {
		return
	}
	if err := js.SetAccount(name, jetstream.LimitsFromJWT(l.JetStreamEnabledFlag, l.JetStream, l.JetStreamTiered)); err != nil {
		s.log.Errorf("Error configuring jetstream for account [%s]: %v", name, err)
	}
}

// jwtJetStreamAll applies the JWT accounts installed before JetStream
// started.
func (s *Server) jwtJetStreamAll() {
	if s.op == nil {
		return
	}
	s.op.mu.Lock()
	names := make([]string, 0, len(s.op.mu.accs))
	for name := range s.op.mu.accs {
		names = append(names, name)
	}
	s.op.mu.Unlock()
	for _, name := range names {
		if l, ok := s.AccountJWTLimits(name); ok {
			s.jwtJetStream(name, l)
		}
	}
}

func (s *Server) stopJetStream() {
	if js := s.js.Load(); js != nil {
		js.Stop()
	}
}

// reloadJetStream applies a new JetStream configuration when only the
// accounts' limits changed (what nats-server applies at reload); anything
// else needs a restart and is reported as kept.
func (s *Server) reloadJetStream(next *jetstream.Config) bool {
	js := s.js.Load()
	if js == nil || next == nil {
		return false
	}
	return js.Reload(*next)
}

// JetStream is the server's JetStream engine, nil when disabled.
func (s *Server) JetStream() *jetstream.JetStream { return s.js.Load() }

// jsConfig is the options' JetStream configuration, created on first use.
func (r *configReader) jsConfig() *jetstream.Config {
	if r.opts.JetStream == nil {
		r.opts.JetStream = &jetstream.Config{}
	}
	return r.opts.JetStream
}

func (r *configReader) addJSIssues(issues []jetstream.Issue) {
	for _, is := range issues {
		if is.Warning {
			r.warnf(is.Pos, "%s", is.Msg)
		} else {
			r.errorf(is.Pos, "%s", is.Msg)
		}
	}
}

// readJetStream hands the jetstream value to the jetstream package.
func readJetStream(r *configReader, _ string, it *conf.Item) {
	r.addJSIssues(r.jsConfig().ParseServer(it, r.strict))
}

func readStoreDir(r *configReader, key string, it *conf.Item) {
	if s, ok := r.str(key, it); ok && s != "" {
		r.jsConfig().StoreDir = s
	}
}

// readAccountJetStream reads accounts.<name>.jetstream.
func (r *configReader) readAccountJetStream(account string, it *conf.Item) {
	l, issues := jetstream.ParseAccount(it, account, r.strict)
	r.addJSIssues(issues)
	c := r.jsConfig()
	if c.Accounts == nil {
		c.Accounts = map[string]*jetstream.AccountLimits{}
	}
	if l != nil {
		c.Accounts[account] = l
	}
}
