package cmdutil

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/natscontext"
	"github.com/sluicehq/sluice/internal/version"
)

// Source says where a setting's value came from.
type Source string

// Sources, from strongest to weakest.
const (
	FromFlag    Source = "flag"
	FromEnv     Source = "environment"
	FromContext Source = "context"
	FromDefault Source = "default"
)

// Settings are the connection settings a client command uses after
// precedence: flag > environment > selected context > default.
type Settings struct {
	// Context is the effective context: the stored one (if any) with
	// flags and environment applied. Its Name is the stored context's,
	// empty when none was used.
	Context *natscontext.Context
	// ContextPath is the file the stored context came from.
	ContextPath string
	// Timeout bounds connecting and waiting for replies.
	Timeout time.Duration
	// ConnectionName is sent to the server in CONNECT.
	ConnectionName string

	sources map[string]Source
}

// Source reports where the value of a setting key came from.
func (s *Settings) Source(key string) Source {
	if src, ok := s.sources[key]; ok {
		return src
	}
	return FromDefault
}

// Describe names the server and context for messages, e.g.
// `nats://127.0.0.1:4222 (context "dev")`.
func (s *Settings) Describe() string {
	d := s.Context.ServerURL()
	if s.Context.Name != "" {
		d += fmt.Sprintf(" (context %q)", s.Context.Name)
	}
	return d
}

// Settings resolves the connection settings once per command.
func (f *Factory) Settings() (*Settings, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.settingsLocked()
}

func (f *Factory) settingsLocked() (*Settings, error) {
	if f.settings != nil {
		return f.settings, nil
	}
	v := f.Viper()
	if f.connFlags == nil {
		// Used without a root (a test building one command): bind the
		// environment so precedence still holds.
		for _, cf := range connFlags {
			if cf.env != "" {
				_ = v.BindEnv(cf.key, cf.env)
			}
		}
		v.SetDefault(KeyTimeout, DefaultTimeout)
	}

	explicit := func(key string) Source {
		if f.connFlags != nil {
			if fl := f.connFlags.Lookup(key); fl != nil && fl.Changed {
				return FromFlag
			}
		}
		if env := EnvVar(key); env != "" && os.Getenv(env) != "" {
			return FromEnv
		}
		return ""
	}

	var stored *natscontext.Context
	if !v.GetBool(KeyNoContext) {
		var err error
		stored, err = f.loadContext(v.GetString(KeyContext), explicit(KeyContext))
		if err != nil {
			return nil, err
		}
	}

	authOverridden := false
	for _, k := range authKeys {
		if explicit(k) != "" {
			authOverridden = true
		}
	}
	certOverridden := explicit(KeyTLSCert) != "" || explicit(KeyTLSKey) != ""

	eff := &natscontext.Context{}
	layer := map[string]any{}
	if stored != nil {
		eff = stored.Clone()
		eff.Name = stored.Name
		put := func(k, val string) {
			if val != "" {
				layer[k] = val
			}
		}
		put(KeyServer, stored.URL)
		if !authOverridden {
			put(KeyUser, stored.User)
			put(KeyPassword, stored.Password)
			put(KeyToken, stored.Token)
			put(KeyCreds, stored.Creds)
			put(KeyNKey, stored.NKey)
			put(KeyJWT, stored.UserJWT)
			put(KeySeed, stored.UserSeed)
		} else {
			eff.NSC = ""
		}
		if !certOverridden {
			put(KeyTLSCert, stored.Cert)
			put(KeyTLSKey, stored.Key)
		}
		put(KeyTLSCA, stored.CA)
		put(KeyJSDomain, stored.JSDomain)
		put(KeyJSAPIPrefix, stored.JSAPIPrefix)
		put(KeyInboxPrefix, stored.InboxPrefix)
		if stored.TLSFirst {
			layer[KeyTLSFirst] = true
		}
	}
	if err := v.MergeConfigMap(layer); err != nil {
		return nil, err
	}

	sources := map[string]Source{}
	for _, cf := range connFlags {
		if src := explicit(cf.key); src != "" {
			sources[cf.key] = src
		} else if _, ok := layer[cf.key]; ok {
			sources[cf.key] = FromContext
		}
	}

	eff.URL = v.GetString(KeyServer)
	eff.User = v.GetString(KeyUser)
	eff.Password = v.GetString(KeyPassword)
	eff.Token = v.GetString(KeyToken)
	eff.Creds = v.GetString(KeyCreds)
	eff.NKey = v.GetString(KeyNKey)
	eff.UserJWT = v.GetString(KeyJWT)
	eff.UserSeed = v.GetString(KeySeed)
	eff.Cert = v.GetString(KeyTLSCert)
	eff.Key = v.GetString(KeyTLSKey)
	eff.CA = v.GetString(KeyTLSCA)
	eff.TLSFirst = v.GetBool(KeyTLSFirst)
	eff.JSDomain = v.GetString(KeyJSDomain)
	eff.JSAPIPrefix = v.GetString(KeyJSAPIPrefix)
	eff.InboxPrefix = v.GetString(KeyInboxPrefix)

	// natscli compatibility: --user without a password is a token.
	if src := sources[KeyUser]; (src == FromFlag || src == FromEnv) && eff.Password == "" && eff.Token == "" {
		eff.Token, eff.User = eff.User, ""
		sources[KeyToken] = src
		delete(sources, KeyUser)
	}

	timeout := v.GetDuration(KeyTimeout)
	if timeout <= 0 {
		return nil, FlagErrorf("--timeout must be positive, not %q", v.GetString(KeyTimeout))
	}
	name := strings.TrimSpace(v.GetString(KeyConnectionName))
	if name == "" {
		name = "sluice " + version.Version
	}

	s := &Settings{Context: eff, Timeout: timeout, ConnectionName: name, sources: sources}
	if stored != nil {
		s.ContextPath = stored.Path()
	}
	f.settings = s
	return s, nil
}

// loadContext finds the stored context to use: ref names one or is the
// path of a context file; an empty ref means the selected one, if any.
func (f *Factory) loadContext(ref string, src Source) (*natscontext.Context, error) {
	store, err := f.Contexts()
	if err != nil {
		return nil, err
	}
	from := ""
	if src == FromEnv {
		from = " (from $NATS_CONTEXT)"
	}
	if ref == "" {
		sel, err := store.Selected()
		if err != nil || sel == "" {
			return nil, err
		}
		c, err := store.Load(sel)
		if errors.Is(err, natscontext.ErrNotFound) || errors.Is(err, natscontext.ErrInvalidName) {
			return nil, WithHint(ExitNotFound, fmt.Errorf("the selected context %q does not exist", sel),
				"select another with 'sluice context select', or clear the selection with 'sluice context unselect'")
		}
		return c, err
	}
	if strings.HasSuffix(ref, ".json") || strings.ContainsAny(ref, `/\`) {
		c, err := natscontext.LoadFile(ref)
		if errors.Is(err, natscontext.ErrNotFound) {
			return nil, WithHint(ExitNotFound, fmt.Errorf("context file %s does not exist%s", ref, from),
				"give the name of a stored context or the path of a context file")
		}
		return c, err
	}
	c, err := store.Load(ref)
	if errors.Is(err, natscontext.ErrNotFound) {
		return nil, WithHint(ExitNotFound, fmt.Errorf("context %q not found%s", ref, from),
			"list contexts with 'sluice context ls' or create it with 'sluice context add %s'", ref)
	}
	return c, err
}
