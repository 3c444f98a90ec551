package server

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"time"

	njwt "github.com/nats-io/jwt/v2"

	"github.com/sluicehq/sluice/internal/server/auth"
	"github.com/sluicehq/sluice/internal/server/callout"
	opjwt "github.com/sluicehq/sluice/internal/server/jwt"
	"github.com/sluicehq/sluice/internal/version"
	"github.com/sluicehq/sluice/pkg/api"
)

// Auth callout wiring (config mode): a CONNECT from anyone but the
// auth_users is sent as an authorization request to the service in the
// callout account; its answer places the client in an account with the
// permissions and limits of the user JWT it returns.

// initCallout prepares the callout of the options, if any.
func (s *Server) initCallout(o *Options) error {
	cfg := o.AuthCallout
	if cfg == nil {
		return nil
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if s.accs.lookup(cfg.Account) == nil {
		return fmt.Errorf("auth_callout account %q is not defined", cfg.Account)
	}
	for _, acc := range cfg.AllowedAccounts {
		if acc != "*" && s.accs.lookup(acc) == nil {
			return fmt.Errorf("auth_callout allowed account %q not found in configured accounts", acc)
		}
	}
	for _, u := range cfg.AuthUsers {
		if u != o.Username && o.authIx.users[u] == nil && o.authIx.nkeys[u] == nil {
			s.log.Errorf("Authorization callout user %q not valid", u)
		}
	}
	c, err := callout.NewCaller(cfg, callout.Server{Name: o.ServerName, Host: o.Host, ID: s.id, Version: version.NATSCompat, Key: s.kp})
	if err != nil {
		return err
	}
	s.callout = c
	return nil
}

// usesCallout reports whether a CONNECT goes to the callout service.
func (s *Server) usesCallout(ci *api.ConnectInfo) bool {
	cfg := s.callout.Config()
	return !cfg.IsAuthUser(ci.User) && !cfg.IsAuthUser(ci.Nkey)
}

var errCalloutTimeout = errors.New("authorization callout response not received in time")

// calloutAuthenticate asks the service about c's CONNECT (config mode).
func (s *Server) calloutAuthenticate(c *client, ci *api.ConnectInfo, connType string) (*identity, error) {
	acc := s.accs.lookup(s.callout.Config().Account)
	res, err := s.callOut(c, ci, s.callout, acc)
	if err != nil {
		return nil, err
	}
	uc := res.User
	if s.accs.lookup(res.Account) == nil {
		return nil, fmt.Errorf("no valid account %q for auth callout response", res.Account)
	}
	if !opjwtConnTypeOK(uc, connType) {
		return nil, fmt.Errorf("authorized user on account %q not allowed to use connection type %s", res.Account, connType)
	}
	id := &identity{acc: res.Account, user: ci.User, kind: "callout", perms: s.calloutChecker(uc)}
	if id.user == "" {
		id.user = uc.Name
	}
	id.jwt = &jwtLogin{subs: uc.Limits.Subs, payload: uc.Limits.Payload, perms: opjwt.Permissions(uc.Permissions), userName: uc.Name, accName: res.Account,
		issuerKey: issuerKeyOf(uc, res.Account)}
	if uc.Expires > 0 {
		id.jwt.expires = time.Unix(uc.Expires, 0)
	}
	return id, nil
}

// callOut sends the authorization request for c's CONNECT to the service
// listening in acc and waits for its answer, at most the authorization
// timeout: a silent or absent service fails this login and nothing else.
func (s *Server) callOut(c *client, ci *api.ConnectInfo, caller *callout.Caller, acc *Account) (*callout.Result, error) {
	c.calloutAcc = acc // a failed login is reported in this account
	if acc == nil || !acc.sl.HasInterest(callout.Subject) {
		return nil, errors.New("no auth callout service is listening")
	}
	timeout := s.getOpts().AuthTimeout
	req := &callout.Request{
		Client: njwt.ClientInformation{Host: c.host, ID: c.cid, User: ci.User, Name: ci.Name, Kind: "Client", Type: "nats"},
		Connect: njwt.ConnectOptions{JWT: ci.JWT, Nkey: ci.Nkey, SignedNonce: ci.Sig, Token: ci.Token, Username: ci.User,
			Password: ci.Pass, Name: ci.Name, Lang: ci.Lang, Version: ci.Version, Protocol: ci.Protocol},
		TLS:     c.calloutTLS(),
		Timeout: timeout,
	}
	if ci.Sig != "" {
		req.Client.Nonce = string(c.nonce)
	}
	p, err := caller.Build(req)
	if err != nil {
		return nil, err
	}
	respCh := make(chan []byte, 1)
	reply := "_INBOX." + randomToken(22)
	sub, err := s.SubscribeInternal(acc, reply, "", func(_, _ string, _, msg []byte) {
		select {
		case respCh <- msg:
		default:
		}
	})
	if err != nil {
		return nil, err
	}
	defer s.UnsubscribeInternal(sub)
	s.PublishInternal(acc, callout.Subject, reply, p.Header, p.Body)
	var resp []byte
	select {
	case resp = <-respCh:
	case <-time.After(timeout):
		return nil, errCalloutTimeout
	}
	return caller.Verify(p, resp)
}

// jwtCallout is a login into an account whose JWT delegates
// authorization (operator mode): the service's user JWT, issued by the
// account it places the user in, is verified against that account.
func (s *Server) jwtCallout(c *client, ci *api.ConnectInfo, connType string, acc *Account, ja *jwtAccount) (*identity, error) {
	caller, err := s.op.caller(s, ja)
	if err != nil {
		return nil, err
	}
	res, err := s.callOut(c, ci, caller, acc)
	if err != nil {
		return nil, err
	}
	tacc, tja, err := s.jwtAccountFor(res.Account)
	if err != nil {
		return nil, fmt.Errorf("no valid account %q for auth callout response: %w", res.Account, err)
	}
	u, err := opjwt.VerifyUser(res.User, tja.claims, &opjwt.Login{ConnType: connType, IP: net.ParseIP(c.host), Now: time.Now(), Vouched: true})
	if err != nil {
		return nil, fmt.Errorf("auth callout user: %w", err)
	}
	id := &identity{acc: tacc.Name, user: res.User.Subject, kind: "callout", perms: auth.Compile(u.Permissions)}
	id.jwt = &jwtLogin{expires: u.Expires, subs: u.Subs, payload: u.Payload, calloutUser: res.User.Subject, calloutIat: res.User.IssuedAt,
		perms: u.Permissions, userName: res.User.Name, accName: tja.claims.Name, issuerKey: issuerKeyOf(res.User, tacc.Name)}
	return id, nil
}

func (s *Server) calloutChecker(uc *njwt.UserClaims) *auth.Checker {
	return auth.Compile(opjwt.Permissions(uc.Permissions))
}

func opjwtConnTypeOK(uc *njwt.UserClaims, connType string) bool {
	if len(uc.AllowedConnectionTypes) == 0 {
		return true
	}
	for _, t := range uc.AllowedConnectionTypes {
		if t == connType {
			return true
		}
	}
	return false
}

// calloutTLS describes the client's TLS session for the request.
func (c *client) calloutTLS() *njwt.ClientTLS {
	if c.tlsState == nil {
		return nil
	}
	ct := &njwt.ClientTLS{Version: tlsVersionName(c.tlsState.Version), Cipher: tls.CipherSuiteName(c.tlsState.CipherSuite)}
	for _, chain := range c.tlsState.VerifiedChains {
		var certs njwt.StringList
		for _, cert := range chain {
			certs = append(certs, pemCert(cert))
		}
		ct.VerifiedChains = append(ct.VerifiedChains, certs)
	}
	if len(ct.VerifiedChains) == 0 {
		for _, cert := range c.tlsState.PeerCertificates {
			ct.Certs = append(ct.Certs, pemCert(cert))
		}
	}
	return ct
}

func pemCert(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}
