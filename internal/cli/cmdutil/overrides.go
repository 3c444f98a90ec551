package cmdutil

import (
	"os"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/natscontext"
)

// ApplyOverrides writes the connection settings given by flag or
// environment into c, for commands that store them (context add, copy).
// Giving any credential replaces all of c's credentials, so a context
// can switch from a user to a creds file in one step. It returns the
// keys that were applied.
func (f *Factory) ApplyOverrides(c *natscontext.Context) []string {
	v := f.Viper()
	given := func(key string) bool {
		if f.connFlags != nil {
			if fl := f.connFlags.Lookup(key); fl != nil && fl.Changed {
				return true
			}
		}
		env := EnvVar(key)
		return env != "" && os.Getenv(env) != ""
	}
	var applied []string
	for _, k := range authKeys {
		if given(k) {
			c.User, c.Password, c.Token, c.Creds, c.NKey, c.UserJWT, c.UserSeed, c.NSC = "", "", "", "", "", "", "", ""
			break
		}
	}
	if given(KeyTLSCert) || given(KeyTLSKey) {
		c.Cert, c.Key = "", ""
	}
	fields := map[string]*string{
		KeyServer: &c.URL, KeyUser: &c.User, KeyPassword: &c.Password, KeyToken: &c.Token,
		KeyCreds: &c.Creds, KeyNKey: &c.NKey, KeyJWT: &c.UserJWT, KeySeed: &c.UserSeed,
		KeyTLSCert: &c.Cert, KeyTLSKey: &c.Key, KeyTLSCA: &c.CA,
		KeyJSDomain: &c.JSDomain, KeyJSAPIPrefix: &c.JSAPIPrefix, KeyInboxPrefix: &c.InboxPrefix,
	}
	for _, cf := range connFlags {
		p, ok := fields[cf.key]
		if !ok || !given(cf.key) {
			continue
		}
		*p = v.GetString(cf.key)
		applied = append(applied, cf.key)
	}
	if given(KeyTLSFirst) {
		c.TLSFirst = v.GetBool(KeyTLSFirst)
		applied = append(applied, KeyTLSFirst)
	}
	// natscli compatibility: --user without a password is a token.
	if given(KeyUser) && c.Password == "" && c.Token == "" {
		c.Token, c.User = c.User, ""
	}
	return applied
}

// Timeout is the --timeout value (or $NATS_TIMEOUT, or the default).
func (f *Factory) Timeout() time.Duration {
	if d := f.Viper().GetDuration(KeyTimeout); d > 0 {
		return d
	}
	return DefaultTimeout
}

// DialStored connects with the stored context c exactly as it is,
// ignoring connection flags and environment except --timeout and
// --connection-name; `context validate` uses it. The caller closes the
// connection.
func (f *Factory) DialStored(c *natscontext.Context, extra ...nats.Option) (*nats.Conn, error) {
	name := f.Viper().GetString(KeyConnectionName)
	if name == "" {
		name = "sluice context validate"
	}
	s := &Settings{Context: c, ContextPath: c.Path(), Timeout: f.Timeout(), ConnectionName: name,
		sources: map[string]Source{KeyServer: FromContext}}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dialSettingsLocked(s, extra...)
}
