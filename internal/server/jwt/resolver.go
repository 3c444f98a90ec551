package jwt

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nkeys"
)

// ErrNotFound is returned by a resolver that has no JWT for an account.
var ErrNotFound = errors.New("account JWT not found")

// Resolver finds account JWTs by the account's public key.
type Resolver interface {
	// Fetch returns the account's JWT, or ErrNotFound.
	Fetch(pub string) (string, error)
	// Store keeps a JWT (a preload or a pushed update). Stores that keep
	// only newer JWTs report stored=false when an older one was offered.
	Store(pub, tok string) (stored bool, err error)
	// Kind is MEMORY, URL, FULL or CACHE.
	Kind() string
	// SetTLS changes how an account server is dialed (URL only).
	SetTLS(cfg *tls.Config)
	Close()
}

// Memory keeps account JWTs in memory: the preloads and what is pushed.
type Memory struct {
	mu sync.RWMutex
	m  map[string]string
}

// NewMemory returns an empty memory resolver.
func NewMemory() *Memory { return &Memory{m: map[string]string{}} }

func (r *Memory) Fetch(pub string) (string, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if t, ok := r.m[pub]; ok {
		return t, nil
	}
	return "", ErrNotFound
}

func (r *Memory) Store(pub, tok string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[pub] = tok
	return true, nil
}

func (r *Memory) Kind() string       { return "MEMORY" }
func (r *Memory) SetTLS(*tls.Config) {}
func (r *Memory) Close()             {}

// URL fetches account JWTs from an HTTP account server (GET <url><pub>),
// keeping what it fetched so that a slow or absent server does not stall
// logins of known accounts.
type URL struct {
	base    string
	client  *http.Client
	timeout time.Duration
	mu      sync.Mutex
	cache   map[string]string
}

// DefaultURLTimeout bounds one fetch from an account server.
const DefaultURLTimeout = 2 * time.Second

// maxJWTSize bounds what is read from an account server or a request.
const maxJWTSize = 1 << 20

// NewURL returns a resolver fetching from base (a trailing / is added).
func NewURL(base string) (*URL, error) {
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return nil, fmt.Errorf("account resolver URL %q must start with http:// or https://", base)
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	return &URL{base: base, client: &http.Client{}, timeout: DefaultURLTimeout, cache: map[string]string{}}, nil
}

func (r *URL) Fetch(pub string) (string, error) {
	if !nkeys.IsValidPublicAccountKey(pub) {
		return "", ErrNotFound
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+pub, nil)
	if err != nil {
		return "", err
	}
	r.mu.Lock()
	client := r.client
	r.mu.Unlock()
	resp, err := client.Do(req)
	if err != nil {
		if t, ok := r.cached(pub); ok {
			return t, nil
		}
		return "", fmt.Errorf("fetching account JWT: %w", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return "", ErrNotFound
	case resp.StatusCode != http.StatusOK:
		if t, ok := r.cached(pub); ok {
			return t, nil
		}
		return "", fmt.Errorf("fetching account JWT: account server answered %s", resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJWTSize))
	if err != nil {
		return "", fmt.Errorf("fetching account JWT: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	r.mu.Lock()
	r.cache[pub] = tok
	r.mu.Unlock()
	return tok, nil
}

func (r *URL) cached(pub string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.cache[pub]
	return t, ok
}

// Store keeps a pushed JWT in the cache; the account server stays the
// authority on the next fetch.
func (r *URL) Store(pub, tok string) (bool, error) {
	r.mu.Lock()
	r.cache[pub] = tok
	r.mu.Unlock()
	return true, nil
}

func (r *URL) Kind() string { return "URL" }

// SetTLS is resolver_tls: later fetches dial with cfg.
func (r *URL) SetTLS(cfg *tls.Config) {
	tr := &http.Transport{}
	if cfg != nil {
		tr.TLSClientConfig = cfg.Clone()
	}
	r.mu.Lock()
	old := r.client
	r.client = &http.Client{Transport: tr}
	r.mu.Unlock()
	old.CloseIdleConnections()
}
func (r *URL) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.client.CloseIdleConnections()
}
