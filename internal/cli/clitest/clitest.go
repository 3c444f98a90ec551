// Package clitest runs the sluice command tree in-process for tests:
// in-memory streams, terminal or not, a scripted prompter, an isolated
// context store, and commands left running in the background (sub,
// reply) that a test stops when it is done. Import it only from tests.
package clitest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/cli"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/natscontext"
	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

// Result is what a command left behind.
type Result struct {
	Code           int
	Stdout, Stderr string
}

// Opts shape one run.
type Opts struct {
	Stdin string
	// TTY makes stdin, stdout and stderr terminals.
	TTY bool
	// StderrTTY makes stderr a terminal too (progress bars draw there).
	StderrTTY bool
	// Answers are handed to prompts in order (strings, bools, ints or
	// option strings for selects, errors).
	Answers []any
	// Prompter, when set, is used instead of one built from Answers.
	Prompter *cmdutil.PromptStub
}

// Run runs sluice with args, not on a terminal.
func Run(t testing.TB, args ...string) Result {
	t.Helper()
	return RunWith(t, Opts{}, args...)
}

// RunWith runs sluice with args as opts say.
func RunWith(t testing.TB, opts Opts, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	io, out, errOut := cmdutil.Test(opts.Stdin)
	code := cli.RunWith(ctx, newFactory(io, opts), args)
	return Result{Code: code, Stdout: out.String(), Stderr: errOut.String()}
}

// newFactory makes the factory for one run: streams that are terminals
// or not, and on a terminal a scripted prompter.
func newFactory(io *cmdutil.IOStreams, opts Opts) *cmdutil.Factory {
	f := &cmdutil.Factory{IO: io}
	io.SetStderrTTY(opts.StderrTTY)
	if opts.TTY {
		io.SetTTY(true, true)
		p := opts.Prompter
		if p == nil {
			p = &cmdutil.PromptStub{Answers: opts.Answers}
		}
		f.Prompter = p
	}
	return f
}

// Background is a command running until the test stops it.
type Background struct {
	t      testing.TB
	cancel context.CancelFunc
	done   chan int
	out    *cmdutil.SyncBuffer
	errOut *cmdutil.SyncBuffer
	code   int
	ended  bool
}

// Start runs sluice with args in the background and waits until its
// stderr contains ready (e.g. "Subscribing on"), so that the test can
// go on knowing the command is listening.
func Start(t testing.TB, ready string, args ...string) *Background {
	t.Helper()
	return StartWith(t, Opts{}, ready, args...)
}

// StartWith is Start with stdin, terminal and prompt answers as opts say.
func StartWith(t testing.TB, opts Opts, ready string, args ...string) *Background {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	io, out, errOut := cmdutil.Test(opts.Stdin)
	f := newFactory(io, opts)
	b := &Background{t: t, cancel: cancel, done: make(chan int, 1), out: out, errOut: errOut}
	go func() { b.done <- cli.RunWith(ctx, f, args) }()
	t.Cleanup(func() { b.Stop() })
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(errOut.String(), ready) {
		select {
		case code := <-b.done:
			b.code, b.ended = code, true
			t.Fatalf("sluice %s exited (%d) before it was ready:\n%s", strings.Join(args, " "), code, errOut.String())
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("sluice %s not ready after 10s; stderr:\n%s", strings.Join(args, " "), errOut.String())
		}
	}
	return b
}

// Stdout is what the command printed so far.
func (b *Background) Stdout() string { return b.out.String() }

// Stderr is what the command printed on stderr so far.
func (b *Background) Stderr() string { return b.errOut.String() }

// Wait waits for the command to end by itself (for --count) and returns
// its result; the test fails if that takes longer than timeout.
func (b *Background) Wait(timeout time.Duration) Result {
	b.t.Helper()
	if !b.ended {
		select {
		case b.code = <-b.done:
			b.ended = true
		case <-time.After(timeout):
			b.t.Fatalf("command did not end within %s; stderr:\n%s", timeout, b.errOut.String())
		}
	}
	return Result{Code: b.code, Stdout: b.out.String(), Stderr: b.errOut.String()}
}

// Stop interrupts the command, as Ctrl-C would, and returns its result.
func (b *Background) Stop() Result {
	b.cancel()
	if !b.ended {
		b.code = <-b.done
		b.ended = true
	}
	return Result{Code: b.code, Stdout: b.out.String(), Stderr: b.errOut.String()}
}

// Isolate gives the test its own context store and HOME, and clears the
// NATS_* variables, so nothing from the machine leaks in. Tests using
// it must not run in parallel.
func Isolate(t testing.TB) *natscontext.Store {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("HOME", dir)
	for _, k := range []string{"NATS_URL", "NATS_CONTEXT", "NATS_USER", "NATS_PASSWORD", "NATS_TOKEN",
		"NATS_CREDS", "NATS_NKEY", "NATS_JWT", "NATS_SEED", "NATS_CERT", "NATS_KEY", "NATS_CA", "NATS_TIMEOUT"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	return natscontext.NewStore(dir)
}

// Server is an in-process server started for one test.
type Server struct {
	*server.Server
	URL string
}

// Serve isolates the test (see Isolate), starts an in-process server on
// a random port for it, and points $NATS_URL at it, so commands run
// without --server. mutate adjusts the server's options (auth, limits).
func Serve(t testing.TB, mutate ...func(*server.Options)) *Server {
	t.Helper()
	Isolate(t)
	s := testutil.RunServer(t, mutate...)
	t.Setenv("NATS_URL", s.ClientURL())
	return &Server{Server: s, URL: s.ClientURL()}
}

// WaitSubscriptions waits until the server holds at least n client
// subscriptions, for commands that announce nothing when they are
// ready (sub --raw, sub --json).
func (s *Server) WaitSubscriptions(t testing.TB, n int) {
	t.Helper()
	testutil.CheckFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		if got := s.GlobalAccount().NumSubscriptions(); got < n {
			return fmt.Errorf("%d subscriptions, want %d", got, n)
		}
		return nil
	})
}

// Connect dials url with nats.go for the test's own publishing and
// subscribing; the connection is closed when the test ends.
func Connect(t testing.TB, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// ExpectCode fails the test when r did not exit with code, showing
// what the command printed.
func ExpectCode(t testing.TB, r Result, code int) {
	t.Helper()
	if r.Code != code {
		t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.Code, code, r.Stdout, r.Stderr)
	}
}
