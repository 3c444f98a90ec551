package filestore

import (
	"bytes"
	"crypto/cipher"
	crand "crypto/rand"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/vfs"
)

// A Sealer seals the small files kept beside an encrypted store (its
// stream's configuration, its consumers' configurations and states) with
// the store's data key, so that a key rotation (which re-seals the key
// file only) covers them too:
//
//	"SLS1" | nonce (12) | AEAD(plain) with associated data "SLS1" + purpose
//
// The purpose names the file's role and owner (for example "meta" or
// "consumer:NAME"): a sealed file moved to another role does not open.
type Sealer struct{ aead cipher.AEAD }

const sealedFileMagic = "SLS1"

// ErrSealed: a sealed file was found and there is no key to open it.
var ErrSealed = errors.New("file is encrypted and no encryption key is configured")

// IsSealed reports whether data is a sealed file.
func IsSealed(data []byte) bool { return bytes.HasPrefix(data, []byte(sealedFileMagic)) }

// Sealer returns the store's sealer, nil when it is not encrypted.
func (s *Store) Sealer() *Sealer {
	if s.b.codec == nil || s.b.codec.aead == nil {
		return nil
	}
	return &Sealer{aead: s.b.codec.aead}
}

// LoadSealer opens the key file of the store in dir (a stream named name)
// without changing anything, for reading sealed files before the store is
// opened. It returns nil and no error when the store has no key file; an
// error wrapping store.ErrEncryption when the configured key (and
// previous key) do not open it or no key is configured.
func LoadSealer(fsys vfs.FS, dir, name string, enc *store.Encryption) (*Sealer, error) {
	if fsys == nil {
		fsys = vfs.OS{}
	}
	data, err := fsys.ReadFile(filepath.Join(dir, keyFile))
	if vfs.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: reading the key file: %v", store.ErrEncryption, err)
	}
	if enc == nil || enc.Key == "" {
		return nil, fmt.Errorf("%w: stream %q is encrypted at rest and no encryption key is configured (jetstream { key: ... })", store.ErrEncryption, name)
	}
	cph, dek, err := openKey(data, enc.Key, name)
	if err != nil && enc.PrevKey != "" {
		cph, dek, err = openKey(data, enc.PrevKey, name)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: the configured key does not open stream %q's key file: wrong key", store.ErrEncryption, name)
	}
	a, err := newAEAD(cph, dek)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: a}, nil
}

func sealAD(purpose string) []byte { return []byte(sealedFileMagic + purpose) }

// Seal returns plain sealed for purpose; a nil Sealer returns plain.
func (s *Sealer) Seal(purpose string, plain []byte) ([]byte, error) {
	if s == nil {
		return plain, nil
	}
	ns := s.aead.NonceSize()
	out := make([]byte, len(sealedFileMagic)+ns, len(sealedFileMagic)+ns+len(plain)+s.aead.Overhead())
	copy(out, sealedFileMagic)
	nonce := out[len(sealedFileMagic):]
	if _, err := crand.Read(nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(out, nonce, plain, sealAD(purpose)), nil
}

// Open returns the plain contents of data written by Seal for purpose.
// Plain data (a file written before encryption was turned on) is
// returned as it is; a sealed file without a Sealer fails with ErrSealed,
// one that does not open (another key, purpose or a flipped bit) with
// store.ErrCorrupt.
func (s *Sealer) Open(purpose string, data []byte) ([]byte, error) {
	if !IsSealed(data) {
		return data, nil
	}
	if s == nil {
		return nil, ErrSealed
	}
	ns := s.aead.NonceSize()
	if len(data) < len(sealedFileMagic)+ns+s.aead.Overhead() {
		return nil, fmt.Errorf("%w: sealed file is too short", store.ErrCorrupt)
	}
	nonce := data[len(sealedFileMagic) : len(sealedFileMagic)+ns]
	p, err := s.aead.Open(nil, nonce, data[len(sealedFileMagic)+ns:], sealAD(purpose))
	if err != nil {
		return nil, fmt.Errorf("%w: sealed file does not open with the store's key", store.ErrCorrupt)
	}
	return p, nil
}
