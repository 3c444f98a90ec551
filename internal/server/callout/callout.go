package callout

import (
	"errors"
	"fmt"
	"strings"
	"time"

	njwt "github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

// Subject is where authorization requests are published, in the account
// of the callout service.
const Subject = "$SYS.REQ.USER.AUTH"

// XKeyHeader carries the server's curve key when requests are encrypted.
const XKeyHeader = "Nats-Server-Xkey"

// requestAudience is the audience of every authorization request.
const requestAudience = "nats-authorization-request"

// Config is the auth_callout block.
type Config struct {
	Issuer          string   // account public key that signs responses
	Account         string   // account of the service (where requests go)
	AuthUsers       []string // users who log in directly, never called out
	XKey            string   // the service's curve public key: encrypt
	AllowedAccounts []string // accounts a response may place users in
	// Operator mode: Issuer is the callout account, which may also sign
	// responses with these signing keys, and a user lands in the account
	// that issued its user JWT (config mode: the one its audience names).
	Operator    bool
	SigningKeys []string
}

// Parse reads an auth_callout block; get unwraps values of the tree.
func Parse(m map[string]any, get func(any) any) (*Config, error) {
	c := &Config{}
	var errs []string
	strs := func(k string, v any) []string {
		switch v := v.(type) {
		case string:
			return []string{v}
		case []any:
			var out []string
			for _, e := range v {
				s, ok := get(e).(string)
				if !ok {
					errs = append(errs, fmt.Sprintf("auth_callout '%s' must list strings", k))
					continue
				}
				out = append(out, s)
			}
			return out
		}
		errs = append(errs, fmt.Sprintf("auth_callout '%s' must be a string or a list of strings", k))
		return nil
	}
	for k, raw := range m {
		v := get(raw)
		switch strings.ToLower(k) {
		case "issuer":
			c.Issuer, _ = v.(string)
		case "account":
			c.Account, _ = v.(string)
		case "auth_users":
			c.AuthUsers = strs(k, v)
		case "xkey":
			c.XKey, _ = v.(string)
		case "allowed_accounts":
			c.AllowedAccounts = strs(k, v)
		default:
			errs = append(errs, fmt.Sprintf("unknown field %q in auth_callout", k))
		}
	}
	if err := c.Validate(); err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "; "))
	}
	return c, nil
}

// Validate checks the keys of the configuration.
func (c *Config) Validate() error {
	switch {
	case !nkeys.IsValidPublicAccountKey(c.Issuer):
		return fmt.Errorf("auth_callout issuer %q is not a valid public account nkey", c.Issuer)
	case c.Account == "" && !c.Operator:
		return errors.New("auth_callout needs 'account', the account of the callout service")
	case len(c.AuthUsers) == 0 && !c.Operator:
		return errors.New("auth_callout needs 'auth_users', the users of the callout service")
	case c.XKey != "" && !nkeys.IsValidPublicCurveKey(c.XKey):
		return fmt.Errorf("auth_callout xkey %q is not a valid public curve (xkey) nkey", c.XKey)
	}
	return nil
}

// IsAuthUser reports whether a user (name or nkey) bypasses the callout.
func (c *Config) IsAuthUser(user string) bool {
	for _, u := range c.AuthUsers {
		if user != "" && u == user {
			return true
		}
	}
	return false
}

// Server is what a request says of the server.
type Server struct {
	Name, Host, ID, Version string
	Key                     nkeys.KeyPair // the server's identity, signs requests
}

// Caller builds requests and checks responses for one configuration.
type Caller struct {
	cfg  *Config
	srv  Server
	xkp  nkeys.KeyPair // the server's curve key, when encrypting
	xpub string
}

// NewCaller prepares a caller; with xkey it makes the server's curve key.
func NewCaller(cfg *Config, srv Server) (*Caller, error) {
	c := &Caller{cfg: cfg, srv: srv}
	if cfg.XKey != "" {
		kp, err := nkeys.CreateCurveKeys()
		if err != nil {
			return nil, err
		}
		c.xkp = kp
		c.xpub, _ = kp.PublicKey()
	}
	return c, nil
}

// Config is the configuration of the caller.
func (c *Caller) Config() *Config { return c.cfg }

// Request is one login to delegate.
type Request struct {
	Client  njwt.ClientInformation
	Connect njwt.ConnectOptions
	TLS     *njwt.ClientTLS
	Timeout time.Duration
}

// Pending is a request built, waiting for its response.
type Pending struct {
	Body    []byte
	Header  []byte // NATS header block, nil without xkey
	UserKey string // the one-time user nkey the response must name
}

// Build makes the signed (and, with xkey, encrypted) request.
func (c *Caller) Build(r *Request) (*Pending, error) {
	ukp, err := nkeys.CreateUser()
	if err != nil {
		return nil, err
	}
	upub, _ := ukp.PublicKey()
	claim := njwt.NewAuthorizationRequestClaims(c.cfg.Issuer)
	claim.Audience = requestAudience
	claim.UserNkey = upub
	claim.Server = njwt.ServerID{Name: c.srv.Name, Host: c.srv.Host, ID: c.srv.ID, Version: c.srv.Version, XKey: c.xpub}
	claim.ClientInformation = r.Client
	claim.ConnectOptions = r.Connect
	claim.TLS = r.TLS
	claim.Expires = time.Now().Add(r.Timeout).Unix()
	tok, err := claim.Encode(c.srv.Key)
	if err != nil {
		return nil, fmt.Errorf("encoding authorization request: %w", err)
	}
	p := &Pending{Body: []byte(tok), UserKey: upub}
	if c.xkp != nil {
		if p.Body, err = c.xkp.Seal(p.Body, c.cfg.XKey); err != nil {
			return nil, fmt.Errorf("encrypting authorization request: %w", err)
		}
		p.Header = []byte("NATS/1.0\r\n" + XKeyHeader + ": " + c.xpub + "\r\n\r\n")
	}
	return p, nil
}

// Result is a login the service authorized.
type Result struct {
	User    *njwt.UserClaims
	Account string // the account named by the user JWT's audience
}

// Verify checks the service's response to p. The error says why a login
// was refused (for the log, never for the client).
func (c *Caller) Verify(p *Pending, resp []byte) (*Result, error) {
	if len(resp) == 0 {
		return nil, errors.New("auth callout service sent an empty response")
	}
	if c.xkp != nil {
		dec, err := c.xkp.Open(resp, c.cfg.XKey)
		if err != nil {
			return nil, fmt.Errorf("error decrypting auth callout response: %v", err)
		}
		resp = dec
	}
	arc, err := njwt.DecodeAuthorizationResponseClaims(strings.TrimSpace(string(resp)))
	if err != nil {
		return nil, fmt.Errorf("auth callout response: %v", err)
	}
	vr := njwt.CreateValidationResults()
	arc.Validate(vr)
	if len(vr.Errors()) > 0 {
		return nil, fmt.Errorf("authorization response had validation errors: %v", vr.Errors()[0])
	}
	switch {
	case !c.issuerOK(arc.Issuer, arc.IssuerAccount):
		return nil, fmt.Errorf("wrong issuer for auth callout response, expected %q got %q", c.cfg.Issuer, arc.Issuer)
	case arc.Subject != p.UserKey:
		return nil, fmt.Errorf("auth callout response is for another request (user nkey %q)", arc.Subject)
	case arc.Audience != c.srv.ID:
		return nil, fmt.Errorf("auth callout response is for another server (%q)", arc.Audience)
	case arc.Error != "":
		return nil, fmt.Errorf("auth callout service returned an error: %v", arc.Error)
	case arc.Jwt == "":
		return nil, errors.New("auth callout response carries no user JWT")
	}
	uc, err := njwt.DecodeUserClaims(arc.Jwt)
	if err != nil {
		return nil, fmt.Errorf("auth callout user JWT: %v", err)
	}
	vr = njwt.CreateValidationResults()
	uc.Validate(vr)
	switch {
	case len(vr.Errors()) > 0:
		return nil, fmt.Errorf("error validating user JWT: %v", vr.Errors()[0])
	case !c.cfg.Operator && uc.Issuer != c.cfg.Issuer:
		return nil, fmt.Errorf("user JWT issuer %q is not known", uc.Issuer)
	case uc.Subject != p.UserKey:
		return nil, fmt.Errorf("expected authorized user of %q but got %q", p.UserKey, uc.Subject)
	case uc.Expires > 0 && time.Now().Unix() >= uc.Expires:
		return nil, errors.New("auth callout user JWT has expired")
	}
	acc := uc.Audience
	if c.cfg.Operator {
		// The account that issued the user JWT; the broker checks the
		// signature chain against that account's JWT.
		if acc = uc.IssuerAccount; acc == "" {
			acc = uc.Issuer
		}
	}
	if acc == "" {
		return nil, errors.New("auth callout user JWT names no account (audience)")
	}
	allowed := len(c.cfg.AllowedAccounts) == 0 || contains(c.cfg.AllowedAccounts, acc) || contains(c.cfg.AllowedAccounts, "*")
	if c.cfg.Operator {
		allowed = acc == c.cfg.Issuer || contains(c.cfg.AllowedAccounts, acc) || contains(c.cfg.AllowedAccounts, "*")
	}
	if !allowed {
		return nil, fmt.Errorf("account %q not permitted as valid account option for auth callout", acc)
	}
	return &Result{User: uc, Account: acc}, nil
}

func (c *Caller) issuerOK(iss, issAcc string) bool {
	if iss == c.cfg.Issuer && (issAcc == "" || issAcc == c.cfg.Issuer) {
		return true
	}
	return c.cfg.Operator && issAcc == c.cfg.Issuer && contains(c.cfg.SigningKeys, iss)
}

func contains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}
