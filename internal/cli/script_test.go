package cli_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sluicehq/sluice/internal/cli"
	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
	"github.com/sluicehq/sluice/pkg/api"
)

// TestMain lets the test binary act as `sluice` when scripts exec it:
// the real command tree, in a process of its own, built from this tree.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"sluice": func() { os.Exit(cli.Main()) },
	})
}

// serverKey finds a script's server in its Values.
type serverKey struct{}

// TestScripts runs the end-to-end scenarios in testdata/script. Each
// script gets its own server ($NATS_URL), HOME and context store, and
// these commands besides testscript's own:
//
//	waitsubs SUBJECT [N]       wait until N subscriptions (default 1)
//	                           would receive a message on SUBJECT
//	status CODE PROG [ARGS]    run PROG and require exit status CODE
//	json [-line N] FILE CHECK...
//	                           decode FILE (stdout, stderr, or a file; with
//	                           -line, its Nth line from 1) and check
//	                           PATH=VALUE (exact) or PATH~REGEXP, where
//	                           PATH is dotted keys and indexes, "." the
//	                           whole value, and len(PATH) its length
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup:               setupScript,
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"waitsubs": cmdWaitSubs,
			"status":   cmdStatus,
			"json":     cmdJSON,
		},
	})
}

func setupScript(env *testscript.Env) error {
	t, ok := env.T().(testing.TB)
	if !ok {
		return errors.New("testscript did not hand over a testing.TB")
	}
	s := testutil.RunServer(t)
	env.Values[serverKey{}] = s
	home := filepath.Join(env.WorkDir, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return err
	}
	env.Setenv("HOME", home)
	env.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	env.Setenv("NATS_URL", s.ClientURL())
	return nil
}

// cmdWaitSubs polls the script's server until a message on SUBJECT
// would reach N subscriptions (default 1): how a script knows that a
// background sub or reply listens. Asking about a subject, not a total,
// keeps the subscriptions of commands that just ended out of the count.
func cmdWaitSubs(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: waitsubs SUBJECT [N]")
	}
	want := 1
	if len(args) == 2 {
		n, err := strconv.Atoi(args[1])
		ts.Check(err)
		want = n
	}
	s := ts.Value(serverKey{}).(*server.Server)
	deadline := time.Now().Add(10 * time.Second)
	for {
		sz, err := s.Subsz(&api.SubszOptions{Subscriptions: true, Test: args[0]})
		ts.Check(err)
		if sz.Total >= want {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%d subscriptions on %s after 10s, want %d", sz.Total, args[0], want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// cmdStatus runs a program and checks its exit status; its output is
// then stdout and stderr for the next commands.
func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: status CODE PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("%s: %v", args[1], err)
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// cmdJSON decodes JSON output and checks values in it.
func cmdJSON(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("json does not support !; check a value instead")
	}
	line := 0
	if len(args) > 1 && args[0] == "-line" {
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 1 {
			ts.Fatalf("json -line wants a line number from 1, not %q", args[1])
		}
		line, args = n, args[2:]
	}
	if len(args) < 2 {
		ts.Fatalf("usage: json [-line N] FILE PATH=VALUE|PATH~REGEXP...")
	}
	text := ts.ReadFile(args[0])
	if line > 0 {
		lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
		if line > len(lines) {
			ts.Fatalf("%s has %d lines, not %d", args[0], len(lines), line)
		}
		text = lines[line-1]
	}
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		ts.Fatalf("%s is not JSON: %v\n%s", args[0], err, text)
	}
	for _, check := range args[1:] {
		if err := checkJSON(v, check); err != nil {
			ts.Fatalf("%s: %v", args[0], err)
		}
	}
}

var jsonCheck = regexp.MustCompile(`^([^=~]+)([=~])(.*)$`)

func checkJSON(v any, check string) error {
	m := jsonCheck.FindStringSubmatch(check)
	if m == nil {
		return fmt.Errorf("check %q is not PATH=VALUE or PATH~REGEXP", check)
	}
	path, op, want := m[1], m[2], m[3]
	length := strings.HasPrefix(path, "len(") && strings.HasSuffix(path, ")")
	if length {
		path = path[len("len(") : len(path)-1]
	}
	got, err := lookup(v, path)
	if err != nil {
		return err
	}
	var s string
	switch g := got.(type) {
	case string:
		s = g
	case nil:
		s = "null"
	default:
		b, _ := json.Marshal(g)
		s = string(b)
	}
	if length {
		switch g := got.(type) {
		case []any:
			s = strconv.Itoa(len(g))
		case map[string]any:
			s = strconv.Itoa(len(g))
		case string:
			s = strconv.Itoa(len(g))
		default:
			return fmt.Errorf("%s: %s has no length", path, s)
		}
	}
	if op == "=" {
		if s != want {
			return fmt.Errorf("%s is %q, want %q", path, s, want)
		}
		return nil
	}
	re, err := regexp.Compile(want)
	if err != nil {
		return err
	}
	if !re.MatchString(s) {
		return fmt.Errorf("%s is %q, which does not match %q", path, s, want)
	}
	return nil
}

// lookup follows a dotted path of object keys and array indexes.
func lookup(v any, path string) (any, error) {
	if path == "." {
		return v, nil
	}
	for _, key := range strings.Split(path, ".") {
		switch c := v.(type) {
		case map[string]any:
			next, ok := c[key]
			if !ok {
				return nil, fmt.Errorf("%s: no key %q", path, key)
			}
			v = next
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("%s: no index %q in an array of %d", path, key, len(c))
			}
			v = c[i]
		default:
			return nil, fmt.Errorf("%s: cannot look up %q in %v", path, key, v)
		}
	}
	return v, nil
}
