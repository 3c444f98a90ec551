package server

import (
	"crypto/rand"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"

	"github.com/sluicehq/sluice/internal/server/auth"
	"github.com/sluicehq/sluice/internal/server/tlsconf"
	"github.com/sluicehq/sluice/pkg/api"
)

// authRequired reports whether clients must authenticate in CONNECT.
func (o *Options) authRequired() bool {
	return o.Username != "" || o.Authorization != "" || len(o.Users) > 0 || len(o.Nkeys) > 0 || o.operatorMode() || o.AuthCallout != nil
}

// needsNonce reports whether INFO carries a nonce for nkey signatures.
func (o *Options) needsNonce() bool { return len(o.Nkeys) > 0 || o.operatorMode() }

// identity is who a CONNECT authenticated as.
type identity struct {
	acc   string        // account name; "" = global
	perms *auth.Checker // nil = everything allowed
	user  string        // user name or nkey, for logs and monitoring
	kind  string        // which method: "user", "nkey", "token", "tls", "none"
	via   string        // for "tls": what in the certificate named the user
	jwt   *jwtLogin     // for "jwt": expiry and limits of the user JWT
}

// authIndex is the users of one Options, looked up by name or nkey. It
// is built once per options generation.
type authIndex struct {
	users    map[string]*auth.User
	nkeys    map[string]*auth.NkeyUser
	accPerms map[string]*auth.Permissions // account default permissions
	certs    *tlsconf.UserMap             // verify_and_map lookups; nil when off

	mu       sync.Mutex // guards checkers: connects compile concurrently
	checkers map[*auth.Permissions]*auth.Checker
}

func (o *Options) buildAuthIndex() *authIndex {
	ix := &authIndex{
		users:    make(map[string]*auth.User, len(o.Users)),
		nkeys:    make(map[string]*auth.NkeyUser, len(o.Nkeys)),
		accPerms: make(map[string]*auth.Permissions),
		checkers: make(map[*auth.Permissions]*auth.Checker),
	}
	names := make([]string, 0, len(o.Users))
	for _, u := range o.Users {
		ix.users[u.Username] = u
		names = append(names, u.Username)
	}
	if o.TLSMap {
		ix.certs = tlsconf.NewUserMap(names)
	}
	for _, u := range o.Nkeys {
		ix.nkeys[u.Nkey] = u
	}
	for _, a := range o.Accounts {
		if a.DefaultPermissions != nil {
			ix.accPerms[a.Name] = a.DefaultPermissions
		}
	}
	return ix
}

// checker compiles (once) the permissions that apply to a user: their
// own, else their account's default, else the server-wide default.
func (ix *authIndex) checker(o *Options, own *auth.Permissions, account string) *auth.Checker {
	p := own
	if p == nil {
		p = ix.accPerms[account]
	}
	if p == nil {
		p = o.DefaultPermissions
	}
	if p == nil {
		return nil
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if c, ok := ix.checkers[p]; ok {
		return c
	}
	c := auth.Compile(p)
	ix.checkers[p] = c
	return c
}

var (
	errAuthFailed = errors.New("authentication error")
	errNoCert     = errors.New("user required in certificate, but the client presented none")
)

// authenticate checks a CONNECT's credentials, and the certificate the
// client presented (nil if none), against the options in force and says
// who the client is. Order as nats-server: nkey, then the user a
// certificate names (verify_and_map), then users, then no_auth_user for a
// client without credentials, then token, then the single user.
func (s *Server) authenticate(ci *api.ConnectInfo, nonce []byte, connType string, cert *x509.Certificate) (*identity, error) {
	o := s.authOptsFor(connType)
	if !o.authRequired() {
		return &identity{kind: "none"}, nil
	}
	ix := o.authIx
	noCreds := ci.User == "" && ci.Pass == "" && ci.Token == "" && ci.Nkey == "" && ci.JWT == ""
	switch {
	case ci.Nkey != "" && len(ix.nkeys) > 0:
		u := ix.nkeys[ci.Nkey]
		if u == nil || !auth.VerifyNonce(ci.Nkey, ci.Sig, nonce) {
			return nil, errAuthFailed
		}
		if !auth.ConnectionTypeAllowed(u.AllowedConnectionTypes, connType) {
			return nil, fmt.Errorf("connection type %s not allowed", connType)
		}
		return &identity{acc: u.Account, perms: ix.checker(o, u.Permissions, u.Account), user: u.Nkey, kind: "nkey"}, nil
	case ix.certs != nil && len(ix.users) > 0:
		return s.certIdentity(o, ix, ci, connType, cert)
	case ci.User != "" && len(ix.users) > 0:
		return s.userIdentity(o, ix, ix.users[ci.User], ci.Pass, true, connType)
	case noCreds && o.NoAuthUser != "":
		if u := ix.users[o.NoAuthUser]; u != nil {
			return s.userIdentity(o, ix, u, "", false, connType)
		}
		if u := ix.nkeys[o.NoAuthUser]; u != nil {
			return &identity{acc: u.Account, perms: ix.checker(o, u.Permissions, u.Account), user: u.Nkey, kind: "nkey"}, nil
		}
		return nil, errAuthFailed
	case o.Authorization != "":
		if !auth.CheckPassword(ci.Token, o.Authorization) {
			return nil, errAuthFailed
		}
		return &identity{perms: ix.checker(o, o.Permissions, ""), kind: "token"}, nil
	case o.Username != "":
		if !secureEqual(ci.User, o.Username) || !auth.CheckPassword(ci.Pass, o.Password) {
			return nil, errAuthFailed
		}
		return &identity{perms: ix.checker(o, o.Permissions, ""), user: o.Username, kind: "user"}, nil
	}
	return nil, errAuthFailed
}

// certUnmappedError says which certificate named no configured user.
type certUnmappedError struct{ subject string }

func (e *certUnmappedError) Error() string {
	return fmt.Sprintf("no user found for client certificate %q", e.subject)
}

// certIdentity is verify_and_map: the user is the one the certificate
// names; the user in CONNECT, if any, is not consulted. A mapped user
// with a password must still send it, as in nats-server.
func (s *Server) certIdentity(o *Options, ix *authIndex, ci *api.ConnectInfo, connType string, cert *x509.Certificate) (*identity, error) {
	if cert == nil {
		return nil, errNoCert
	}
	allowed := func(name string) bool {
		return auth.ConnectionTypeAllowed(ix.users[name].AllowedConnectionTypes, connType)
	}
	name, via, ok := ix.certs.Lookup(cert, allowed)
	if !ok {
		return nil, &certUnmappedError{subject: cert.Subject.String()}
	}
	id, err := s.userIdentity(o, ix, ix.users[name], ci.Pass, true, connType)
	if id != nil {
		id.kind, id.via = "tls", via
	}
	return id, err
}

func (s *Server) userIdentity(o *Options, ix *authIndex, u *auth.User, pass string, checkPass bool, connType string) (*identity, error) {
	if u == nil || (checkPass && !auth.CheckPassword(pass, u.Password)) {
		return nil, errAuthFailed
	}
	if !auth.ConnectionTypeAllowed(u.AllowedConnectionTypes, connType) {
		return nil, fmt.Errorf("connection type %s not allowed", connType)
	}
	return &identity{acc: u.Account, perms: ix.checker(o, u.Permissions, u.Account), user: u.Username, kind: "user"}, nil
}

func secureEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// authenticate checks what c offers: its CONNECT and its certificate.
// How verify_and_map decided is logged at debug level, since a
// certificate naming no user is otherwise hard to diagnose.
func (c *client) authenticate(ci *api.ConnectInfo, connType string) (*identity, error) {
	var id *identity
	var err error
	if c.srv.callout != nil && c.srv.usesCallout(ci) {
		if id, err = c.srv.calloutAuthenticate(c, ci, connType); err != nil {
			c.srv.log.Warnf("%s - cid:%d - auth callout: %v", c.hostPort(), c.cid, err)
		}
		return id, err
	}
	if c.srv.op != nil {
		if id, err = c.srv.authenticateJWT(c, ci, connType); err != nil {
			c.srv.log.Errorf("%s - cid:%d - %v", c.hostPort(), c.cid, err)
		}
		return id, err
	}
	id, err = c.srv.authenticate(ci, c.nonce, connType, c.peerCertificate())
	if !c.srv.getOpts().Debug {
		return id, err
	}
	var unmapped *certUnmappedError
	switch {
	case id != nil && id.kind == "tls":
		c.srv.log.Debugf("%s - cid:%d - Using %s found in client certificate for auth [%q]", c.hostPort(), c.cid, id.via, id.user)
	case errors.Is(err, errNoCert), errors.As(err, &unmapped):
		c.srv.log.Debugf("%s - cid:%d - %v", c.hostPort(), c.cid, err)
	}
	return id, err
}

// newNonce returns the random challenge an nkey user signs.
func newNonce() []byte {
	var raw [11]byte
	rand.Read(raw[:])
	out := make([]byte, base64.RawURLEncoding.EncodedLen(len(raw)))
	base64.RawURLEncoding.Encode(out, raw[:])
	return out
}

// permissionsOf returns the permissions a user of acc has, for user info.
func (o *Options) permissionsOf(user, acc string) *auth.Permissions {
	if o.authIx == nil {
		return nil
	}
	var own *auth.Permissions
	switch {
	case o.authIx.users[user] != nil:
		own = o.authIx.users[user].Permissions
	case o.authIx.nkeys[user] != nil:
		own = o.authIx.nkeys[user].Permissions
	case user != "" && user == o.Username:
		own = o.Permissions
	}
	if own == nil {
		own = o.authIx.accPerms[acc]
	}
	if own == nil {
		own = o.DefaultPermissions
	}
	return own
}
