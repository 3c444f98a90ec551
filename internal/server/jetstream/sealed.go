package jetstream

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/filestore"
)

// With encryption at rest, the files kept beside a file stream's store
// (meta.json, consumers/<name>.json) are sealed with the store's data key
// (filestore.Sealer), as the blocks are: a key rotation covers them, and
// a wrong or missing key refuses the stream before anything is written.
// Plain files (written before encryption was turned on) are read and
// sealed when next written.

const (
	metaPurpose     = "meta"
	consumerPurpose = "consumer:"
)

// encryption is the configured key, nil when there is none.
func (js *JetStream) encryption() *store.Encryption {
	e := js.cfg.Encryption
	if e.Key == "" {
		return nil
	}
	if e.Cipher == 0 {
		e.Cipher = store.ChaChaPoly
	}
	return &e
}

// sealer is the stream's sealer: nil for memory streams and unencrypted
// stores (files are then written plain).
func (s *stream) sealer() *filestore.Sealer {
	if fs, ok := s.st.(*filestore.Store); ok {
		return fs.Sealer()
	}
	return nil
}

// readStreamMeta reads the metadata of the stream kept in dir (named
// after it), opening it with the store's key when it is sealed. Nothing
// is written: a wrong key leaves the stream as it is.
func (a *jsAccount) readStreamMeta(dir string) (streamMeta, error) {
	var m streamMeta
	b, err := os.ReadFile(filepath.Join(dir, metaFile))
	if err != nil {
		return m, err
	}
	if filestore.IsSealed(b) {
		sl, err := filestore.LoadSealer(nil, dir, filepath.Base(dir), a.js.encryption())
		if err != nil {
			return m, err
		}
		if sl == nil {
			return m, fmt.Errorf("%w: %s is encrypted and the stream has no key file", store.ErrEncryption, metaFile)
		}
		if b, err = sl.Open(metaPurpose, b); err != nil {
			return m, err
		}
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("decoding: %w", err)
	}
	return m, nil
}

// writeFileAtomic writes data to path through a temporary file and a
// rename, with an fsync before the rename when sync is set.
func writeFileAtomic(path string, data []byte, sync bool) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}
