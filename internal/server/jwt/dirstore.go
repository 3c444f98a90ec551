package jwt

import (
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	njwt "github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

// Deletion modes of a full resolver (allow_delete, hard_delete).
const (
	NoDelete = iota
	RenameDeleted
	HardDelete
)

// DirConfig configures a NATS resolver keeping JWTs in a directory.
type DirConfig struct {
	Dir      string
	Cache    bool          // type: cache (else full)
	Limit    int64         // max JWTs kept; 0 = unlimited (full), 1000 (cache)
	TTL      time.Duration // cache only: forget JWTs this old
	Interval time.Duration // full only: sync interval with other servers
	Timeout  time.Duration // fetch timeout (from other servers)
	Delete   int           // full only: NoDelete, RenameDeleted, HardDelete
}

// DefaultCacheLimit is the size of a cache resolver without a limit.
const DefaultCacheLimit = 1000

// Dir is the full or cache NATS resolver: one file <pub>.jwt per
// account in a directory. A full resolver holds every account and keeps
// the newest JWT of each; a cache resolver keeps the most recently used
// up to its limit.
type Dir struct {
	cfg DirConfig
	mu  sync.Mutex
	lru map[string]time.Time // cache: last use of each stored key
}

// NewDir opens (creating if needed) the resolver's directory.
func NewDir(cfg DirConfig) (*Dir, error) {
	if cfg.Dir == "" {
		return nil, errors.New("dir has no value and needs to point to a directory")
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("resolver dir: %w", err)
	}
	if st, err := os.Stat(cfg.Dir); err != nil || !st.IsDir() {
		return nil, errors.New("dir needs to point to an accessible directory")
	}
	if cfg.Cache && cfg.Limit == 0 {
		cfg.Limit = DefaultCacheLimit
	}
	d := &Dir{cfg: cfg, lru: map[string]time.Time{}}
	if cfg.Cache {
		for _, k := range d.List() {
			if st, err := os.Stat(d.path(k)); err == nil {
				d.lru[k] = st.ModTime()
			}
		}
	}
	return d, nil
}

func (d *Dir) path(pub string) string { return filepath.Join(d.cfg.Dir, pub+".jwt") }

// SetTLS does nothing: the directory resolvers dial nobody.
func (d *Dir) SetTLS(*tls.Config) {}

// Kind is FULL or CACHE.
func (d *Dir) Kind() string {
	if d.cfg.Cache {
		return "CACHE"
	}
	return "FULL"
}

// Config is what the resolver was opened with.
func (d *Dir) Config() DirConfig { return d.cfg }

func (d *Dir) Close() {}

// Fetch reads the account's JWT from disk.
func (d *Dir) Fetch(pub string) (string, error) {
	if !nkeys.IsValidPublicAccountKey(pub) {
		return "", ErrNotFound
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	b, err := os.ReadFile(d.path(pub))
	if errors.Is(err, os.ErrNotExist) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", err
	}
	if d.cfg.Cache {
		if d.cfg.TTL > 0 && time.Since(d.lru[pub]) > d.cfg.TTL {
			os.Remove(d.path(pub))
			delete(d.lru, pub)
			return "", ErrNotFound
		}
		d.lru[pub] = time.Now()
	}
	return strings.TrimSpace(string(b)), nil
}

// Store writes tok unless the JWT on disk is the same or newer (by
// issue time). It refuses a JWT whose subject is not pub.
func (d *Dir) Store(pub, tok string) (bool, error) {
	if !nkeys.IsValidPublicAccountKey(pub) {
		return false, errors.New("invalid public key")
	}
	gc, err := njwt.DecodeGeneric(tok)
	if err != nil {
		return false, err
	}
	if gc.Subject != pub {
		return false, errors.New("jwt subject nkey and provided nkey do not match")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.path(pub)
	if old, err := os.ReadFile(p); err == nil {
		if oc, err := njwt.DecodeGeneric(strings.TrimSpace(string(old))); err == nil {
			// A JWT's id hashes only its standard claims: two JWTs issued
			// in the same second share it, so compare the tokens.
			if strings.TrimSpace(string(old)) == tok || oc.IssuedAt > gc.IssuedAt {
				return false, nil
			}
		}
	} else if d.cfg.Limit > 0 && int64(len(d.listLocked())) >= d.cfg.Limit {
		if !d.cfg.Cache {
			return false, errors.New("jwt store is full")
		}
		d.evictLocked()
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(tok), 0o640); err != nil {
		return false, err
	}
	if err := os.Rename(tmp, p); err != nil {
		return false, err
	}
	if d.cfg.Cache {
		d.lru[pub] = time.Now()
	}
	return true, nil
}

// evictLocked drops the least recently used JWT of a cache.
func (d *Dir) evictLocked() {
	var oldest string
	var at time.Time
	for k, t := range d.lru {
		if oldest == "" || t.Before(at) {
			oldest, at = k, t
		}
	}
	if oldest != "" {
		os.Remove(d.path(oldest))
		delete(d.lru, oldest)
	}
}

// Delete removes an account's JWT as allow_delete/hard_delete say.
func (d *Dir) Delete(pub string) error {
	if d.cfg.Delete == NoDelete {
		return errors.New("delete must be enabled in server config")
	}
	if !nkeys.IsValidPublicAccountKey(pub) {
		return errors.New("invalid public key")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.path(pub)
	if _, err := os.Stat(p); err != nil {
		return fmt.Errorf("account %s not found", pub)
	}
	if d.cfg.Delete == HardDelete {
		return os.Remove(p)
	}
	return os.Rename(p, p+".deleted")
}

// List returns the public keys of the stored accounts, sorted.
func (d *Dir) List() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.listLocked()
}

func (d *Dir) listLocked() []string {
	ents, _ := os.ReadDir(d.cfg.Dir)
	var out []string
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".jwt") {
			continue
		}
		if k := strings.TrimSuffix(n, ".jwt"); nkeys.IsValidPublicAccountKey(k) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
