// Package passwdcmd implements `sluice server passwd`: bcrypt hashes of
// passwords for server configuration files. It works offline.
package passwdcmd

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/bcrypt"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// MinLength is natscli's shortest acceptable password.
const MinLength = 10

// generatedLength is the length of --generate passwords.
const generatedLength = 22

// Options are the inputs of `server passwd`.
type Options struct {
	f *cmdutil.Factory

	Pass     string
	Cost     int
	Generate bool
	JSON     bool
}

// Result is what --json prints.
type Result struct {
	Hash string `json:"hash"`
	Cost int    `json:"cost"`
	// Password is set only when it was generated.
	Password string `json:"password,omitempty"`
}

// New builds `server passwd`.
func New(f *cmdutil.Factory) *cobra.Command { return NewCmd(f, nil) }

// NewCmd builds `server passwd` with an optional run function for tests.
func NewCmd(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	o := &Options{f: f}
	cmd := &cobra.Command{
		Use:     "passwd",
		Aliases: []string{"mkpasswd", "pass", "password"},
		Short:   "Hash a password with bcrypt for a server configuration",
		Long: fmt.Sprintf(`Print the bcrypt hash of a password, to put in a server configuration
file instead of the password itself.

The password is --pass, or $PASSWORD, or a new random one with
--generate; otherwise it is asked twice on a terminal, or read as one
line from stdin. It must be at least %d characters long.`, MinLength),
		Example: `  sluice server passwd
  sluice server passwd --generate
  echo 'correct horse battery' | sluice server passwd --cost 12`,
		Args: cmdutil.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Pass == "" && !cmd.Flags().Changed("pass") {
				o.Pass = os.Getenv("PASSWORD")
			}
			if runF != nil {
				return runF(o)
			}
			return run(o)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.Pass, "pass", "p", "", "the `PASSWORD` to hash [$PASSWORD]")
	fl.IntVarP(&o.Cost, "cost", "c", 11, "bcrypt cost")
	fl.BoolVarP(&o.Generate, "generate", "g", false, "generate a random password and hash it")
	cmdutil.AddJSONFlag(cmd, &o.JSON)
	return cmd
}

func run(o *Options) error {
	f := o.f
	if o.Cost < bcrypt.MinCost || o.Cost > bcrypt.MaxCost {
		return cmdutil.FlagErrorf("--cost must be between %d and %d, not %d", bcrypt.MinCost, bcrypt.MaxCost, o.Cost)
	}
	if o.Generate && o.Pass != "" {
		return cmdutil.FlagErrorf("--generate makes a new password; do not give one with --pass or $PASSWORD")
	}
	pass := o.Pass
	var err error
	switch {
	case o.Generate:
		pass, err = Generate(generatedLength)
	case pass == "":
		pass, err = ask(f)
	}
	if err != nil {
		return err
	}
	if len(pass) < MinLength {
		return cmdutil.FlagErrorf("the password should be at least %d characters long, not %d", MinLength, len(pass))
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(pass), o.Cost)
	if err != nil {
		return fmt.Errorf("cannot hash the password: %w", err)
	}
	res := Result{Hash: string(hash), Cost: o.Cost}
	if o.Generate {
		res.Password = pass
	}
	if o.JSON {
		return cmdutil.WriteJSON(f.IO.Out, res)
	}
	if o.Generate {
		fmt.Fprintf(f.IO.Out, "Generated password: %s\n       bcrypt hash: %s\n", pass, hash)
		return nil
	}
	fmt.Fprintln(f.IO.Out, res.Hash)
	return nil
}

// ask gets the password twice on a terminal, or once from stdin.
func ask(f *cmdutil.Factory) (string, error) {
	p := f.Prompt()
	if p == nil {
		return readLine(f.IO.In)
	}
	first, err := p.Password("Enter password:")
	if err != nil {
		return "", err
	}
	if len(first) < MinLength {
		return "", cmdutil.FlagErrorf("the password should be at least %d characters long, not %d", MinLength, len(first))
	}
	second, err := p.Password("Re-enter password:")
	if err != nil {
		return "", err
	}
	if first != second {
		return "", cmdutil.FlagErrorf("the passwords do not match")
	}
	return first, nil
}

// readLine reads the password from the first line of r.
func readLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("cannot read the password from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", cmdutil.FlagErrorf("no password given: pass --pass or --generate, type it on a terminal, or pipe it as one line on stdin")
	}
	return line, nil
}

// passwordRunes are the characters of generated passwords.
const passwordRunes = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@#_-%^&()"

// Generate returns a random password of n characters.
func Generate(n int) (string, error) {
	b := make([]byte, n)
	max := big.NewInt(int64(len(passwordRunes)))
	for i := range b {
		k, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", fmt.Errorf("cannot generate a password: %w", err)
		}
		b[i] = passwordRunes[k.Int64()]
	}
	return string(b), nil
}
