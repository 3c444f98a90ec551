package jwt

import (
	"crypto/tls"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	njwt "github.com/nats-io/jwt/v2"
)

// ResolverConfig is a parsed resolver setting; Open makes the resolver.
type ResolverConfig struct {
	Kind string // MEMORY, URL, FULL or CACHE
	URL  string
	Dir  DirConfig
	// TLS is resolver_tls: how URL dials an https account server.
	TLS *tls.Config
}

// Open makes the resolver the configuration describes.
func (rc *ResolverConfig) Open() (Resolver, error) {
	switch rc.Kind {
	case "MEMORY":
		return NewMemory(), nil
	case "URL":
		u, err := NewURL(rc.URL)
		if err == nil && rc.TLS != nil {
			u.SetTLS(rc.TLS)
		}
		return u, err
	case "FULL", "CACHE":
		return NewDir(rc.Dir)
	}
	return nil, fmt.Errorf("unknown resolver type %q", rc.Kind)
}

var (
	memRe = regexp.MustCompile(`(?i)^\s*(MEM|MEMORY)\s*$`)
	urlRe = regexp.MustCompile(`(?i)^\s*URL\s*\(\s*"?([^\s"]*)"?\s*\)\s*$`)
)

const resolverSyntax = `should be MEMORY, URL("url") or a block {type: full|cache, dir: ...}`

// ParseResolver reads the value of 'resolver': MEMORY, URL(url), or a
// map {type, dir, allow_delete, hard_delete, interval, limit, timeout,
// ttl}. get unwraps a map value (the config tree wraps values).
func ParseResolver(v any, get func(any) any) (*ResolverConfig, error) {
	switch v := v.(type) {
	case string:
		if memRe.MatchString(v) {
			return &ResolverConfig{Kind: "MEMORY"}, nil
		}
		if m := urlRe.FindStringSubmatch(v); m != nil {
			if _, err := NewURL(m[1]); err != nil {
				return nil, err
			}
			return &ResolverConfig{Kind: "URL", URL: m[1]}, nil
		}
		return nil, fmt.Errorf("invalid resolver %q: %s", v, resolverSyntax)
	case map[string]any:
		return parseDirResolver(v, get)
	}
	return nil, fmt.Errorf("resolver %s", resolverSyntax)
}

func parseDirResolver(m map[string]any, get func(any) any) (*ResolverConfig, error) {
	var dc DirConfig
	var typ string
	var del, hdel, hdelSet bool
	var errs []string
	dur := func(k string, v any) time.Duration {
		s, ok := v.(string)
		if !ok {
			errs = append(errs, fmt.Sprintf("resolver '%s' must be a duration such as \"2m\"", k))
			return 0
		}
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Sprintf("resolver '%s': invalid duration %q", k, s))
		}
		return d
	}
	for k, raw := range m {
		v := get(raw)
		switch strings.ToLower(k) {
		case "type":
			s, _ := v.(string)
			typ = strings.ToUpper(s)
		case "dir":
			s, ok := v.(string)
			if !ok {
				errs = append(errs, "resolver 'dir' must be a string")
			}
			dc.Dir = s
		case "allow_delete":
			b, ok := v.(bool)
			if !ok {
				errs = append(errs, "resolver 'allow_delete' must be true or false")
			}
			del = b
		case "hard_delete":
			b, ok := v.(bool)
			if !ok {
				errs = append(errs, "resolver 'hard_delete' must be true or false")
			}
			hdel, hdelSet = b, true
		case "limit":
			n, ok := v.(int64)
			if !ok || n < 0 {
				errs = append(errs, "resolver 'limit' must be a positive number")
			}
			dc.Limit = n
		case "ttl":
			dc.TTL = dur(k, v)
		case "interval":
			dc.Interval = dur(k, v)
		case "timeout":
			dc.Timeout = dur(k, v)
			if dc.Timeout == 0 && len(errs) == 0 {
				errs = append(errs, "resolver 'timeout' must be more than zero")
			}
		default:
			errs = append(errs, fmt.Sprintf("unknown field %q in resolver", k))
		}
	}
	switch typ {
	case "MEM", "MEMORY":
		typ = "MEMORY"
	case "FULL":
		if dc.TTL != 0 {
			errs = append(errs, "FULL does not accept ttl")
		}
		if hdelSet && !del {
			errs = append(errs, "hard_delete has no effect without delete")
		}
		switch {
		case del && hdel:
			dc.Delete = HardDelete
		case del:
			dc.Delete = RenameDeleted
		}
	case "CACHE":
		dc.Cache = true
		if dc.Interval != 0 {
			errs = append(errs, "CACHE does not accept sync")
		}
		if del {
			errs = append(errs, "CACHE does not accept allow_delete")
		}
		if hdelSet {
			errs = append(errs, "CACHE does not accept hard_delete")
		}
	case "":
		errs = append(errs, "resolver block needs 'type' (full or cache)")
	default:
		errs = append(errs, fmt.Sprintf("unknown resolver type %q (want full, cache or memory)", typ))
	}
	if (typ == "FULL" || typ == "CACHE") && dc.Dir == "" {
		errs = append(errs, "dir has no value and needs to point to a directory")
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "; "))
	}
	return &ResolverConfig{Kind: typ, Dir: dc}, nil
}

// CheckPreload checks one resolver_preload entry: the key is an
// account's public key and the value its JWT.
func CheckPreload(pub, tok string) error {
	ac, err := njwt.DecodeAccountClaims(strings.TrimSpace(tok))
	if err != nil {
		return fmt.Errorf("invalid account JWT for %s: %v", pub, err)
	}
	if ac.Subject != pub {
		return fmt.Errorf("preloaded JWT for %s is the JWT of account %s", pub, ac.Subject)
	}
	return nil
}

// CheckSentinel checks a default_sentinel JWT as nats-server does: a
// bearer user JWT, or a scoped user (issuer_account set, no permissions
// of its own) whose scope is checked at login.
func CheckSentinel(tok string) error {
	uc, err := njwt.DecodeUserClaims(tok)
	if err != nil {
		return errors.New("default sentinel JWT not valid")
	}
	if uc.BearerToken || (uc.IssuerAccount != "" && uc.HasEmptyPermissions()) {
		return nil
	}
	return errors.New("default sentinel must be a bearer token")
}
