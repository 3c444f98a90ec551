package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	njwt "github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/sluicehq/sluice/internal/server/auth"
	"github.com/sluicehq/sluice/internal/server/callout"
	opjwt "github.com/sluicehq/sluice/internal/server/jwt"
	"github.com/sluicehq/sluice/internal/server/subject"
	"github.com/sluicehq/sluice/internal/version"
	"github.com/sluicehq/sluice/pkg/api"
)

// Operator mode wiring: accounts are named by their public keys and come
// from a resolver as JWTs; the jwt package verifies and translates them,
// this file puts them in force (accounts, imports, limits, expiry) and
// re-checks connected clients when a JWT changes.

// Close reasons and errors of operator mode, nats-server's texts.
const (
	reasonAuthExpired closeReason = "Authentication Expired"
	reasonRevoked     closeReason = "Credentials Revoked"

	errTextUserExpired    = "User Authentication Expired"
	errTextAccountExpired = "Account Authentication Expired"
	errTextRevoked        = "User Authentication Revoked"
)

// operatorMode is the state of a server trusting operators.
type operatorMode struct {
	trust  *opjwt.Trust
	res    opjwt.Resolver
	claims *opjwt.Claims

	mu struct {
		sync.Mutex
		accs    map[string]*jwtAccount
		relinkT *time.Timer
	}
	checkers sync.Map // user JWT + account JWT signatures -> *auth.Checker
	callers  sync.Map // account JWT signature -> *callout.Caller
	nChecked atomic.Int32
	// pinned is resolver_pinned_accounts plus the system account; nil
	// lets every account in. pinnedFails counts the logins it refused.
	pinned      map[string]bool
	pinnedFails atomic.Uint64
	sentinel    string // default_sentinel
}

// jwtAccount is an account known from a JWT.
type jwtAccount struct {
	tok    string
	claims *njwt.AccountClaims
	spec   *opjwt.Spec
	expT   *time.Timer
}

// jwtLogin is what a login by user JWT adds to an identity.
type jwtLogin struct {
	expires       time.Time
	subs, payload int64 // -1 = no limit
	// For a user JWT from a callout service: its key and issue time.
	calloutUser string
	calloutIat  int64
	// For $SYS.REQ.USER.INFO: the permissions in force and the names.
	perms             *auth.Permissions
	userName, accName string
	// For /connz?auth=1: the user's key (JWT logins only, not callouts),
	// the key that issued it, its tags, and whether it is a bearer JWT
	// (never shown).
	userKey, issuerKey string
	tags               []string
	bearer             bool
}

// issuerKeyOf is the key nats-server reports as a user JWT's issuer: the
// signing key when one was used, else the account.
func issuerKeyOf(uc *njwt.UserClaims, acc string) string {
	if uc.IssuerAccount != "" {
		return uc.Issuer
	}
	return acc
}

func (o *Options) operatorMode() bool { return len(o.TrustedOperators) > 0 || len(o.TrustedKeys) > 0 }

// initOperator sets up operator mode from the options: trust, resolver,
// preloads, and the system account's JWT if the resolver has it.
func (s *Server) initOperator(o *Options) error {
	if !o.operatorMode() {
		if o.AccountResolver != nil || len(o.ResolverPreload) > 0 {
			return errors.New("resolver and resolver_preload need operator mode (operator or trusted_keys)")
		}
		return nil
	}
	var ops []*njwt.OperatorClaims
	for _, tok := range o.TrustedOperators {
		_, oc, err := opjwt.ReadOperator(tok)
		if err != nil {
			return err
		}
		ops = append(ops, oc)
	}
	trust, err := opjwt.NewTrust(ops, o.TrustedKeys)
	if err != nil {
		return err
	}
	rc := *o.AccountResolver
	rc.TLS = o.ResolverTLS
	res, err := rc.Open()
	if err != nil {
		return fmt.Errorf("account resolver: %w", err)
	}
	m := &operatorMode{trust: trust, res: res, sentinel: o.DefaultSentinel}
	if len(o.ResolverPinnedAccounts) > 0 {
		m.pinned = map[string]bool{}
		for _, k := range o.ResolverPinnedAccounts {
			m.pinned[k] = true
		}
		if o.SystemAccount != "" {
			m.pinned[o.SystemAccount] = true
		}
	}
	m.mu.accs = map[string]*jwtAccount{}
	m.claims = &opjwt.Claims{Trust: trust, Resolver: res, Apply: (*jwtApplier)(s), Log: s.log}
	keys := make([]string, 0, len(o.ResolverPreload))
	for k := range o.ResolverPreload {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		tok := o.ResolverPreload[k]
		if _, err := trust.DecodeAccount(tok); err != nil {
			return fmt.Errorf("resolver_preload: account %s: %w", k, err)
		}
		if _, err := res.Store(k, tok); err != nil {
			return fmt.Errorf("resolver_preload: account %s: %w", k, err)
		}
	}
	s.op = m
	if s.sysAcc != nil {
		if _, _, err := s.jwtAccountFor(s.sysAcc.Name); err != nil && !errors.Is(err, opjwt.ErrNotFound) {
			s.log.Warnf("System account %s: %v", s.sysAcc.Name, err)
		}
	}
	return nil
}

// validateOperator checks operator mode options as nats-server does, and
// takes the system account from the operator JWT when the options name
// none (the default $SYS counts as none: it is no account key).
func (o *Options) validateOperator() error {
	if !o.operatorMode() {
		if o.AccountResolver != nil || len(o.ResolverPreload) > 0 {
			return errors.New("resolver and resolver_preload need operator mode (operator or trusted_keys)")
		}
		if o.DefaultSentinel != "" {
			return errors.New("default sentinel requires operators and accounts")
		}
		return nil
	}
	if o.DefaultSentinel != "" {
		if err := opjwt.CheckSentinel(o.DefaultSentinel); err != nil {
			return err
		}
	}
	for _, k := range o.ResolverPinnedAccounts {
		if !nkeys.IsValidPublicAccountKey(k) {
			return fmt.Errorf("pinned account key %q is not a valid public account nkey", k)
		}
	}
	var ops []*njwt.OperatorClaims
	for _, tok := range o.TrustedOperators {
		_, oc, err := opjwt.ReadOperator(tok)
		if err != nil {
			return err
		}
		ops = append(ops, oc)
	}
	switch {
	case o.AccountResolver == nil:
		return errors.New("operators require an account resolver to be configured")
	case len(o.Accounts) > 0:
		return errors.New("operators do not allow Accounts to be configured directly")
	case len(o.Users) > 0 || len(o.Nkeys) > 0 || o.Username != "" || o.Authorization != "":
		return errors.New("operators do not allow users to be configured directly")
	case len(ops) > 0 && len(o.TrustedKeys) > 0:
		return errors.New("conflicting options for 'TrustedKeys' and 'TrustedOperators'")
	}
	if o.SystemAccount == "" || o.SystemAccount == "$SYS" {
		o.SystemAccount = ""
		if len(ops) > 0 {
			o.SystemAccount = ops[0].SystemAccount
		}
		if o.SystemAccount == "" {
			if k := o.AccountResolver.Kind; k == "FULL" || k == "CACHE" {
				return errors.New("using nats based account resolver - the system account needs to be specified in configuration or the operator jwt")
			}
			o.SystemAccount = "$SYS"
		}
		return nil
	}
	named, nonEmpty := false, false
	for _, oc := range ops {
		nonEmpty = nonEmpty || oc.SystemAccount != ""
		named = named || oc.SystemAccount == o.SystemAccount
	}
	if nonEmpty && !named {
		return errors.New("system_account in config and operator JWT must be identical")
	}
	return nil
}

// jwtAccountFor returns the account pub, fetching and installing its JWT
// on first use.
func (s *Server) jwtAccountFor(pub string) (*Account, *jwtAccount, error) {
	m := s.op
	m.mu.Lock()
	ja := m.mu.accs[pub]
	m.mu.Unlock()
	if ja != nil {
		return s.accs.lookup(pub), ja, nil
	}
	tok, err := m.res.Fetch(pub)
	if err != nil {
		return nil, nil, err
	}
	ac, err := m.trust.DecodeAccount(tok)
	if err != nil {
		return nil, nil, err
	}
	if ac.Subject != pub {
		return nil, nil, fmt.Errorf("resolver returned the JWT of %s for %s", ac.Subject, pub)
	}
	s.installAccountJWT(pub, tok, ac)
	m.mu.Lock()
	ja = m.mu.accs[pub]
	m.mu.Unlock()
	return s.accs.lookup(pub), ja, nil
}

// installAccountJWT puts an account JWT in force (new or updated), with
// the accounts it imports from, then re-checks its clients.
func (s *Server) installAccountJWT(pub, tok string, ac *njwt.AccountClaims) {
	m := s.op
	acc := s.accs.register(newAccount(pub))
	m.mu.Lock()
	old := m.mu.accs[pub]
	if old != nil && old.tok == tok {
		m.mu.Unlock() // two logins fetched it at once
		return
	}
	ja := &jwtAccount{tok: tok, claims: ac}
	if old != nil && old.expT != nil {
		old.expT.Stop()
	}
	m.mu.accs[pub] = ja
	if ac.Expires > 0 {
		ja.expT = time.AfterFunc(time.Until(time.Unix(ac.Expires, 0)), func() { s.accountExpired(acc) })
	}
	m.mu.Unlock()
	// Exporters this account imports from must be known to wire imports.
	for _, im := range ac.Imports {
		if im == nil || im.Account == pub {
			continue
		}
		m.mu.Lock()
		known := m.mu.accs[im.Account] != nil
		m.mu.Unlock()
		if !known {
			if _, _, err := s.jwtAccountFor(im.Account); err != nil {
				s.log.Warnf("Can't locate account [%s] for import of [%v] %s (err=%v)", im.Account, im.Subject, im.Type, err)
			}
		}
	}
	s.relinkJWT()
	if old != nil {
		s.recheckAccountClients(acc, ac)
	}
}

// relinkJWT recomputes every JWT account's exports, imports (activations
// included) and mappings, and rewires imports.
func (s *Server) relinkJWT() {
	m := s.op
	m.mu.Lock()
	claims := make(map[string]*njwt.AccountClaims, len(m.mu.accs))
	for k, ja := range m.mu.accs {
		claims[k] = ja.claims
	}
	m.mu.Unlock()
	specs, errs := opjwt.Link(claims, time.Now())
	for _, err := range errs {
		s.log.Debugf("Account JWT: %v", err)
	}
	var next time.Time
	m.mu.Lock()
	for k, sp := range specs {
		if ja := m.mu.accs[k]; ja != nil && ja.claims == sp.Claims {
			ja.spec = sp
		}
		if !sp.NextExpiry.IsZero() && (next.IsZero() || sp.NextExpiry.Before(next)) {
			next = sp.NextExpiry
		}
	}
	if m.mu.relinkT != nil {
		m.mu.relinkT.Stop()
		m.mu.relinkT = nil
	}
	if !next.IsZero() {
		m.mu.relinkT = time.AfterFunc(time.Until(next)+time.Second, s.relinkJWT)
	}
	m.mu.Unlock()
	for k, sp := range specs {
		acc := s.accs.lookup(k)
		if acc == nil {
			continue
		}
		l := sp.Limits
		s.SetAccountLimits(k, AccountLimits{MaxConnections: limit32(l.Conn), MaxSubscriptions: limit32(l.Subs),
			MaxPayload: limit32(l.Payload), MaxLeafNodes: limit32(l.LeafConn)})
		s.jwtJetStream(k, l)
		acc.mappings.Store(nil)
		if len(sp.Mappings) > 0 {
			if set, err := subject.NewMappingSet(sp.Mappings); err != nil {
				s.log.Errorf("Account %s: mappings: %v", k, err)
			} else {
				acc.mappings.Store(set)
			}
		}
	}
	s.configureImports(s.getOpts())
}

// jwtAccountConfigs are the JWT accounts as account configurations, for
// wiring imports with the configured ones.
func (s *Server) jwtAccountConfigs() []*AccountConfig {
	if s.op == nil {
		return nil
	}
	m := s.op
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*AccountConfig, 0, len(m.mu.accs))
	for name, ja := range m.mu.accs {
		if ja.spec == nil {
			continue
		}
		ac := &AccountConfig{Name: name}
		for _, ex := range ja.spec.Exports {
			e := Export{Subject: ex.Subject, Service: ex.Service, ResponseType: ex.ResponseType, ResponseThreshold: ex.Threshold, Accounts: ex.Accounts}
			if ex.TokenReq && len(e.Accounts) == 0 {
				e.Accounts = []string{"-"} // private, and nobody holds a token
			}
			ac.Exports = append(ac.Exports, e)
		}
		for _, im := range ja.spec.Imports {
			ac.Imports = append(ac.Imports, Import{Account: im.Account, Subject: im.Subject, Service: im.Service, To: im.To, Prefix: im.Prefix})
		}
		out = append(out, ac)
	}
	return out
}

// authenticateJWT is a login in operator mode: a user JWT and the signed
// nonce, verified along the whole chain.
func (s *Server) authenticateJWT(c *client, ci *api.ConnectInfo, connType string) (*identity, error) {
	nonce, host := c.nonce, c.host
	uc, sentinel, err := s.op.userJWT(ci)
	if err != nil {
		return nil, err
	}
	pub := opjwt.AccountOf(uc)
	if s.op.pinned != nil && !s.op.pinned[pub] {
		s.op.pinnedFails.Add(1)
		return nil, fmt.Errorf("account %s of user %s not listed as operator pinned account", pub, uc.Subject)
	}
	acc, ja, err := s.jwtAccountFor(pub)
	if err != nil {
		return nil, fmt.Errorf("account %s of user %s: %w", pub, uc.Subject, err)
	}
	// A sentinel in front of a callout has no key to sign the nonce
	// with: the service decides (nats-server calls it out regardless).
	az := ja.claims.Authorization
	delegated := az.IsEnabled() && !slices.Contains(az.AuthUsers, uc.Subject)
	u, err := opjwt.VerifyUser(uc, ja.claims, &opjwt.Login{
		JWT: ci.JWT, Sig: ci.Sig, Nonce: nonce, ConnType: connType, IP: net.ParseIP(host), Now: time.Now(),
		Vouched: sentinel && delegated,
	})
	if err != nil {
		return nil, fmt.Errorf("user %s: %w", uc.Subject, err)
	}
	if delegated {
		// A sentinel of a callout account: the service decides.
		return s.jwtCallout(c, ci, connType, acc, ja)
	}
	id := &identity{acc: acc.Name, user: uc.Subject, kind: "jwt", perms: s.op.checker(sigOf(ci.JWT)+"|"+sigOf(ja.tok), u.Permissions)}
	id.jwt = &jwtLogin{expires: u.Expires, subs: u.Subs, payload: u.Payload, perms: u.Permissions, userName: uc.Name, accName: ja.claims.Name,
		userKey: uc.Subject, issuerKey: issuerKeyOf(uc, acc.Name), tags: uc.Tags, bearer: u.Claims.BearerToken}
	return id, nil
}

// userJWT decodes the user JWT of a login: the client's, or the default
// sentinel when the client sent none that decodes (as nats-server, which
// then reports the sentinel as the client's JWT).
func (m *operatorMode) userJWT(ci *api.ConnectInfo) (*njwt.UserClaims, bool, error) {
	if ci.JWT != "" {
		uc, err := opjwt.DecodeUser(ci.JWT)
		if err == nil || m.sentinel == "" {
			if err != nil {
				return nil, false, fmt.Errorf("user JWT: %w", err)
			}
			return uc, false, nil
		}
	}
	if m.sentinel == "" {
		return nil, false, errors.New("user JWT required in operator mode")
	}
	uc, err := opjwt.DecodeUser(m.sentinel)
	if err != nil {
		return nil, false, fmt.Errorf("default sentinel: %w", err)
	}
	ci.JWT = m.sentinel
	return uc, true, nil
}

// jwtUserInfo completes a user info answer for a JWT login, as
// nats-server answers it: permissions, expiry, user and account names.
func (c *client) jwtUserInfo(info *api.UserInfo) {
	c.mu.Lock()
	jl := c.mu.jwt
	c.mu.Unlock()
	if jl == nil {
		return
	}
	info.UserName, info.AccountName = jl.userName, jl.accName
	if jl.perms != nil {
		info.Permissions, _ = json.Marshal(jl.perms)
	}
	if !jl.expires.IsZero() {
		info.Expires = time.Until(jl.expires)
	}
}

// sigOf is the signature part of a JWT, unique to its content.
func sigOf(tok string) string { return tok[strings.LastIndexByte(tok, '.')+1:] }

// caller returns the auth callout caller of an account JWT delegating
// authorization, made once per JWT.
func (m *operatorMode) caller(s *Server, ja *jwtAccount) (*callout.Caller, error) {
	key := sigOf(ja.tok)
	if c, ok := m.callers.Load(key); ok {
		return c.(*callout.Caller), nil
	}
	az := ja.claims.Authorization
	cfg := &callout.Config{Issuer: ja.claims.Subject, Account: ja.claims.Subject, AuthUsers: az.AuthUsers,
		XKey: az.XKey, AllowedAccounts: az.AllowedAccounts, Operator: true, SigningKeys: ja.claims.SigningKeys.Keys()}
	c, err := callout.NewCaller(cfg, callout.Server{Name: s.getOpts().ServerName, Host: s.getOpts().Host, ID: s.id, Version: version.NATSCompat, Key: s.kp})
	if err != nil {
		return nil, err
	}
	m.callers.Store(key, c)
	return c, nil
}

// checker compiles permissions once per user and account JWT pair.
func (m *operatorMode) checker(key string, p *auth.Permissions) *auth.Checker {
	if p == nil {
		return nil
	}
	if c, ok := m.checkers.Load(key); ok {
		return c.(*auth.Checker)
	}
	if m.nChecked.Add(1) > 10000 {
		m.checkers.Clear()
		m.nChecked.Store(0)
	}
	c := auth.Compile(p)
	m.checkers.Store(key, c)
	return c
}

// bindJWTLocked applies what a JWT login adds: the expiry timer and the
// user's own limits (the account's apply through its AccountLimits).
func (c *client) bindJWTLocked(id *identity) {
	if c.expT != nil {
		c.expT.Stop()
		c.expT = nil
	}
	c.lim.Store(nil)
	c.mu.jwt = nil
	if id.jwt == nil {
		return
	}
	c.lim.Store(&clientLimits{subs: id.jwt.subs, payload: id.jwt.payload})
	c.mu.jwt = id.jwt
	c.mu.calloutUser, c.mu.calloutIat = id.jwt.calloutUser, id.jwt.calloutIat
	if !id.jwt.expires.IsZero() {
		c.expT = time.AfterFunc(time.Until(id.jwt.expires), c.authExpired)
	}
}

// clientLimits are a user JWT's own limits; -1 is none.
type clientLimits struct{ subs, payload int64 }

// userLimits lowers an account-derived limit n (NoLimit: none) by the
// user's own limit l (-1: none).
func userLimit(n int, l int64) int {
	if l >= 0 && (n == NoLimit || int(l) < n) {
		return int(l)
	}
	return n
}

// limit32 turns a JWT limit into an account limit (-1 stays NoLimit).
func limit32(n int64) int32 {
	switch {
	case n < 0:
		return NoLimit
	case n > 1<<31-1:
		return 1<<31 - 1
	}
	return int32(n)
}

func (c *client) authExpired() {
	c.srv.log.Debugf("%s - cid:%d - %s", c.hostPort(), c.cid, errTextUserExpired)
	c.sendErrAndClose(errTextUserExpired, reasonAuthExpired)
}

// accountExpired closes every client of an account whose JWT expired.
func (s *Server) accountExpired(acc *Account) {
	for _, c := range s.clientsOf(acc) {
		s.log.Debugf("%s - cid:%d - %s", c.hostPort(), c.cid, errTextAccountExpired)
		c.sendErrAndClose(errTextAccountExpired, reasonAuthExpired)
	}
}

func (s *Server) clientsOf(acc *Account) []*client {
	s.mu.Lock()
	all := make([]*client, 0, len(s.mu.clients))
	for _, c := range s.mu.clients {
		all = append(all, c)
	}
	s.mu.Unlock()
	// Client locks are taken with no server lock held.
	var out []*client
	for _, c := range all {
		c.mu.Lock()
		same := c.acc == acc
		c.mu.Unlock()
		if same && c.connected.Load() {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].cid < out[j].cid })
	return out
}

// recheckAccountClients re-verifies the clients of an updated account:
// revoked users are cut, the newest connections past a lowered limit are
// cut, the rest get their new permissions and limits.
func (s *Server) recheckAccountClients(acc *Account, ac *njwt.AccountClaims) {
	// Connection and subscription limits were applied by SetAccountLimits.
	for _, c := range s.clientsOf(acc) {
		if c.isClosed() {
			continue
		}
		c.mu.Lock()
		tok := c.mu.creds.JWT
		cu, iat := c.mu.calloutUser, c.mu.calloutIat
		c.mu.Unlock()
		revoked := false
		if cu != "" {
			revoked = ac.Revocations.IsRevoked(cu, time.Unix(iat, 0))
		} else if uc, err := njwt.DecodeUserClaims(tok); err == nil && ac.IsClaimRevoked(uc) {
			revoked = true
		}
		if revoked {
			s.log.Debugf("%s - cid:%d - %s", c.hostPort(), c.cid, errTextRevoked)
			c.sendErrAndClose(errTextRevoked, reasonRevoked)
			continue
		}
		s.reauthenticate(c, false)
	}
}

// jwtApplier is the server as the claims services see it.
type jwtApplier Server

func (a *jwtApplier) AccountUpdated(pub, tok string, ac *njwt.AccountClaims) {
	s := (*Server)(a)
	s.op.mu.Lock()
	known := s.op.mu.accs[pub] != nil
	s.op.mu.Unlock()
	if known {
		s.installAccountJWT(pub, tok, ac)
	}
}

func (a *jwtApplier) AccountDeleted(pub string) {
	s := (*Server)(a)
	acc := s.accs.lookup(pub)
	s.op.mu.Lock()
	ja := s.op.mu.accs[pub]
	delete(s.op.mu.accs, pub)
	s.op.mu.Unlock()
	if ja == nil || acc == nil {
		return
	}
	if ja.expT != nil {
		ja.expT.Stop()
	}
	for _, c := range s.clientsOf(acc) {
		c.sendErrAndClose("Authorization Violation", reasonAuthFailure)
	}
	s.relinkJWT()
}

func (a *jwtApplier) AccountKnown(pub string) bool {
	s := (*Server)(a)
	s.op.mu.Lock()
	defer s.op.mu.Unlock()
	return s.op.mu.accs[pub] != nil
}

func (a *jwtApplier) SystemAccount() string {
	s := (*Server)(a)
	if s.sysAcc == nil {
		return ""
	}
	return s.sysAcc.Name
}

// AccountJWTLimits returns the limits of an account's JWT, JetStream
// limits and tiers included (for JetStream to enforce), false for an
// account without a JWT.
func (s *Server) AccountJWTLimits(name string) (opjwt.Limits, bool) {
	if s.op == nil {
		return opjwt.Limits{}, false
	}
	s.op.mu.Lock()
	defer s.op.mu.Unlock()
	ja := s.op.mu.accs[name]
	if ja == nil {
		return opjwt.Limits{}, false
	}
	return opjwt.LimitsOf(ja.claims), true
}
