package keystore

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Environment variables nsc reads, with the same meaning here.
const (
	EnvHome  = "NSC_HOME"   // the config directory (nsc.json)
	EnvNKeys = "NKEYS_PATH" // the keys directory
)

// Dirs are the three directories of a store; see the package doc.
type Dirs struct {
	Config string // holds nsc.json
	Data   string // holds one directory per operator
	Keys   string // holds keys/ and creds/
}

// Where explains where each directory came from, for `auth env`.
type Where struct {
	Config, Data, Keys string
}

// ResolveDirs fills in what flags left empty, as nsc does: $NSC_HOME and
// $NKEYS_PATH, then the XDG directories under home, with nsc's older
// ~/.nsc and ~/.nkeys when only those exist. The data directory is the
// current context's store_root when nsc.json names one.
func ResolveDirs(getenv func(string) string, home string, flags Dirs) (Dirs, Where) {
	d, w := flags, Where{Config: "flag", Data: "flag", Keys: "flag"}
	cfgHome := getenv("XDG_CONFIG_HOME")
	if cfgHome == "" {
		cfgHome = filepath.Join(home, ".config")
	}
	dataHome := getenv("XDG_DATA_HOME")
	if dataHome == "" {
		dataHome = filepath.Join(home, ".local", "share")
	}
	if d.Config == "" {
		if v := getenv(EnvHome); v != "" {
			d.Config, w.Config = expand(v, home), "$"+EnvHome
		} else {
			d.Config, w.Config = filepath.Join(cfgHome, "nats", "nsc"), "default"
			if old := filepath.Join(home, ".nsc"); !exists(filepath.Join(d.Config, ConfigFile)) && exists(filepath.Join(old, ConfigFile)) {
				d.Config = old
			}
		}
	}
	if d.Keys == "" {
		if v := getenv(EnvNKeys); v != "" {
			d.Keys, w.Keys = expand(v, home), "$"+EnvNKeys
		} else {
			d.Keys, w.Keys = filepath.Join(dataHome, "nats", "nsc", "keys"), "default"
			if old := filepath.Join(home, ".nkeys"); !exists(d.Keys) && exists(old) {
				d.Keys = old
			}
		}
	}
	if d.Data == "" {
		var c Config
		if b, err := os.ReadFile(filepath.Join(d.Config, ConfigFile)); err == nil && json.Unmarshal(b, &c) == nil && c.StoreRoot != "" {
			d.Data, w.Data = c.StoreRoot, "nsc.json"
		} else {
			d.Data, w.Data = filepath.Join(dataHome, "nats", "nsc", "stores"), "default"
			if old := filepath.Join(home, ".nsc", "nats"); !exists(d.Data) && exists(old) {
				d.Data = old
			}
		}
	}
	return d, w
}

func expand(p, home string) string {
	if p == "~" {
		return home
	}
	if strings.HasPrefix(p, "~/") {
		return filepath.Join(home, p[2:])
	}
	return p
}

// ConfigFile is the name of nsc's context file in the config directory.
const ConfigFile = "nsc.json"

// Config is nsc.json: the store root and the current operator and
// account. The other fields are nsc's and kept as they are.
type Config struct {
	StoreRoot     string `json:"store_root"`
	Operator      string `json:"operator"`
	Account       string `json:"account"`
	GithubUpdates string `json:"github_updates"`
	LastUpdate    int64  `json:"last_update"`
}

// Env is an opened store: its directories, its context and its keys.
type Env struct {
	Dirs   Dirs
	Config Config
	Keys   *KeyRing
}

// Open reads the context in d.Config, if any, and points it at d.Data.
// Nothing is written until a command changes something.
func Open(d Dirs) (*Env, error) {
	e := &Env{Dirs: d, Keys: &KeyRing{Dir: d.Keys}}
	path := filepath.Join(d.Config, ConfigFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &e.Config); err != nil {
			return nil, &FileError{Path: path, Err: err}
		}
	case errors.Is(err, os.ErrNotExist):
		e.Config.GithubUpdates = "nats-io/nsc"
		// nsc checks for updates when last_update is 0; it would go online.
		e.Config.LastUpdate = time.Now().UTC().Unix()
	default:
		return nil, &FileError{Path: path, Err: unwrapPath(err)}
	}
	if d.Data != "" {
		e.Config.StoreRoot = d.Data
	}
	if abs, err := filepath.Abs(e.Config.StoreRoot); err == nil {
		e.Config.StoreRoot = abs
		e.Dirs.Data = abs
	}
	e.setDefaults()
	return e, nil
}

// setDefaults picks the only operator or account when the context names
// none, and forgets names that no longer exist, as nsc does.
func (e *Env) setDefaults() {
	ops, _ := e.Operators()
	e.Config.Operator = pick(e.Config.Operator, ops)
	if e.Config.Operator == "" {
		e.Config.Account = ""
		return
	}
	op, err := e.Operator(e.Config.Operator)
	if err != nil {
		return
	}
	accs, _ := op.Accounts()
	e.Config.Account = pick(e.Config.Account, accs)
}

func pick(cur string, choices []string) string {
	if len(choices) == 1 {
		return choices[0]
	}
	for _, c := range choices {
		if c == cur {
			return cur
		}
	}
	return ""
}

// SaveConfig writes nsc.json.
func (e *Env) SaveConfig() error {
	b, err := json.MarshalIndent(e.Config, "", " ")
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(e.Dirs.Config, ConfigFile), b)
}

// Operators lists the operators in the data directory: the directories
// holding a .nsc file.
func (e *Env) Operators() ([]string, error) {
	ents, err := os.ReadDir(e.Dirs.Data)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, &FileError{Path: e.Dirs.Data, Err: unwrapPath(err)}
	}
	var names []string
	for _, de := range ents {
		if exists(filepath.Join(e.Dirs.Data, de.Name(), StoreFile)) {
			names = append(names, de.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// Operator opens the named operator's directory.
func (e *Env) Operator(name string) (*Operator, error) {
	if err := ValidateName("operator", name); err != nil {
		return nil, err
	}
	dir := filepath.Join(e.Dirs.Data, name)
	path := filepath.Join(dir, StoreFile)
	b, err := readFile(path)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, &NotFoundError{Kind: "operator", Name: name, Path: dir}
		}
		return nil, err
	}
	var info StoreInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, &FileError{Path: path, Err: err}
	}
	return &Operator{Name: name, Dir: dir, Info: info}, nil
}

// NotFoundError says which operator, account or user is missing.
type NotFoundError struct {
	Kind, Name, Path string
}

func (e *NotFoundError) Error() string {
	return e.Kind + " \"" + e.Name + "\" not found in " + e.Path
}

func (e *NotFoundError) Unwrap() error { return ErrNotFound }
