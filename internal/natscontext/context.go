package natscontext

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// DefaultURL is what a context without a url connects to.
const DefaultURL = "nats://127.0.0.1:4222"

// Errors callers may test for with errors.Is.
var (
	ErrNotFound    = errors.New("context not found")
	ErrInvalidName = errors.New("invalid context name")
)

// Context is one stored set of connection settings. The exported fields
// map one to one onto the JSON keys natscli writes.
type Context struct {
	// Name comes from the file name; it is not stored inside the file.
	Name string

	Description   string
	URL           string
	SocksProxy    string
	Token         string
	User          string
	Password      string
	Creds         string
	NKey          string
	Cert          string
	Key           string
	CA            string
	NSC           string // legacy nsc:// lookup, kept but not acted on
	JSDomain      string
	JSAPIPrefix   string
	JSEventPrefix string
	InboxPrefix   string
	UserJWT       string
	UserSeed      string
	ColorScheme   string
	TLSFirst      bool

	WindowsCertStore    string
	WindowsCertMatchBy  string
	WindowsCertMatch    string
	WindowsCACertsMatch []string

	// Extra holds keys this package does not know, exactly as read, so
	// that saving a context never drops what another tool wrote.
	Extra map[string]json.RawMessage

	path string
}

// fileForm is the on-disk shape, in natscli's field order. natscli
// marshals every field (empty strings included) and a nil slice as null.
type fileForm struct {
	Name                string   `json:"name,omitempty"`
	Description         string   `json:"description"`
	URL                 string   `json:"url"`
	SocksProxy          string   `json:"socks_proxy"`
	Token               string   `json:"token"`
	User                string   `json:"user"`
	Password            string   `json:"password"`
	Creds               string   `json:"creds"`
	NKey                string   `json:"nkey"`
	Cert                string   `json:"cert"`
	Key                 string   `json:"key"`
	CA                  string   `json:"ca"`
	NSC                 string   `json:"nsc"`
	JSDomain            string   `json:"jetstream_domain"`
	JSAPIPrefix         string   `json:"jetstream_api_prefix"`
	JSEventPrefix       string   `json:"jetstream_event_prefix"`
	InboxPrefix         string   `json:"inbox_prefix"`
	UserJWT             string   `json:"user_jwt"`
	UserSeed            string   `json:"user_seed"`
	ColorScheme         string   `json:"color_scheme"`
	TLSFirst            bool     `json:"tls_first"`
	WindowsCertStore    string   `json:"windows_cert_store"`
	WindowsCertMatchBy  string   `json:"windows_cert_match_by"`
	WindowsCertMatch    string   `json:"windows_cert_match"`
	WindowsCACertsMatch []string `json:"windows_ca_certs_match"`
}

// knownKeys are the JSON keys fileForm owns.
var knownKeys = map[string]bool{
	"name": true, "description": true, "url": true, "socks_proxy": true,
	"token": true, "user": true, "password": true, "creds": true,
	"nkey": true, "cert": true, "key": true, "ca": true, "nsc": true,
	"jetstream_domain": true, "jetstream_api_prefix": true,
	"jetstream_event_prefix": true, "inbox_prefix": true, "user_jwt": true,
	"user_seed": true, "color_scheme": true, "tls_first": true,
	"windows_cert_store": true, "windows_cert_match_by": true,
	"windows_cert_match": true, "windows_ca_certs_match": true,
}

// Keys lists the JSON keys of a context file in natscli's order.
func Keys() []string {
	return []string{
		"description", "url", "socks_proxy", "token", "user", "password",
		"creds", "nkey", "cert", "key", "ca", "nsc", "jetstream_domain",
		"jetstream_api_prefix", "jetstream_event_prefix", "inbox_prefix",
		"user_jwt", "user_seed", "color_scheme", "tls_first",
		"windows_cert_store", "windows_cert_match_by", "windows_cert_match",
		"windows_ca_certs_match",
	}
}

// Parse decodes a context file's contents. name is not read from data.
func Parse(name string, data []byte) (*Context, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("context %q is not valid JSON: %w", name, err)
	}
	var ff fileForm
	if err := json.Unmarshal(data, &ff); err != nil {
		return nil, fmt.Errorf("context %q: %w", name, err)
	}
	c := fromFileForm(ff)
	c.Name = name
	for k, v := range raw {
		if knownKeys[k] {
			continue
		}
		if c.Extra == nil {
			c.Extra = map[string]json.RawMessage{}
		}
		c.Extra[k] = v
	}
	return c, nil
}

// FileBytes encodes c as natscli writes a context file: every known field
// in natscli's order, two-space indent, no name and no trailing newline.
// Unknown fields follow, sorted by key.
func (c *Context) FileBytes() ([]byte, error) { return c.encode(false) }

// MarshalJSON encodes c for --json output: the file form plus "name".
func (c *Context) MarshalJSON() ([]byte, error) { return c.encode(true) }

func (c *Context) encode(withName bool) ([]byte, error) {
	ff := c.toFileForm()
	if withName {
		ff.Name = c.Name
	}
	compact, err := json.Marshal(ff)
	if err != nil {
		return nil, err
	}
	if len(c.Extra) > 0 {
		keys := make([]string, 0, len(c.Extra))
		for k := range c.Extra {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b bytes.Buffer
		b.Write(compact[:len(compact)-1])
		for _, k := range keys {
			kb, _ := json.Marshal(k)
			v := c.Extra[k]
			if !json.Valid(v) {
				return nil, fmt.Errorf("context %q: field %q holds invalid JSON", c.Name, k)
			}
			b.WriteByte(',')
			b.Write(kb)
			b.WriteByte(':')
			b.Write(v)
		}
		b.WriteByte('}')
		compact = b.Bytes()
	}
	var out bytes.Buffer
	if err := json.Indent(&out, compact, "", "  "); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func fromFileForm(ff fileForm) *Context {
	return &Context{
		Description: ff.Description, URL: ff.URL, SocksProxy: ff.SocksProxy,
		Token: ff.Token, User: ff.User, Password: ff.Password, Creds: ff.Creds,
		NKey: ff.NKey, Cert: ff.Cert, Key: ff.Key, CA: ff.CA, NSC: ff.NSC,
		JSDomain: ff.JSDomain, JSAPIPrefix: ff.JSAPIPrefix,
		JSEventPrefix: ff.JSEventPrefix, InboxPrefix: ff.InboxPrefix,
		UserJWT: ff.UserJWT, UserSeed: ff.UserSeed, ColorScheme: ff.ColorScheme,
		TLSFirst:            ff.TLSFirst,
		WindowsCertStore:    ff.WindowsCertStore,
		WindowsCertMatchBy:  ff.WindowsCertMatchBy,
		WindowsCertMatch:    ff.WindowsCertMatch,
		WindowsCACertsMatch: ff.WindowsCACertsMatch,
	}
}

func (c *Context) toFileForm() fileForm {
	return fileForm{
		Description: c.Description, URL: c.URL, SocksProxy: c.SocksProxy,
		Token: c.Token, User: c.User, Password: c.Password, Creds: c.Creds,
		NKey: c.NKey, Cert: c.Cert, Key: c.Key, CA: c.CA, NSC: c.NSC,
		JSDomain: c.JSDomain, JSAPIPrefix: c.JSAPIPrefix,
		JSEventPrefix: c.JSEventPrefix, InboxPrefix: c.InboxPrefix,
		UserJWT: c.UserJWT, UserSeed: c.UserSeed, ColorScheme: c.ColorScheme,
		TLSFirst:            c.TLSFirst,
		WindowsCertStore:    c.WindowsCertStore,
		WindowsCertMatchBy:  c.WindowsCertMatchBy,
		WindowsCertMatch:    c.WindowsCertMatch,
		WindowsCACertsMatch: c.WindowsCACertsMatch,
	}
}

// Clone returns a deep copy of c that is not tied to a file.
func (c *Context) Clone() *Context {
	n := *c
	n.path = ""
	if c.WindowsCACertsMatch != nil {
		n.WindowsCACertsMatch = append([]string(nil), c.WindowsCACertsMatch...)
	}
	if c.Extra != nil {
		n.Extra = make(map[string]json.RawMessage, len(c.Extra))
		for k, v := range c.Extra {
			n.Extra[k] = append(json.RawMessage(nil), v...)
		}
	}
	return &n
}

// Path is the file c was loaded from or saved to, empty otherwise.
func (c *Context) Path() string { return c.path }

// ServerURL is the url to dial: the stored one or DefaultURL.
func (c *Context) ServerURL() string {
	if c.URL == "" {
		return DefaultURL
	}
	return c.URL
}

// AuthMethod names the kind of credential c uses, without revealing it.
func (c *Context) AuthMethod() string {
	switch {
	case c.User != "":
		return "user/password"
	case c.Creds != "":
		return "credentials file"
	case c.NKey != "":
		return "nkey"
	case c.UserJWT != "":
		return "user jwt"
	case c.Token != "":
		return "token"
	case c.NSC != "":
		return "nsc lookup"
	default:
		return "none"
	}
}

// ValidateName checks that name can be a context file name. The rules
// are natscli's: not empty, no "..", no path separators.
func ValidateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: the name is empty", ErrInvalidName)
	case strings.Contains(name, ".."):
		return fmt.Errorf("%w: %q must not contain \"..\"", ErrInvalidName, name)
	case strings.ContainsAny(name, `/\`):
		return fmt.Errorf("%w: %q must not contain \"/\" or \"\\\"", ErrInvalidName, name)
	}
	return nil
}

// Validate checks c for settings that cannot work together. It does not
// touch the files c refers to; Check does that.
func (c *Context) Validate() error {
	if err := ValidateName(c.Name); err != nil {
		return err
	}
	var kinds []string
	for _, k := range []struct{ name, v string }{
		{"user", c.User}, {"creds", c.Creds}, {"nkey", c.NKey},
		{"nsc", c.NSC}, {"user_jwt", c.UserJWT},
	} {
		if k.v != "" {
			kinds = append(kinds, k.name)
		}
	}
	if len(kinds) > 1 {
		return fmt.Errorf("context %q sets more than one kind of credential (%s); keep only one of user/password, creds, nkey, nsc, user_jwt",
			c.Name, strings.Join(kinds, ", "))
	}
	if c.UserSeed != "" && c.UserJWT == "" {
		return fmt.Errorf("context %q sets user_seed without user_jwt; set both, or use creds", c.Name)
	}
	if (c.Cert == "") != (c.Key == "") {
		return fmt.Errorf("context %q sets only one of cert and key; a client certificate needs both", c.Name)
	}
	switch c.WindowsCertStore {
	case "", "user", "machine", "windowscurrentuser", "windowslocalmachine":
	default:
		return fmt.Errorf("context %q: windows_cert_store must be user or machine, not %q", c.Name, c.WindowsCertStore)
	}
	switch c.WindowsCertMatchBy {
	case "", "subject", "issuer", "thumbprint":
	default:
		return fmt.Errorf("context %q: windows_cert_match_by must be subject, issuer or thumbprint, not %q", c.Name, c.WindowsCertMatchBy)
	}
	if c.WindowsCertStore != "" && c.WindowsCertMatch == "" {
		return fmt.Errorf("context %q: windows_cert_store needs windows_cert_match", c.Name)
	}
	return nil
}
