package passwdcmd_test

import (
	"encoding/json"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	passwdcmd "github.com/sluicehq/sluice/internal/cli/server/passwd"
)

func isolate(t *testing.T) {
	clitest.Isolate(t)
	t.Setenv("PASSWORD", "")
}

func checkHash(t *testing.T, hash, pass string, cost int) {
	t.Helper()
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(pass)); err != nil {
		t.Fatalf("hash %q does not match %q: %v", hash, pass, err)
	}
	if c, err := bcrypt.Cost([]byte(hash)); err != nil || c != cost {
		t.Fatalf("cost %d (%v), want %d", c, err, cost)
	}
}

func TestPasswdFlagEnvAndStdin(t *testing.T) {
	isolate(t)
	r := clitest.Run(t, "server", "passwd", "--pass", "0123456789ab", "--cost", "4")
	clitest.ExpectCode(t, r, 0)
	checkHash(t, strings.TrimSpace(r.Stdout), "0123456789ab", 4)
	if strings.Count(r.Stdout, "\n") != 1 || r.Stderr != "" {
		t.Fatalf("stdout %q stderr %q", r.Stdout, r.Stderr)
	}

	r = clitest.RunWith(t, clitest.Opts{Stdin: "from stdin pass\r\nsecond line\n"}, "server", "mkpasswd", "-c", "5")
	clitest.ExpectCode(t, r, 0)
	checkHash(t, strings.TrimSpace(r.Stdout), "from stdin pass", 5)

	t.Setenv("PASSWORD", "environment pw")
	r = clitest.Run(t, "server", "passwd", "-c", "4")
	clitest.ExpectCode(t, r, 0)
	checkHash(t, strings.TrimSpace(r.Stdout), "environment pw", 4)
}

func TestPasswdDefaultCost(t *testing.T) {
	isolate(t)
	r := clitest.Run(t, "server", "passwd", "-p", "0123456789")
	clitest.ExpectCode(t, r, 0)
	checkHash(t, strings.TrimSpace(r.Stdout), "0123456789", 11)
}

func TestPasswdTerminal(t *testing.T) {
	isolate(t)
	stub := &cmdutil.PromptStub{Answers: []any{"typed twice!", "typed twice!"}}
	r := clitest.RunWith(t, clitest.Opts{TTY: true, Prompter: stub}, "server", "passwd", "-c", "4")
	clitest.ExpectCode(t, r, 0)
	checkHash(t, strings.TrimSpace(r.Stdout), "typed twice!", 4)
	if len(stub.Asked) != 2 || stub.Asked[1] != "Re-enter password:" {
		t.Fatalf("asked %q", stub.Asked)
	}

	r = clitest.RunWith(t, clitest.Opts{TTY: true, Answers: []any{"typed twice!", "typed once!!"}}, "server", "passwd", "-c", "4")
	if r.Code != cmdutil.ExitUsage || !strings.Contains(r.Stderr, "the passwords do not match") {
		t.Fatalf("mismatch: exit %d %s", r.Code, r.Stderr)
	}
	r = clitest.RunWith(t, clitest.Opts{TTY: true, Answers: []any{"short"}}, "server", "passwd", "-c", "4")
	if r.Code != cmdutil.ExitUsage || !strings.Contains(r.Stderr, "at least 10 characters") {
		t.Fatalf("short at prompt: exit %d %s", r.Code, r.Stderr)
	}
	r = clitest.RunWith(t, clitest.Opts{TTY: true, Answers: []any{cmdutil.ErrCancelled}}, "server", "passwd")
	if r.Code != cmdutil.ExitCancelled {
		t.Fatalf("interrupted: exit %d %s", r.Code, r.Stderr)
	}
}

func TestPasswdGenerate(t *testing.T) {
	isolate(t)
	r := clitest.Run(t, "server", "passwd", "--generate", "-c", "4")
	clitest.ExpectCode(t, r, 0)
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "Generated password: ") || !strings.HasPrefix(lines[1], "       bcrypt hash: ") {
		t.Fatalf("output:\n%s", r.Stdout)
	}
	pass := strings.TrimPrefix(lines[0], "Generated password: ")
	if len(pass) != 22 {
		t.Fatalf("generated %q", pass)
	}
	checkHash(t, strings.TrimPrefix(lines[1], "       bcrypt hash: "), pass, 4)

	r = clitest.Run(t, "server", "passwd", "-g", "-c", "4", "--json")
	clitest.ExpectCode(t, r, 0)
	var res passwdcmd.Result
	if err := json.Unmarshal([]byte(r.Stdout), &res); err != nil {
		t.Fatalf("%v: %s", err, r.Stdout)
	}
	checkHash(t, res.Hash, res.Password, 4)
	if res.Cost != 4 {
		t.Fatalf("%+v", res)
	}
	a, _ := passwdcmd.Generate(22)
	b, _ := passwdcmd.Generate(22)
	if a == b {
		t.Fatalf("two generated passwords are equal: %q", a)
	}
}

func TestPasswdJSONHidesGivenPassword(t *testing.T) {
	isolate(t)
	r := clitest.Run(t, "server", "passwd", "-p", "0123456789", "-c", "4", "-j")
	clitest.ExpectCode(t, r, 0)
	if strings.Contains(r.Stdout, "0123456789\"") || strings.Contains(r.Stdout, "password") {
		t.Fatalf("given password echoed: %s", r.Stdout)
	}
}

func TestPasswdErrors(t *testing.T) {
	isolate(t)
	for _, c := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", []string{"-p", "short"}, "at least 10 characters long, not 5"},
		{"", []string{"-p", "0123456789", "--cost", "3"}, "--cost must be between 4 and 31, not 3"},
		{"", []string{"-p", "0123456789", "--cost", "32"}, "--cost must be between 4 and 31"},
		{"", []string{"-p", "0123456789", "-g"}, "--generate makes a new password"},
		{"", nil, "no password given"},
		{"\n", nil, "no password given"},
		{"", []string{"extra"}, "takes no arguments"},
	} {
		r := clitest.RunWith(t, clitest.Opts{Stdin: c.stdin}, append([]string{"server", "passwd"}, c.args...)...)
		if r.Code != cmdutil.ExitUsage || !strings.Contains(r.Stderr, c.want) || r.Stdout != "" {
			t.Errorf("%v: exit %d, stdout %q stderr %q; want %q", c.args, r.Code, r.Stdout, r.Stderr, c.want)
		}
	}
}
