package keystore

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nats-io/nkeys"
)

// KeyRing is the keys directory: seeds by public key, and creds files.
type KeyRing struct {
	Dir string
}

const gitignore = `# ignore all nk files
**/*.nk

# ignore all creds files
**/*.creds
`

// KeyPath is where the seed of pub is kept.
func (k *KeyRing) KeyPath(pub string) string {
	if len(pub) < 3 {
		return filepath.Join(k.Dir, "keys", pub+".nk")
	}
	return filepath.Join(k.Dir, "keys", pub[:1], pub[1:3], pub+".nk")
}

// CredsPath is where a user's creds file is kept.
func (k *KeyRing) CredsPath(operator, account, user string) string {
	return filepath.Join(k.Dir, "creds", operator, account, user+".creds")
}

func (k *KeyRing) prepare() error {
	for _, d := range []string{k.Dir, filepath.Join(k.Dir, "keys"), filepath.Join(k.Dir, "creds")} {
		if err := mkdir(d); err != nil {
			return err
		}
	}
	if p := filepath.Join(k.Dir, ".gitignore"); !exists(p) {
		return writeFile(p, []byte(gitignore))
	}
	return nil
}

// Store writes the seed of kp, unless it is there already, and returns
// its path.
func (k *KeyRing) Store(kp nkeys.KeyPair) (string, error) {
	pub, err := kp.PublicKey()
	if err != nil {
		return "", err
	}
	seed, err := kp.Seed()
	if err != nil {
		return "", fmt.Errorf("key %s has no seed: %w", pub, err)
	}
	if err := k.prepare(); err != nil {
		return "", err
	}
	path := k.KeyPath(pub)
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(bytes.TrimSpace(old), seed) {
		return path, nil
	}
	return path, writeFile(path, seed)
}

// Has reports whether the seed of pub is stored.
func (k *KeyRing) Has(pub string) bool { return exists(k.KeyPath(pub)) }

// Get returns the key pair for pub from its stored seed. A missing seed
// is a *NotFoundError naming the file.
func (k *KeyRing) Get(pub string) (nkeys.KeyPair, error) {
	path := k.KeyPath(pub)
	b, err := readFile(path)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, &NotFoundError{Kind: "private key for", Name: pub, Path: path}
		}
		return nil, err
	}
	kp, err := nkeys.FromSeed(bytes.TrimSpace(b))
	if err != nil {
		return nil, &FileError{Path: path, Err: fmt.Errorf("not a seed: %w", err)}
	}
	if got, _ := kp.PublicKey(); got != pub {
		return nil, &FileError{Path: path, Err: fmt.Errorf("holds the seed of %s, not %s", got, pub)}
	}
	return kp, nil
}

// Remove deletes the seed of pub, if stored.
func (k *KeyRing) Remove(pub string) error {
	err := os.Remove(k.KeyPath(pub))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return &FileError{Path: k.KeyPath(pub), Err: unwrapPath(err)}
	}
	return nil
}

// All lists the public keys whose seeds are stored.
func (k *KeyRing) All() ([]string, error) {
	var keys []string
	err := filepath.WalkDir(filepath.Join(k.Dir, "keys"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if n, ok := strings.CutSuffix(d.Name(), ".nk"); ok && !d.IsDir() {
			keys = append(keys, n)
		}
		return nil
	})
	sort.Strings(keys)
	return keys, err
}

// WriteCreds writes a user's creds file and returns its path.
func (k *KeyRing) WriteCreds(operator, account, user string, creds []byte) (string, error) {
	if err := k.prepare(); err != nil {
		return "", err
	}
	path := k.CredsPath(operator, account, user)
	return path, writeFile(path, creds)
}

// RemoveCreds deletes a user's creds file, if there is one.
func (k *KeyRing) RemoveCreds(operator, account, user string) error {
	err := os.Remove(k.CredsPath(operator, account, user))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// NeedsMigration reports whether the keys directory has nsc's old
// layout: .nk or .creds files outside keys/ and creds/.
func (k *KeyRing) NeedsMigration() (bool, error) {
	old := false
	err := filepath.WalkDir(k.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(k.Dir, p)
		if d.IsDir() && (rel == "keys" || rel == "creds") {
			return filepath.SkipDir
		}
		if ext := filepath.Ext(p); !d.IsDir() && (ext == ".nk" || ext == ".creds") {
			old = true
			return filepath.SkipAll
		}
		return nil
	})
	return old, err
}

// Migrate moves an old-layout keys directory to the current one: seeds
// to keys/K/XX/PUB.nk and <op>/accounts/<acc>/users/<u>.creds to
// creds/<op>/<acc>/<u>.creds. The old directory is kept beside it under
// the returned name.
func (k *KeyRing) Migrate(suffix string) (string, error) {
	to := &KeyRing{Dir: k.Dir + ".migrating_" + suffix}
	if err := to.prepare(); err != nil {
		return "", err
	}
	err := filepath.WalkDir(k.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch filepath.Ext(p) {
		case ".nk":
			b, err := readFile(p)
			if err != nil {
				return err
			}
			kp, err := nkeys.FromSeed(bytes.TrimSpace(b))
			if err != nil {
				return &FileError{Path: p, Err: fmt.Errorf("not a seed: %w", err)}
			}
			_, err = to.Store(kp)
			return err
		case ".creds":
			rel, _ := filepath.Rel(k.Dir, p)
			parts := strings.Split(rel, string(filepath.Separator))
			var dst string
			switch {
			case len(parts) == 4 && parts[0] == "creds":
				dst = filepath.Join(to.Dir, rel)
			case len(parts) == 5:
				dst = filepath.Join(to.Dir, "creds", parts[0], parts[2], parts[4])
			default:
				return &FileError{Path: p, Err: errors.New("creds file in an unexpected place")}
			}
			b, err := readFile(p)
			if err != nil {
				return err
			}
			return writeFile(dst, b)
		}
		return nil
	})
	if err != nil {
		os.RemoveAll(to.Dir)
		return "", err
	}
	old := k.Dir + "_" + suffix
	if err := os.Rename(k.Dir, old); err != nil {
		os.RemoveAll(to.Dir)
		return "", &FileError{Path: k.Dir, Err: unwrapPath(err)}
	}
	if err := os.Rename(to.Dir, k.Dir); err != nil {
		return "", &FileError{Path: k.Dir, Err: unwrapPath(err)}
	}
	return old, nil
}
