package natscontext

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// Env reads environment variables; os.Getenv when nil.
type Env func(string) string

func (e Env) get(k string) string {
	if e == nil {
		return os.Getenv(k)
	}
	return e(k)
}

// Scheme returns the lower-cased URI scheme of a credential reference
// ("file", "env", "data", "op", "nsc", ...), or "" for a bare value.
// One-letter schemes are Windows drive letters, not schemes.
func Scheme(ref string) string {
	u, err := url.Parse(ref)
	if err != nil || len(u.Scheme) < 2 {
		return ""
	}
	return strings.ToLower(u.Scheme)
}

// resolvable are the schemes Resolve understands, or explains.
var resolvable = map[string]bool{"file": true, "env": true, "data": true, "op": true, "nsc": true}

// ExpandPath expands a leading ~ and $VARS in a file path, as natscli does.
func ExpandPath(p string, env Env) string {
	p = os.Expand(p, env.get)
	if p == "~" || strings.HasPrefix(p, "~/") || strings.HasPrefix(p, `~\`) {
		home := env.get("HOME")
		if home == "" {
			home, _ = os.UserHomeDir()
		}
		p = filepath.Join(home, p[1:])
	}
	return p
}

// FilePath returns the filesystem path a bare or file:// reference names,
// and false for any other scheme.
func FilePath(ref string, env Env) (string, bool) {
	switch Scheme(ref) {
	case "":
		return ExpandPath(ref, env), true
	case "file":
		return ExpandPath(trimPrefixFold(ref, "file://"), env), true
	}
	return "", false
}

// Resolve returns the bytes a credential reference names:
//
//	/path or ~/path or file:///path   the file's contents
//	env://NAME                        the value of environment variable NAME
//	data:[type];base64,PAYLOAD        the decoded payload
//
// op:// and nsc:// references, which natscli resolves by running the
// 1Password and nsc programs, are reported as unsupported.
func Resolve(ref string, env Env) ([]byte, error) {
	if p, ok := FilePath(ref, env); ok {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", p, unwrapPathErr(err))
		}
		return b, nil
	}
	switch Scheme(ref) {
	case "env":
		name := trimPrefixFold(ref, "env://")
		if name == "" {
			return nil, fmt.Errorf("%q names no environment variable; write env://NAME", ref)
		}
		v := env.get(name)
		if v == "" {
			return nil, fmt.Errorf("environment variable %s is not set or empty", name)
		}
		return []byte(v), nil
	case "data":
		return decodeData(ref)
	case "op":
		return nil, fmt.Errorf("%q: 1Password (op://) references are not supported by sluice; export the secret to a file or use env://NAME", redactRef(ref))
	case "nsc":
		return nil, fmt.Errorf("%q: nsc:// references are not supported by sluice yet; generate a creds file ('nsc generate creds') and use its path", ref)
	}
	return nil, fmt.Errorf("%q: unknown credential scheme %q; use a path, file://, env:// or data:", redactRef(ref), Scheme(ref))
}

// EncodeData wraps b as a data:;base64, reference.
func EncodeData(b []byte) string { return "data:;base64," + base64.StdEncoding.EncodeToString(b) }

func decodeData(ref string) ([]byte, error) {
	rest := trimPrefixFold(ref, "data:")
	comma := strings.IndexByte(rest, ',')
	if comma < 0 {
		return nil, errors.New("data: reference has no ',' before its payload")
	}
	isB64 := false
	for _, p := range strings.Split(rest[:comma], ";") {
		if strings.TrimSpace(p) == "base64" {
			isB64 = true
		}
	}
	if !isB64 {
		return nil, errors.New("data: reference must be base64 encoded (data:;base64,...)")
	}
	b, err := base64.StdEncoding.DecodeString(rest[comma+1:])
	if err != nil {
		return nil, fmt.Errorf("data: reference is not valid base64: %w", err)
	}
	return b, nil
}

// literal returns a literal-or-reference field's value: a value with a
// scheme Resolve knows is resolved (trailing newlines trimmed), anything
// else is the value itself.
func literal(v string, env Env) (string, error) {
	if v == "" || !resolvable[Scheme(v)] {
		return v, nil
	}
	b, err := Resolve(v, env)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// NATSOptions turns c into nats.go options: authentication, TLS, inbox
// prefix. The server url is c.ServerURL(); it is not an option.
func (c *Context) NATSOptions(env Env) ([]nats.Option, error) {
	var opts []nats.Option
	switch {
	case c.NSC != "":
		return nil, fmt.Errorf("context %q uses an nsc lookup (%q), which sluice does not support yet; set creds to a credentials file instead", c.Name, c.NSC)
	case c.User != "":
		pw, err := literal(c.Password, env)
		if err != nil {
			return nil, fmt.Errorf("password: %w", err)
		}
		opts = append(opts, nats.UserInfo(c.User, pw))
	case c.Creds != "":
		o, err := credsOption(c.Creds, env)
		if err != nil {
			return nil, fmt.Errorf("creds: %w", err)
		}
		opts = append(opts, o)
	case c.NKey != "":
		o, err := nkeyOption(c.NKey, env)
		if err != nil {
			return nil, fmt.Errorf("nkey: %w", err)
		}
		opts = append(opts, o)
	case c.UserJWT != "":
		jwt, err := literal(c.UserJWT, env)
		if err != nil {
			return nil, fmt.Errorf("user jwt: %w", err)
		}
		if c.UserSeed == "" {
			opts = append(opts, nats.UserJWT(
				func() (string, error) { return jwt, nil },
				func([]byte) ([]byte, error) { return nil, nil }))
			break
		}
		seed, err := literal(c.UserSeed, env)
		if err != nil {
			return nil, fmt.Errorf("user seed: %w", err)
		}
		opts = append(opts, nats.UserJWTAndSeed(jwt, seed))
	}
	if c.Token != "" {
		tok, err := literal(c.Token, env)
		if err != nil {
			return nil, fmt.Errorf("token: %w", err)
		}
		opts = append(opts, nats.Token(tok))
	}
	tlsOpts, err := c.tlsOptions(env)
	if err != nil {
		return nil, err
	}
	opts = append(opts, tlsOpts...)
	if c.InboxPrefix != "" {
		opts = append(opts, nats.CustomInboxPrefix(c.InboxPrefix))
	}
	if c.SocksProxy != "" {
		return nil, fmt.Errorf("context %q uses a SOCKS5 proxy (%s), which sluice does not support yet; connect directly or tunnel the port (ssh -L)", c.Name, c.SocksProxy)
	}
	return opts, nil
}

func (c *Context) tlsOptions(env Env) ([]nats.Option, error) {
	if c.WindowsCertStore != "" {
		return nil, fmt.Errorf("context %q uses the Windows certificate store, which sluice does not support yet; export the certificate and set cert, key and ca", c.Name)
	}
	var opts []nats.Option
	path := func(field, ref string) (string, error) {
		p, ok := FilePath(ref, env)
		if !ok {
			return "", fmt.Errorf("%s: %q must be a file path (a %s: reference cannot be used for TLS files)", field, ref, Scheme(ref))
		}
		return p, nil
	}
	if c.Cert != "" || c.Key != "" {
		if c.Cert == "" || c.Key == "" {
			return nil, errors.New("a client certificate needs both --tlscert and --tlskey")
		}
		cert, err := path("cert", c.Cert)
		if err != nil {
			return nil, err
		}
		key, err := path("key", c.Key)
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.ClientCert(cert, key))
	}
	if c.CA != "" {
		ca, err := path("ca", c.CA)
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.RootCAs(ca))
	}
	if c.TLSFirst {
		opts = append(opts, nats.TLSHandshakeFirst())
	}
	return opts, nil
}

func credsOption(ref string, env Env) (nats.Option, error) {
	if p, ok := FilePath(ref, env); ok {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", p, unwrapPathErr(err))
		}
		return nats.UserCredentials(p), nil
	}
	data, err := Resolve(ref, env)
	if err != nil {
		return nil, err
	}
	jwt, err := nkeys.ParseDecoratedJWT(data)
	if err != nil {
		return nil, fmt.Errorf("not a credentials file: %w", err)
	}
	kp, err := nkeys.ParseDecoratedNKey(data)
	if err != nil {
		return nil, fmt.Errorf("not a credentials file: %w", err)
	}
	return nats.UserJWT(
		func() (string, error) { return jwt, nil },
		func(nonce []byte) ([]byte, error) { return kp.Sign(nonce) }), nil
}

func nkeyOption(ref string, env Env) (nats.Option, error) {
	data, err := Resolve(ref, env)
	if err != nil {
		return nil, err
	}
	kp, err := nkeys.ParseDecoratedNKey(data)
	if err != nil {
		return nil, fmt.Errorf("no nkey seed found: %w", err)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return nil, err
	}
	return nats.Nkey(pub, func(nonce []byte) ([]byte, error) { return kp.Sign(nonce) }), nil
}

// CredentialStatus describes one credential field for people: where its
// value comes from and whether it can be read.
type CredentialStatus struct {
	Field  string `json:"field"`
	Source string `json:"source"`           // "file", "environment", "embedded", "literal", ...
	OK     bool   `json:"ok"`               // the value can be obtained
	Detail string `json:"detail,omitempty"` // the path, variable or problem
}

// Check inspects every credential and TLS field of c without connecting.
func (c *Context) Check(env Env) []CredentialStatus {
	var out []CredentialStatus
	file := func(field, ref string) {
		if ref == "" {
			return
		}
		st := CredentialStatus{Field: field}
		switch Scheme(ref) {
		case "", "file":
			p, _ := FilePath(ref, env)
			st.Source, st.Detail = "file", p
			if info, err := os.Stat(p); err != nil {
				st.Detail = fmt.Sprintf("%s: %v", p, unwrapPathErr(err))
			} else if info.IsDir() {
				st.Detail = p + ": is a directory"
			} else {
				st.OK = true
			}
		case "env":
			name := trimPrefixFold(ref, "env://")
			st.Source, st.Detail = "environment", name
			st.OK = env.get(name) != ""
			if !st.OK {
				st.Detail = name + " is not set"
			}
		case "data":
			st.Source = "embedded"
			_, err := decodeData(ref)
			st.OK = err == nil
			if err != nil {
				st.Detail = err.Error()
			}
		default:
			st.Source = Scheme(ref)
			_, err := Resolve(ref, env)
			st.Detail = err.Error()
		}
		out = append(out, st)
	}
	lit := func(field, v string) {
		if v == "" {
			return
		}
		if resolvable[Scheme(v)] {
			file(field, v)
			return
		}
		out = append(out, CredentialStatus{Field: field, Source: "literal", OK: true})
	}
	file("creds", c.Creds)
	file("nkey", c.NKey)
	lit("user_jwt", c.UserJWT)
	lit("user_seed", c.UserSeed)
	lit("token", c.Token)
	lit("password", c.Password)
	for _, f := range []struct{ name, v string }{{"cert", c.Cert}, {"key", c.Key}, {"ca", c.CA}} {
		if f.v != "" && !func() bool { _, ok := FilePath(f.v, env); return ok }() {
			out = append(out, CredentialStatus{Field: f.name, Source: Scheme(f.v), Detail: "TLS files must be paths"})
			continue
		}
		file(f.name, f.v)
	}
	return out
}

// Embed replaces file references in creds, nkey, user_jwt and user_seed
// with data: references holding the files' contents, so the context no
// longer depends on those files. Other references are left alone.
func (c *Context) Embed(env Env) error {
	for _, f := range []*string{&c.Creds, &c.NKey} {
		if *f == "" {
			continue
		}
		if p, ok := FilePath(*f, env); ok {
			b, err := os.ReadFile(p)
			if err != nil {
				return fmt.Errorf("cannot embed %s: %w", p, unwrapPathErr(err))
			}
			*f = EncodeData(b)
		}
	}
	for _, f := range []*string{&c.UserJWT, &c.UserSeed} {
		if Scheme(*f) != "file" {
			continue
		}
		p, _ := FilePath(*f, env)
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("cannot embed %s: %w", p, unwrapPathErr(err))
		}
		*f = EncodeData(b)
	}
	return nil
}

func trimPrefixFold(s, prefix string) string {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):]
	}
	return s
}

// redactRef keeps a reference's scheme and hides the rest.
func redactRef(ref string) string {
	if s := Scheme(ref); s != "" {
		return s + ":..."
	}
	return "..."
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
