package filestore

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/vfs"
)

// cleanMarker is the file a clean Stop leaves in the blk directory.
const cleanMarker = "clean"

// startBackground starts the periodic fsync of async mode.
func (s *Store) startBackground() {
	s.stopBG = make(chan struct{})
	s.bgDone = make(chan struct{})
	go func() {
		defer close(s.bgDone)
		for {
			cfg := s.Engine.Config()
			d := cfg.SyncInterval
			if d <= 0 {
				d = defaultSyncInterval
			}
			t := time.NewTimer(d)
			select {
			case <-s.stopBG:
				t.Stop()
				return
			case <-t.C:
			}
			if !cfg.SyncAlways {
				if err := s.syncNow(); err != nil && err != store.ErrStoreClosed {
					s.log.Errorf("store %s: background sync: %v", cfg.Name, err)
				}
			}
		}
	}()
}

// Stop implements store.Store: writes the tail's index, fsyncs and closes.
func (s *Store) Stop() error {
	s.Lock()
	if s.ClosedLocked() {
		s.Unlock()
		return store.ErrStoreClosed
	}
	s.Unlock()
	close(s.stopBG)
	<-s.bgDone
	s.stopCompressor()
	s.cmu.Lock()
	for _, c := range s.consumers {
		c.close()
	}
	s.cmu.Unlock()
	err := s.syncNow()
	s.sync.Lock()
	defer s.sync.Unlock()
	s.Lock()
	defer s.Unlock()
	if t := s.b.tail(); t != nil && s.b.failed == nil && err == nil {
		if len(t.pend) > 0 || t.alloc > t.size { // stored after syncNow returned, or preallocated
			if err = s.b.flush(); err == nil {
				s.b.cutPrealloc(t)
				err = t.f.Sync()
			}
		}
		if err == nil {
			s.b.writeIndex(t)
		}
	}
	if s.b.failed == nil && err == nil {
		// Everything is fsynced: the next open need not fsync it again.
		if merr := vfs.WriteFileAtomic(s.fs, filepath.Join(s.b.dir, cleanMarker), []byte("clean\n"), true); merr != nil {
			s.log.Warnf("store %s: writing the clean-stop marker: %v", s.b.name, merr)
		}
	}
	s.CloseLocked()
	s.b.closeAll()
	if err == store.ErrStoreClosed {
		err = nil
	}
	return err
}

// Flush writes what is buffered without fsyncing it (a killed process
// loses nothing Flush returned for): records acknowledged before they are
// durable, which a later Sync makes durable with everything before them.
func (s *Store) Flush() error {
	s.Lock()
	defer s.Unlock()
	if s.ClosedLocked() {
		return store.ErrStoreClosed
	}
	if err := s.b.flush(); err != nil {
		return fmt.Errorf("%w: %v", store.ErrWrite, err)
	}
	return nil
}

// Delete implements store.Store.
func (s *Store) Delete() error {
	if err := s.Stop(); err != nil && err != store.ErrStoreClosed {
		s.log.Warnf("store %s: stopping before delete: %v", s.b.name, err)
	}
	return s.fs.RemoveAll(s.dir)
}

// State adds the consumer count.
func (s *Store) State() store.State {
	st := s.Engine.State()
	s.cmu.Lock()
	st.Consumers = len(s.consumers)
	s.cmu.Unlock()
	return st
}

// StateWithDeleted adds the consumer count.
func (s *Store) StateWithDeleted() store.State {
	st := s.Engine.StateWithDeleted()
	s.cmu.Lock()
	st.Consumers = len(s.consumers)
	s.cmu.Unlock()
	return st
}

// UpdateConfig implements store.Store; a change of compression applies to
// records written from now on (older ones stay as they are, readable).
func (s *Store) UpdateConfig(cfg store.Config) error {
	if err := s.Engine.UpdateConfig(cfg); err != nil {
		return err
	}
	s.Lock()
	s.b.codec.compress = cfg.Compression == store.S2Compression
	s.b.zqueueAllLocked()
	s.Unlock()
	return nil
}
