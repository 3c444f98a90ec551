package keystore

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nats-io/jwt/v2"
)

// StoreFile marks an operator's directory; it holds StoreInfo.
const StoreFile = ".nsc"

// StoreInfo is the .nsc file.
type StoreInfo struct {
	Managed bool   `json:"managed"`
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Version string `json:"version"`
}

// Operator is one operator's directory in the data directory.
type Operator struct {
	Name string
	Dir  string
	Info StoreInfo
}

const (
	accountsDir = "accounts"
	usersDir    = "users"
)

// CreateOperator makes the operator's directory and writes its JWT. The
// directory must not exist or be empty.
func (e *Env) CreateOperator(name, token string) (*Operator, error) {
	if err := ValidateName("operator", name); err != nil {
		return nil, err
	}
	dir := filepath.Join(e.Dirs.Data, name)
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("operator %q %w in %s", name, ErrExists, dir)
	}
	o := &Operator{Name: name, Dir: dir, Info: StoreInfo{Name: name, Kind: "operator", Version: "1"}}
	if err := mkdir(filepath.Join(dir, accountsDir)); err != nil {
		return nil, err
	}
	if err := o.SaveJWT(token); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	b, _ := json.Marshal(o.Info)
	if err := writeFile(filepath.Join(dir, StoreFile), b); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return o, nil
}

// JWTPath is the operator's JWT file.
func (o *Operator) JWTPath() string { return filepath.Join(o.Dir, o.Name+".jwt") }

// Claims reads and verifies the operator's JWT.
func (o *Operator) Claims() (*jwt.OperatorClaims, string, error) {
	path := o.JWTPath()
	b, err := readFile(path)
	if err != nil {
		return nil, "", err
	}
	tok := strings.TrimSpace(string(b))
	c, err := jwt.DecodeOperatorClaims(tok)
	if err != nil {
		return nil, "", &FileError{Path: path, Err: fmt.Errorf("not a valid operator JWT: %w", err)}
	}
	return c, tok, nil
}

// SaveJWT writes the operator's JWT after checking it decodes as one.
func (o *Operator) SaveJWT(token string) error {
	if _, err := jwt.DecodeOperatorClaims(token); err != nil {
		return fmt.Errorf("not a valid operator JWT: %w", err)
	}
	return writeFile(o.JWTPath(), []byte(token))
}

// AccountDir is the account's directory.
func (o *Operator) AccountDir(name string) string { return filepath.Join(o.Dir, accountsDir, name) }

// AccountPath is the account's JWT file.
func (o *Operator) AccountPath(name string) string {
	return filepath.Join(o.AccountDir(name), name+".jwt")
}

// UserPath is the user's JWT file.
func (o *Operator) UserPath(account, name string) string {
	return filepath.Join(o.AccountDir(account), usersDir, name+".jwt")
}

// Accounts lists the account names: directories holding <name>.jwt.
func (o *Operator) Accounts() ([]string, error) {
	return listJWTDirs(filepath.Join(o.Dir, accountsDir))
}

func listJWTDirs(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, &FileError{Path: dir, Err: unwrapPath(err)}
	}
	var names []string
	for _, de := range ents {
		if de.IsDir() && exists(filepath.Join(dir, de.Name(), de.Name()+".jwt")) {
			names = append(names, de.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// HasAccount reports whether the account exists.
func (o *Operator) HasAccount(name string) bool { return exists(o.AccountPath(name)) }

// Account reads and verifies an account's JWT.
func (o *Operator) Account(name string) (*jwt.AccountClaims, string, error) {
	if err := ValidateName("account", name); err != nil {
		return nil, "", err
	}
	path := o.AccountPath(name)
	b, err := readFile(path)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, "", &NotFoundError{Kind: "account", Name: name, Path: filepath.Join(o.Dir, accountsDir)}
		}
		return nil, "", err
	}
	tok := strings.TrimSpace(string(b))
	c, err := jwt.DecodeAccountClaims(tok)
	if err != nil {
		return nil, "", &FileError{Path: path, Err: fmt.Errorf("not a valid account JWT: %w", err)}
	}
	return c, tok, nil
}

// AccountByKey finds an account by its public key.
func (o *Operator) AccountByKey(pub string) (string, *jwt.AccountClaims, error) {
	names, err := o.Accounts()
	if err != nil {
		return "", nil, err
	}
	for _, n := range names {
		c, _, err := o.Account(n)
		if err == nil && c.Subject == pub {
			return n, c, nil
		}
	}
	return "", nil, &NotFoundError{Kind: "account", Name: pub, Path: filepath.Join(o.Dir, accountsDir)}
}

// SaveAccount writes an account JWT under the name in its claims.
func (o *Operator) SaveAccount(token string) (string, error) {
	c, err := jwt.DecodeAccountClaims(token)
	if err != nil {
		return "", fmt.Errorf("not a valid account JWT: %w", err)
	}
	if err := ValidateName("account", c.Name); err != nil {
		return "", err
	}
	if err := mkdir(filepath.Join(o.AccountDir(c.Name), usersDir)); err != nil {
		return "", err
	}
	path := o.AccountPath(c.Name)
	return path, writeFile(path, []byte(token))
}

// DeleteAccount removes the account's directory with its users.
func (o *Operator) DeleteAccount(name string) error {
	if !o.HasAccount(name) {
		return &NotFoundError{Kind: "account", Name: name, Path: filepath.Join(o.Dir, accountsDir)}
	}
	if err := os.RemoveAll(o.AccountDir(name)); err != nil {
		return &FileError{Path: o.AccountDir(name), Err: unwrapPath(err)}
	}
	return nil
}

// Users lists an account's user names.
func (o *Operator) Users(account string) ([]string, error) {
	dir := filepath.Join(o.AccountDir(account), usersDir)
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, &FileError{Path: dir, Err: unwrapPath(err)}
	}
	var names []string
	for _, de := range ents {
		if n, ok := strings.CutSuffix(de.Name(), ".jwt"); ok && !de.IsDir() {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}

// HasUser reports whether the user exists.
func (o *Operator) HasUser(account, name string) bool { return exists(o.UserPath(account, name)) }

// User reads and verifies a user's JWT.
func (o *Operator) User(account, name string) (*jwt.UserClaims, string, error) {
	if err := ValidateName("user", name); err != nil {
		return nil, "", err
	}
	path := o.UserPath(account, name)
	b, err := readFile(path)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, "", &NotFoundError{Kind: "user", Name: name, Path: filepath.Dir(path)}
		}
		return nil, "", err
	}
	tok := strings.TrimSpace(string(b))
	c, err := jwt.DecodeUserClaims(tok)
	if err != nil {
		return nil, "", &FileError{Path: path, Err: fmt.Errorf("not a valid user JWT: %w", err)}
	}
	return c, tok, nil
}

// SaveUser writes a user JWT under the account, named from its claims.
func (o *Operator) SaveUser(account, token string) (string, error) {
	c, err := jwt.DecodeUserClaims(token)
	if err != nil {
		return "", fmt.Errorf("not a valid user JWT: %w", err)
	}
	if err := ValidateName("user", c.Name); err != nil {
		return "", err
	}
	path := o.UserPath(account, c.Name)
	return path, writeFile(path, []byte(token))
}

// DeleteUser removes the user's JWT.
func (o *Operator) DeleteUser(account, name string) error {
	path := o.UserPath(account, name)
	if err := os.Remove(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return &NotFoundError{Kind: "user", Name: name, Path: filepath.Dir(path)}
		}
		return &FileError{Path: path, Err: unwrapPath(err)}
	}
	return nil
}

// SaveAccountAs writes an account JWT under name, which may differ from
// the name in its claims (a JWT pulled from a server, kept under the
// store's name).
func (o *Operator) SaveAccountAs(name, token string) error {
	if _, err := jwt.DecodeAccountClaims(token); err != nil {
		return fmt.Errorf("not a valid account JWT: %w", err)
	}
	if err := ValidateName("account", name); err != nil {
		return err
	}
	if err := mkdir(filepath.Join(o.AccountDir(name), usersDir)); err != nil {
		return err
	}
	return writeFile(o.AccountPath(name), []byte(token))
}
