package jwt

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	njwt "github.com/nats-io/jwt/v2"

	"github.com/sluicehq/sluice/internal/server/auth"
)

// Login is what a client offers and what the server knows about it.
type Login struct {
	JWT      string
	Sig      string // signature of Nonce, base64
	Nonce    []byte
	ConnType string // STANDARD, WEBSOCKET, ...
	IP       net.IP
	Now      time.Time
	// Vouched: an auth callout service issued this user JWT for this
	// login, so there is no nonce signature to check.
	Vouched bool
}

// User is a verified user.
type User struct {
	Claims      *njwt.UserClaims
	Account     string
	Name        string
	Permissions *auth.Permissions // nil: everything allowed
	// Expires is when the login must end: the user JWT's expiry or the
	// end of the current time window, zero for never.
	Expires             time.Time
	Subs, Data, Payload int64 // -1 = no limit
	SigningKey          string
}

// DecodeUser decodes a user JWT and checks its signature.
func DecodeUser(tok string) (*njwt.UserClaims, error) {
	return njwt.DecodeUserClaims(tok)
}

// AccountOf is the account a user JWT belongs to.
func AccountOf(uc *njwt.UserClaims) string {
	if uc.IssuerAccount != "" {
		return uc.IssuerAccount
	}
	return uc.Issuer
}

// Reasons a user JWT is refused. They go to the server log (never to
// the client, who sees "Authorization Violation") and carry no secret.
var (
	ErrUserExpired      = errors.New("user JWT has expired")
	ErrUserNotYetValid  = errors.New("user JWT is not yet valid")
	ErrAccountExpired   = errors.New("account JWT has expired")
	ErrIssuerUnknown    = errors.New("user JWT issuer is not the account or one of its signing keys")
	ErrRevoked          = errors.New("user JWT has been revoked")
	ErrBearerNotAllowed = errors.New("bearer user JWT not allowed by the account")
	ErrSignature        = errors.New("signature of the nonce does not verify")
	ErrConnType         = errors.New("connection type not allowed")
	ErrSource           = errors.New("client address not in the user's allowed networks")
	ErrTimeWindow       = errors.New("login outside the user's allowed times")
)

// VerifyUser checks a decoded user JWT against its account's claims and
// the login. ac must be the (trusted) claims of AccountOf(uc).
func VerifyUser(uc *njwt.UserClaims, ac *njwt.AccountClaims, l *Login) (*User, error) {
	now := l.Now
	if now.IsZero() {
		now = time.Now()
	}
	vr := njwt.CreateValidationResults()
	uc.Validate(vr)
	if errs := blocking(vr); len(errs) > 0 {
		return nil, fmt.Errorf("user JWT invalid: %v", errs)
	}
	if Expired(uc.Expires, now) {
		return nil, ErrUserExpired
	}
	if uc.NotBefore > 0 && now.Unix() < uc.NotBefore {
		return nil, ErrUserNotYetValid
	}
	if Expired(ac.Expires, now) {
		return nil, ErrAccountExpired
	}
	u := &User{Claims: uc, Account: ac.Subject, Name: uc.Name}
	limits := uc.UserPermissionLimits
	switch {
	case uc.Issuer == ac.Subject && (uc.IssuerAccount == "" || uc.IssuerAccount == ac.Subject):
		// The account's own key (nsc sets issuer_account even then).
	case uc.IssuerAccount == ac.Subject && ac.SigningKeys.Contains(uc.Issuer):
		u.SigningKey = uc.Issuer
		if scope, ok := ac.SigningKeys.GetScope(uc.Issuer); ok && scope != nil {
			if err := scope.ValidateScopedSigner(uc); err != nil {
				return nil, fmt.Errorf("scoped signing key: %w", err)
			}
			us, ok := scope.(*njwt.UserScope)
			if !ok {
				return nil, errors.New("scoped signing key of an unknown kind")
			}
			tl, err := ExpandTemplates(us.Template, uc, ac)
			if err != nil {
				return nil, err
			}
			limits = tl
		}
	default:
		return nil, ErrIssuerUnknown
	}
	if ac.IsClaimRevoked(uc) {
		return nil, ErrRevoked
	}
	if limits.BearerToken {
		if ac.Limits.DisallowBearer {
			return nil, ErrBearerNotAllowed
		}
	} else if !l.Vouched && !auth.VerifyNonce(uc.Subject, l.Sig, l.Nonce) {
		return nil, ErrSignature
	}
	if !connTypeAllowed(limits.AllowedConnectionTypes, l.ConnType) {
		return nil, fmt.Errorf("%w: %s", ErrConnType, l.ConnType)
	}
	if len(limits.Src) > 0 && !sourceAllowed(limits.Src, l.IP) {
		return nil, ErrSource
	}
	if len(limits.Times) > 0 {
		end, err := windowEnd(limits.Times, limits.Locale, now)
		if err != nil {
			return nil, err
		}
		u.Expires = end
	}
	if uc.Expires > 0 {
		if t := time.Unix(uc.Expires, 0); u.Expires.IsZero() || t.Before(u.Expires) {
			u.Expires = t
		}
	}
	u.Permissions = Permissions(limits.Permissions)
	if u.Permissions == nil {
		u.Permissions = Permissions(ac.DefaultPermissions)
	}
	u.Subs, u.Data, u.Payload = limits.Subs, limits.Data, limits.Payload
	return u, nil
}

func connTypeAllowed(allowed njwt.StringList, kind string) bool {
	if len(allowed) == 0 {
		return true
	}
	for _, a := range allowed {
		if strings.EqualFold(a, kind) {
			return true
		}
	}
	return false
}

func sourceAllowed(src njwt.CIDRList, ip net.IP) bool {
	if ip == nil {
		return false
	}
	for _, s := range src {
		for _, c := range strings.Split(s, ",") {
			c = strings.TrimSpace(c)
			if c == "" {
				continue
			}
			if !strings.Contains(c, "/") {
				if p := net.ParseIP(c); p != nil && p.Equal(ip) {
					return true
				}
				continue
			}
			if _, n, err := net.ParseCIDR(c); err == nil && n.Contains(ip) {
				return true
			}
		}
	}
	return false
}

// windowEnd returns when the time window now falls in ends, or an error
// when now is in none. Windows are clock times (15:04:05) in the locale
// (a tz database name; local time when empty); one whose end is before
// its start runs over midnight.
func windowEnd(ranges []njwt.TimeRange, locale string, now time.Time) (time.Time, error) {
	loc := time.Local
	if locale != "" {
		l, err := time.LoadLocation(locale)
		if err != nil {
			return time.Time{}, fmt.Errorf("user time window locale %q: %w", locale, err)
		}
		loc = l
	}
	t := now.In(loc)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	for _, r := range ranges {
		s, err1 := time.Parse("15:04:05", r.Start)
		e, err2 := time.Parse("15:04:05", r.End)
		if err1 != nil || err2 != nil {
			return time.Time{}, fmt.Errorf("user time window %q-%q is invalid", r.Start, r.End)
		}
		start := day.Add(clock(s))
		end := day.Add(clock(e))
		if !end.After(start) { // over midnight
			if !t.Before(start) {
				return end.Add(24 * time.Hour), nil
			}
			if t.Before(end) {
				return end, nil
			}
			continue
		}
		if !t.Before(start) && t.Before(end) {
			return end, nil
		}
	}
	return time.Time{}, ErrTimeWindow
}

func clock(t time.Time) time.Duration {
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second
}

var templateRe = regexp.MustCompile(`{{\s*([a-z-]+)\(\s*([^)]*?)\s*\)\s*}}`)

// ExpandTemplates fills the templates of a scoped signing key's
// permissions with the user's and account's names and tags:
// {{name()}}, {{subject()}}, {{tag(k)}}, {{account-name()}},
// {{account()}}, {{account-tag(k)}}. A tag with several values yields
// one subject per value; a missing tag fails the login.
func ExpandTemplates(in njwt.UserPermissionLimits, uc *njwt.UserClaims, ac *njwt.AccountClaims) (njwt.UserPermissionLimits, error) {
	out := in
	var err error
	expand := func(list njwt.StringList) njwt.StringList {
		if err != nil || len(list) == 0 {
			return list
		}
		var res njwt.StringList
		for _, s := range list {
			vals, e := expandOne(s, uc, ac)
			if e != nil {
				err = e
				return nil
			}
			res = append(res, vals...)
		}
		return res
	}
	out.Pub.Allow, out.Pub.Deny = expand(in.Pub.Allow), expand(in.Pub.Deny)
	out.Sub.Allow, out.Sub.Deny = expand(in.Sub.Allow), expand(in.Sub.Deny)
	return out, err
}

func expandOne(s string, uc *njwt.UserClaims, ac *njwt.AccountClaims) ([]string, error) {
	if !strings.Contains(s, "{{") {
		return []string{s}, nil
	}
	results := []string{s}
	for _, m := range templateRe.FindAllStringSubmatch(s, -1) {
		var vals []string
		switch fn, arg := m[1], m[2]; fn {
		case "name":
			vals = []string{uc.Name}
		case "subject":
			vals = []string{uc.Subject}
		case "account-name":
			vals = []string{ac.Name}
		case "account":
			vals = []string{ac.Subject}
		case "tag":
			vals = tagValues(uc.Tags, arg)
		case "account-tag":
			vals = tagValues(ac.Tags, arg)
		default:
			return nil, fmt.Errorf("template %q: unknown function %s()", m[0], fn)
		}
		if len(vals) == 0 || vals[0] == "" {
			return nil, fmt.Errorf("template %q in %q: no value", m[0], s)
		}
		var next []string
		for _, r := range results {
			for _, v := range vals {
				next = append(next, strings.Replace(r, m[0], v, 1))
			}
		}
		results = next
	}
	for _, r := range results {
		if strings.Contains(r, "{{") {
			return nil, fmt.Errorf("template in %q not understood", s)
		}
	}
	return results, nil
}

func tagValues(tags njwt.TagList, key string) []string {
	key = strings.ToLower(strings.Trim(key, `"' `))
	var out []string
	for _, t := range tags {
		k, v, ok := strings.Cut(t, ":")
		if ok && strings.ToLower(k) == key {
			out = append(out, v)
		}
	}
	return out
}
