package cmdutil

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/nats-io/nats.go"
)

// dialLocked connects with the resolved settings. f.mu is held.
func (f *Factory) dialLocked(extra ...nats.Option) (*nats.Conn, error) {
	s, err := f.settingsLocked()
	if err != nil {
		return nil, err
	}
	return f.dialSettingsLocked(s, extra...)
}

func (f *Factory) dialSettingsLocked(s *Settings, extra ...nats.Option) (*nats.Conn, error) {
	opts, err := s.Context.NATSOptions(os.Getenv)
	if err != nil {
		return nil, WithHint(ExitConnect, err, "fix the %s", s.credentialOrigin())
	}
	errOut := f.IO.ErrOut
	opts = append(opts,
		nats.Name(s.ConnectionName),
		nats.Timeout(s.Timeout),
		nats.MaxReconnects(-1),
		nats.NoCallbacksAfterClientClose(),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				fmt.Fprintf(errOut, "sluice: disconnected: %v; reconnecting\n", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			fmt.Fprintf(errOut, "sluice: reconnected to %s\n", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			if sub != nil {
				fmt.Fprintf(errOut, "sluice: subscription on %q: %v\n", sub.Subject, err)
				return
			}
			fmt.Fprintf(errOut, "sluice: %v\n", err)
		}),
	)
	opts = append(opts, extra...)
	nc, err := nats.Connect(s.Context.ServerURL(), opts...)
	if err != nil {
		return nil, connectError(err, s)
	}
	return nc, nil
}

// credentialOrigin says where the credentials came from, for hints.
func (s *Settings) credentialOrigin() string {
	for _, k := range authKeys {
		switch s.Source(k) {
		case FromFlag:
			return "--" + k + " flag"
		case FromEnv:
			return "$" + EnvVar(k) + " variable"
		}
	}
	if s.Context.Name != "" {
		return fmt.Sprintf("context %q ('sluice context edit %s')", s.Context.Name, s.Context.Name)
	}
	return "connection flags"
}

// connectError turns nats.Connect's errors into ones that say what
// failed and what to do next.
func connectError(err error, s *Settings) error {
	target := s.Describe()
	var unknownCA x509.UnknownAuthorityError
	switch {
	case errors.Is(err, nats.ErrNoServers):
		hint := "check that the server is running and the URL is right"
		if s.Source(KeyServer) == FromDefault {
			hint = "start a server with 'sluice serve', or choose one with --server, $NATS_URL or 'sluice context select'"
		}
		return WithHint(ExitConnect, fmt.Errorf("cannot connect to %s: connection refused", target), "%s", hint)
	case errors.Is(err, nats.ErrAuthorization), errors.Is(err, nats.ErrAuthExpired),
		errors.Is(err, nats.ErrAuthRevoked), errors.Is(err, nats.ErrAccountAuthExpired):
		return WithHint(ExitConnect, fmt.Errorf("server at %s refused the credentials: %w", target, err),
			"check the %s", s.credentialOrigin())
	case errors.As(err, &unknownCA):
		return WithHint(ExitConnect, fmt.Errorf("cannot verify the TLS certificate of %s: %w", target, err),
			"pass the CA that signed it with --tlsca")
	case errors.Is(err, nats.ErrSecureConnRequired):
		return WithHint(ExitConnect, fmt.Errorf("server at %s requires TLS", target),
			"use a tls:// URL, or --tlsca for a private CA")
	case errors.Is(err, nats.ErrTimeout), strings.Contains(err.Error(), "i/o timeout"):
		return WithHint(ExitConnect, fmt.Errorf("timed out connecting to %s: %w", target, err),
			"check the address, or raise --timeout (now %s)", s.Timeout)
	}
	return WithHint(ExitConnect, fmt.Errorf("cannot connect to %s: %w", target, err), "")
}
