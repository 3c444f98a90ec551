package authutil

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/keystore"
)

// Flags naming the store's directories, persistent on `auth`.
const (
	FlagConfigDir   = "config-dir"
	FlagDataDir     = "data-dir"
	FlagKeystoreDir = "keystore-dir"
	FlagAllDirs     = "all-dirs"
)

// AddDirFlags puts nsc's directory flags on the `auth` command.
func AddDirFlags(cmd *cobra.Command) {
	fl := cmd.PersistentFlags()
	fl.String(FlagConfigDir, "", "directory of nsc.json, the current operator and account [$NSC_HOME]")
	fl.String(FlagDataDir, "", "directory of the operators' stores")
	fl.String(FlagKeystoreDir, "", "directory of the keys and creds [$NKEYS_PATH]")
	fl.StringP(FlagAllDirs, "H", "", "use one directory for --config-dir, --data-dir and --keystore-dir")
}

// Store is an opened store for one command.
type Store struct {
	F     *cmdutil.Factory
	Env   *keystore.Env
	Where keystore.Where
}

// Open resolves the directories from cmd's flags and the environment and
// opens the store.
func Open(f *cmdutil.Factory, cmd *cobra.Command) (*Store, error) {
	var flags keystore.Dirs
	get := func(name string) string {
		if fl := cmd.Flag(name); fl != nil {
			return fl.Value.String()
		}
		return ""
	}
	if all := get(FlagAllDirs); all != "" {
		flags = keystore.Dirs{Config: all, Data: all, Keys: all}
	}
	if v := get(FlagConfigDir); v != "" {
		flags.Config = v
	}
	if v := get(FlagDataDir); v != "" {
		flags.Data = v
	}
	if v := get(FlagKeystoreDir); v != "" {
		flags.Keys = v
	}
	home, _ := os.UserHomeDir()
	dirs, where := keystore.ResolveDirs(os.Getenv, home, flags)
	env, err := keystore.Open(dirs)
	if err != nil {
		return nil, err
	}
	return &Store{F: f, Env: env, Where: where}, nil
}

// Operator returns the named operator, else the current one, else asks
// on a terminal, else fails naming --operator.
func (s *Store) Operator(name string) (*keystore.Operator, *jwt.OperatorClaims, error) {
	if name == "" {
		name = s.Env.Config.Operator
	}
	if name == "" {
		ops, err := s.Env.Operators()
		if err != nil {
			return nil, nil, err
		}
		if len(ops) == 0 {
			return nil, nil, cmdutil.WithHint(cmdutil.ExitNotFound,
				fmt.Errorf("there is no operator in %s", s.Env.Dirs.Data),
				"create one with 'sluice auth init' or 'sluice auth add operator NAME'")
		}
		if name, err = s.choose("Operator:", ops, "--operator"); err != nil {
			return nil, nil, err
		}
	}
	op, err := s.Env.Operator(name)
	if err != nil {
		return nil, nil, Err(err)
	}
	c, _, err := op.Claims()
	if err != nil {
		return nil, nil, err
	}
	return op, c, nil
}

// Account returns the named account of op, else the current one when
// op is the current operator, else the only one, else asks.
func (s *Store) Account(op *keystore.Operator, name string) (string, *jwt.AccountClaims, error) {
	if name == "" && op.Name == s.Env.Config.Operator {
		name = s.Env.Config.Account
	}
	if name == "" {
		accs, err := op.Accounts()
		if err != nil {
			return "", nil, err
		}
		switch len(accs) {
		case 0:
			return "", nil, cmdutil.WithHint(cmdutil.ExitNotFound,
				fmt.Errorf("operator %q has no accounts", op.Name), "add one with 'sluice auth add account NAME'")
		case 1:
			name = accs[0]
		default:
			if name, err = s.choose("Account:", accs, "--account"); err != nil {
				return "", nil, err
			}
		}
	}
	c, _, err := op.Account(name)
	if err != nil {
		return "", nil, Err(err)
	}
	return name, c, nil
}

// User returns the named user of the account, else the only one, else
// asks.
func (s *Store) User(op *keystore.Operator, account, name string) (string, *jwt.UserClaims, error) {
	if name == "" {
		users, err := op.Users(account)
		if err != nil {
			return "", nil, err
		}
		switch len(users) {
		case 0:
			return "", nil, cmdutil.WithHint(cmdutil.ExitNotFound,
				fmt.Errorf("account %q has no users", account), "add one with 'sluice auth add user NAME'")
		case 1:
			name = users[0]
		default:
			if name, err = s.choose("User:", users, "--name"); err != nil {
				return "", nil, err
			}
		}
	}
	c, _, err := op.User(account, name)
	if err != nil {
		return "", nil, Err(err)
	}
	return name, c, nil
}

func (s *Store) choose(q string, options []string, flag string) (string, error) {
	p := s.F.Prompt()
	if p == nil {
		return "", cmdutil.FlagErrorf("%s is required: choose one of %s", flag, strings.Join(options, ", "))
	}
	i, err := p.Select(q, options, "")
	if err != nil {
		return "", err
	}
	return options[i], nil
}

// Err maps store errors to the CLI's exit codes: not found is 4, an
// invalid name is a usage error.
func Err(err error) error {
	var nf *keystore.NotFoundError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &nf):
		return &cmdutil.Error{Code: cmdutil.ExitNotFound, Err: err}
	case strings.HasPrefix(err.Error(), "invalid ") || strings.Contains(err.Error(), " name is empty"):
		return &cmdutil.UsageError{Err: err}
	}
	return err
}

// ValidName checks a name given by flag or argument.
func ValidName(kind, name string) error {
	if err := keystore.ValidateName(kind, name); err != nil {
		return &cmdutil.UsageError{Err: err}
	}
	return nil
}
