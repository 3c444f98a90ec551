package server

import (
	"fmt"
	"slices"
	"time"

	"github.com/sluicehq/sluice/internal/server/auth"
	"github.com/sluicehq/sluice/internal/server/subject"
)

// Response types of a service export: how many replies a requester gets.
const (
	ResponseSingleton = "Singleton"
	ResponseStream    = "Stream"
	ResponseChunked   = "Chunked"
)

// DefaultResponseThreshold is how long a service import waits for replies
// to a request before forgetting it, as nats-server's default.
const DefaultResponseThreshold = 2 * time.Minute

// AccountConfig is one account of the accounts {} block.
type AccountConfig struct {
	Name               string
	Exports            []Export
	Imports            []Import
	DefaultPermissions *auth.Permissions
	// Mappings rewrite the subjects published into the account.
	Mappings []subject.Mapping
	// TraceDest receives the traces of messages with a sampled traceparent
	// header, for TraceSampling percent of them (msg_trace / trace_dest).
	TraceDest     string
	TraceSampling int
	// Limits from the limits {} block; nil when it has none.
	Limits *AccountLimits
}

func (a *AccountConfig) limits() AccountLimits {
	if a.Limits == nil {
		return Unlimited
	}
	return *a.Limits
}

// Export offers subjects of an account to others: a stream (messages flow
// out) or a service (requests flow in, replies flow back).
type Export struct {
	Subject string
	Service bool
	// ResponseType is Singleton (default), Stream or Chunked, for services.
	ResponseType      string
	ResponseThreshold time.Duration
	// Accounts, when not empty, are the only importers allowed (private).
	Accounts []string
	// AllowTrace lets message traces follow requests into a service.
	AllowTrace bool
}

// Import takes an export of Account into this account.
type Import struct {
	Account string
	Subject string // the exported subject (or a subset of it)
	Service bool
	// Prefix (streams) or To (both) rewrite the subject on arrival.
	Prefix string
	To     string
	// Share puts the requester's details in Nats-Request-Info (services).
	Share bool
	// AllowTrace lets message traces follow a stream import.
	AllowTrace bool
}

// validateAuth checks the cross-references of the security options: a
// user's account exists, names are unique, imports match an export that
// lets the importer in, no_auth_user names a user.
func (o *Options) validateAuth() error {
	accs := map[string]*AccountConfig{}
	for _, a := range o.Accounts {
		switch {
		case a.Name == "" || a.Name == globalAccountName:
			return fmt.Errorf("%q is a reserved account name", a.Name)
		case accs[a.Name] != nil:
			return fmt.Errorf("account %q defined twice", a.Name)
		}
		accs[a.Name] = a
	}
	known := func(name string) bool {
		return name == "" || name == globalAccountName || accs[name] != nil || name == o.SystemAccount
	}
	seen := map[string]bool{}
	for _, u := range o.Users {
		if seen[u.Username] {
			return fmt.Errorf("duplicate user %q", u.Username)
		}
		seen[u.Username] = true
		if !known(u.Account) {
			return fmt.Errorf("user %q: account %q is not defined", u.Username, u.Account)
		}
		if err := u.Permissions.Validate(); err != nil {
			return fmt.Errorf("user %q: %w", u.Username, err)
		}
	}
	for _, u := range o.Nkeys {
		if seen[u.Nkey] {
			return fmt.Errorf("duplicate nkey user %q", u.Nkey)
		}
		seen[u.Nkey] = true
		if !known(u.Account) {
			return fmt.Errorf("nkey user %q: account %q is not defined", u.Nkey, u.Account)
		}
		if err := u.Permissions.Validate(); err != nil {
			return fmt.Errorf("nkey user %q: %w", u.Nkey, err)
		}
	}
	for _, p := range []*auth.Permissions{o.Permissions, o.DefaultPermissions} {
		if err := p.Validate(); err != nil {
			return err
		}
	}
	if o.NoAuthUser != "" && !seen[o.NoAuthUser] {
		return fmt.Errorf("no_auth_user: %q not present as user or nkey in authorization block or account configuration", o.NoAuthUser)
	}
	for _, a := range o.Accounts {
		if err := a.validate(accs); err != nil {
			return fmt.Errorf("account %q: %w", a.Name, err)
		}
	}
	return nil
}

func (a *AccountConfig) validate(accs map[string]*AccountConfig) error {
	if err := a.DefaultPermissions.Validate(); err != nil {
		return err
	}
	for _, ex := range a.Exports {
		if !subject.ValidSubject(ex.Subject) {
			return fmt.Errorf("export of invalid subject %q", ex.Subject)
		}
		for _, name := range ex.Accounts {
			if accs[name] == nil {
				return fmt.Errorf("export %q names account %q, which is not defined", ex.Subject, name)
			}
		}
	}
	for _, im := range a.Imports {
		kind := "stream"
		if im.Service {
			kind = "service"
		}
		src := accs[im.Account]
		if src == nil {
			return fmt.Errorf("%s import of %q: account %q is not defined", kind, im.Subject, im.Account)
		}
		if im.Account == a.Name {
			return fmt.Errorf("%s import of %q from itself", kind, im.Subject)
		}
		if !subject.ValidSubject(im.Subject) {
			return fmt.Errorf("%s import of invalid subject %q", kind, im.Subject)
		}
		if im.To != "" && !subject.ValidSubject(im.To) {
			return fmt.Errorf("%s import of %q: invalid 'to' subject %q", kind, im.Subject, im.To)
		}
		if im.Prefix != "" && !subject.ValidLiteral(im.Prefix) {
			return fmt.Errorf("stream import of %q: invalid prefix %q", im.Subject, im.Prefix)
		}
		if err := im.checkRename(); err != nil {
			return fmt.Errorf("%s import of %q: %w", kind, im.Subject, err)
		}
		if src.findExport(im.Subject, im.Service, a.Name) == nil {
			return fmt.Errorf("%s import of %q from account %q not authorized: no matching export", kind, im.Subject, im.Account)
		}
	}
	return nil
}

// findExport returns the export of this account that covers subj for an
// importer, nil when none does.
func (a *AccountConfig) findExport(subj string, service bool, importer string) *Export {
	for i := range a.Exports {
		ex := &a.Exports[i]
		if ex.Service != service || !subject.SubsetOf(subj, ex.Subject) {
			continue
		}
		if len(ex.Accounts) == 0 || slices.Contains(ex.Accounts, importer) {
			return ex
		}
	}
	return nil
}

// checkRename reports a 'to' or 'prefix' that cannot rename the subject.
func (im *Import) checkRename() error {
	if im.Service {
		_, _, err := serviceImportTransform(im.To, im.Subject)
		return err
	}
	_, err := streamImportTransform(im.Subject, im.streamDest())
	return err
}

// streamDest is where a stream import delivers: 'to', the prefixed
// subject, or "" for the subject as published.
func (im *Import) streamDest() string {
	if im.Prefix != "" {
		return im.Prefix + "." + im.Subject
	}
	return im.To
}
