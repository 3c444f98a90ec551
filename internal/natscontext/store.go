package natscontext

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

const (
	selectedFile = "context.txt"
	previousFile = "previous-context.txt"
)

// Store is the set of contexts under one configuration directory.
type Store struct {
	root string // the directory holding nats/
}

// NewStore returns the store under configHome (the directory that holds
// "nats/"). Nothing is created until the first write.
func NewStore(configHome string) *Store { return &Store{root: configHome} }

// DefaultStore returns the store natscli uses: $XDG_CONFIG_HOME, or
// ~/.config when that is unset. getenv reads the environment (os.Getenv
// when nil).
func DefaultStore(getenv func(string) string) (*Store, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if x := getenv("XDG_CONFIG_HOME"); x != "" {
		return NewStore(x), nil
	}
	home := getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("cannot find the configuration directory: set XDG_CONFIG_HOME or HOME: %w", err)
		}
		home = h
	}
	return NewStore(filepath.Join(home, ".config")), nil
}

// Dir is the directory holding the context files.
func (s *Store) Dir() string { return filepath.Join(s.root, "nats", "context") }

// Path is the file a context of that name lives in.
func (s *Store) Path(name string) string { return filepath.Join(s.Dir(), name+".json") }

// SelectionPath is the file naming the selected context.
func (s *Store) SelectionPath() string { return filepath.Join(s.root, "nats", selectedFile) }

func (s *Store) previousPath() string { return filepath.Join(s.root, "nats", previousFile) }

// List returns the names of the stored contexts, sorted. Files that are
// empty, not .json or not valid names are skipped, as natscli does.
func (s *Store) List() ([]string, error) {
	entries, err := os.ReadDir(s.Dir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".json" {
			continue
		}
		info, err := e.Info()
		if err != nil || info.Size() == 0 {
			continue
		}
		name := strings.TrimSuffix(e.Name(), ".json")
		if ValidateName(name) != nil {
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}

// Exists reports whether a context of that name is stored.
func (s *Store) Exists(name string) bool {
	if ValidateName(name) != nil {
		return false
	}
	info, err := os.Stat(s.Path(name))
	return err == nil && !info.IsDir()
}

// Load reads the named context. A missing one is ErrNotFound.
func (s *Store) Load(name string) (*Context, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	return loadPath(name, s.Path(name))
}

// LoadFile reads a context from any path; its name is the file's base
// name without .json.
func LoadFile(path string) (*Context, error) {
	base := filepath.Base(path)
	name := strings.TrimSuffix(base, filepath.Ext(base))
	if name == "" {
		name = base
	}
	return loadPath(name, path)
}

func loadPath(name, path string) (*Context, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %q (no file %s)", ErrNotFound, name, path)
	}
	if err != nil {
		return nil, err
	}
	c, err := Parse(name, data)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	c.path = path
	return c, nil
}

// Save validates c and writes it under c.Name, atomically, mode 0600.
func (s *Store) Save(c *Context) error {
	if err := c.Validate(); err != nil {
		return err
	}
	return c.writeTo(s.Path(c.Name))
}

// SaveFile validates c and writes it back to the file it came from.
func (c *Context) SaveFile() error {
	if c.path == "" {
		return fmt.Errorf("context %q was not loaded from a file", c.Name)
	}
	if err := c.Validate(); err != nil {
		return err
	}
	return c.writeTo(c.path)
}

func (c *Context) writeTo(path string) error {
	data, err := c.FileBytes()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if err := WriteFileAtomic(path, data, 0o600); err != nil {
		return err
	}
	c.path = path
	return nil
}

// Delete removes the named context. If it was selected the selection is
// cleared, and if it was the previous one that record is dropped too.
func (s *Store) Delete(name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	err := os.Remove(s.Path(name))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	if err != nil {
		return err
	}
	if sel, _ := s.Selected(); sel == name {
		if _, err := s.Unselect(); err != nil {
			return err
		}
	}
	if prev, _ := s.Previous(); prev == name {
		if err := os.Remove(s.previousPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// Selected returns the selected context's name, "" when none is.
func (s *Store) Selected() (string, error) { return readName(s.SelectionPath()) }

// Previous returns the context selected before the current one, "" when
// there is none.
func (s *Store) Previous() (string, error) { return readName(s.previousPath()) }

func readName(path string) (string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(data)), nil
}

// Select makes name the selected context, remembering the one it
// replaces as the previous one. The context must exist.
func (s *Store) Select(name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if !s.Exists(name) {
		return fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	cur, err := s.Selected()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(s.root, "nats"), 0o700); err != nil {
		return err
	}
	if cur != "" && cur != name {
		if err := WriteFileAtomic(s.previousPath(), []byte(cur), 0o600); err != nil {
			return err
		}
	}
	return WriteFileAtomic(s.SelectionPath(), []byte(name), 0o600)
}

// Unselect clears the selection and returns what was selected.
func (s *Store) Unselect() (string, error) {
	cur, err := s.Selected()
	if err != nil || cur == "" {
		return cur, err
	}
	if err := WriteFileAtomic(s.previousPath(), []byte(cur), 0o600); err != nil {
		return "", err
	}
	if err := os.Remove(s.SelectionPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	return cur, nil
}

// WriteFileAtomic writes data to path through a temporary file in the
// same directory that is synced and renamed into place, so readers see
// the old content or the new, never a torn write.
func WriteFileAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	fail := func(err error) error {
		tmp.Close()
		os.Remove(name)
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		return fail(err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(name)
		return err
	}
	if err := os.Rename(name, path); err != nil {
		os.Remove(name)
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
