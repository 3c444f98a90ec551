package logger

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// FileOptions say where a log file lives and when it rotates.
type FileOptions struct {
	Path      string
	SizeLimit int64 // rotate once the file grows past this many bytes; 0 = never
	MaxFiles  int   // files kept, the current one included; 0 = keep all
}

// NewFile returns a logger appending to a file, rotating it by size.
func NewFile(fo FileOptions, opts Options) (*Logger, error) {
	fs := &fileSink{fo: fo}
	if err := fs.open(); err != nil {
		return nil, err
	}
	l := newLogger(fs, opts)
	fs.note = func(format string, v ...any) {
		// Written straight to the file: the caller holds fs.mu.
		fs.writeLocked(l.line(LevelInfo, fmt.Sprintf(format, v...)))
	}
	return l, nil
}

const logFileMode = 0o640

// fileSink writes to a file and rotates it: the full file is renamed
// to PATH.YYYY.MM.DD.hh.mm.ss.nnnnnnnnn, as nats-server names backups,
// and the oldest backups beyond MaxFiles-1 are removed.
type fileSink struct {
	fo   FileOptions
	mu   sync.Mutex
	f    *os.File
	size int64
	note func(format string, v ...any)
}

func (s *fileSink) open() error {
	f, err := os.OpenFile(s.fo.Path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, logFileMode)
	if err != nil {
		return fmt.Errorf("open log file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open log file: %w", err)
	}
	s.f, s.size = f, st.Size()
	return nil
}

func (s *fileSink) write(_ Level, line, _ string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writeLocked(line)
	if s.fo.SizeLimit > 0 && s.size > s.fo.SizeLimit {
		s.rotateLocked()
	}
}

func (s *fileSink) writeLocked(line string) {
	if s.f == nil {
		return
	}
	n, err := s.f.WriteString(line)
	s.size += int64(n)
	if err != nil {
		fmt.Fprintf(os.Stderr, "log file %s: %v\n", s.fo.Path, err)
	}
}

func (s *fileSink) rotateLocked() {
	now := time.Now()
	bak := fmt.Sprintf("%s.%04d.%02d.%02d.%02d.%02d.%02d.%09d", s.fo.Path,
		now.Year(), now.Month(), now.Day(), now.Hour(), now.Minute(), now.Second(), now.Nanosecond())
	s.f.Close()
	s.f = nil
	renameErr := os.Rename(s.fo.Path, bak)
	if err := s.open(); err != nil {
		// Nowhere left to log to in the file; say so where an operator looks.
		fmt.Fprintf(os.Stderr, "log rotation of %s failed: %v\n", s.fo.Path, err)
		return
	}
	if renameErr != nil {
		s.note("Unable to rotate log file (%v); continuing in %q", renameErr, s.fo.Path)
		return
	}
	s.note("Rotated log, backup saved as %q", bak)
	if s.fo.MaxFiles > 0 {
		s.purgeLocked()
	}
}

// purgeLocked removes the oldest backups so at most MaxFiles files remain.
func (s *fileSink) purgeLocked() {
	dir, base := filepath.Dir(s.fo.Path), filepath.Base(s.fo.Path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		s.note("Unable to read %q to purge old logs: %v", dir, err)
		return
	}
	var backups []string
	for _, e := range entries {
		if !e.IsDir() && isBackupName(e.Name(), base) {
			backups = append(backups, e.Name())
		}
	}
	sort.Strings(backups) // the timestamp suffix sorts oldest first
	for excess := len(backups) - (s.fo.MaxFiles - 1); excess > 0; excess-- {
		name := backups[0]
		backups = backups[1:]
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			s.note("Unable to remove backup log file %q: %v", name, err)
			return
		}
		s.note("Purged log file %q", name)
	}
}

// isBackupName reports whether name is base plus a rotation timestamp.
func isBackupName(name, base string) bool {
	rest, ok := strings.CutPrefix(name, base+".")
	if !ok || len(rest) != len("2006.01.02.15.04.05.000000000") {
		return false
	}
	for i, c := range rest {
		if c == '.' {
			if i != 4 && i != 7 && i != 10 && i != 13 && i != 16 && i != 19 {
				return false
			}
		} else if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (s *fileSink) reopen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
	return s.open()
}

func (s *fileSink) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}
