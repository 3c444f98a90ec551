package filestore

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"strings"
	"sync"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/vfs"
)

// consumerStore keeps one consumer's state in <dir>/obs/<name>.cs: the
// state as JSON followed by its CRC-32C (sealed whole in an encrypted
// store: see Sealer), replaced atomically (temporary file and rename) on
// every Sync after an Update.
type consumerStore struct {
	s    *Store
	name string
	path string

	mu     sync.Mutex
	st     *store.ConsumerState
	dirty  bool
	closed bool
}

func (s *Store) obsDir() string { return filepath.Join(s.dir, "obs") }

// ConsumerStore implements store.Store.
func (s *Store) ConsumerStore(name string) (store.ConsumerStore, error) {
	if name == "" || strings.ContainsAny(name, "/\\\x00") || name == "." || name == ".." {
		return nil, fmt.Errorf("%w: consumer name %q", store.ErrBadConfig, name)
	}
	s.cmu.Lock()
	defer s.cmu.Unlock()
	if c := s.consumers[name]; c != nil {
		return c, nil
	}
	if err := s.fs.MkdirAll(s.obsDir()); err != nil {
		return nil, fmt.Errorf("%w: %v", store.ErrWrite, err)
	}
	c := &consumerStore{s: s, name: name, path: filepath.Join(s.obsDir(), name+".cs")}
	data, err := s.fs.ReadFile(c.path)
	switch {
	case err == nil:
		// The store opened with its key: a sealed state that does not
		// open is corrupt, and starts over as a corrupt plain one does.
		data, derr := s.Sealer().Open(consumerPurpose(name), data)
		if errors.Is(derr, ErrSealed) {
			return nil, fmt.Errorf("%w: consumer %s state: %v", store.ErrEncryption, name, derr)
		}
		var st *store.ConsumerState
		if derr == nil {
			st, derr = decodeConsumer(data)
		}
		if derr != nil {
			s.log.Errorf("store %s: consumer %s state is corrupt, starting over: %v", s.b.name, name, derr)
			st = &store.ConsumerState{}
		}
		c.st = st
	case vfs.IsNotExist(err):
		c.st = &store.ConsumerState{}
	default:
		return nil, fmt.Errorf("%w: %v", store.ErrWrite, err)
	}
	s.consumers[name] = c
	return c, nil
}

// consumerPurpose binds a sealed state file to its consumer.
func consumerPurpose(name string) string { return "obs:" + name }

func encodeConsumer(st *store.ConsumerState) ([]byte, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli)), nil
}

func decodeConsumer(b []byte) (*store.ConsumerState, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("%w: short consumer state", store.ErrCorrupt)
	}
	body := b[:len(b)-4]
	if binary.LittleEndian.Uint32(b[len(b)-4:]) != crc32.Checksum(body, castagnoli) {
		return nil, fmt.Errorf("%w: consumer state checksum", store.ErrCorrupt)
	}
	st := &store.ConsumerState{}
	if err := json.Unmarshal(body, st); err != nil {
		return nil, fmt.Errorf("%w: %v", store.ErrCorrupt, err)
	}
	return st, nil
}

func (c *consumerStore) Update(st *store.ConsumerState) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return store.ErrStoreClosed
	}
	c.st = store.CopyConsumerState(st)
	c.dirty = true
	return nil
}

func (c *consumerStore) State() (*store.ConsumerState, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return store.CopyConsumerState(c.st), nil
}

// Sync writes the state if it changed (durably when the stream syncs
// always).
func (c *consumerStore) Sync() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flushLocked()
}

func (c *consumerStore) flushLocked() error {
	if !c.dirty || c.closed {
		return nil
	}
	data, err := encodeConsumer(c.st)
	if err != nil {
		return err
	}
	if data, err = c.s.Sealer().Seal(consumerPurpose(c.name), data); err != nil {
		return err
	}
	if err := vfs.WriteFileAtomic(c.s.fs, c.path, data, c.s.Engine.Config().SyncAlways); err != nil {
		return fmt.Errorf("%w: %v", store.ErrWrite, err)
	}
	c.dirty = false
	return nil
}

func (c *consumerStore) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.flushLocked()
	c.closed = true
	c.s.cmu.Lock()
	delete(c.s.consumers, c.name)
	c.s.cmu.Unlock()
	return err
}

// close flushes at store stop (the store's consumer lock is held).
func (c *consumerStore) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.flushLocked(); err != nil {
		c.s.log.Errorf("store %s: saving consumer %s: %v", c.s.b.name, c.name, err)
	}
	c.closed = true
}

func (c *consumerStore) Delete() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.s.cmu.Lock()
	delete(c.s.consumers, c.name)
	c.s.cmu.Unlock()
	if err := c.s.fs.Remove(c.path); err != nil && !vfs.IsNotExist(err) {
		return fmt.Errorf("%w: %v", store.ErrWrite, err)
	}
	return nil
}
