package mappingscmd_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	mappingscmd "github.com/sluicehq/sluice/internal/cli/server/mappings"
)

const (
	swapSrc  = "orders.*.*"
	swapDest = "orders.{{wildcard(2)}}.{{wildcard(1)}}"
)

func TestMappingsArguments(t *testing.T) {
	clitest.Isolate(t)
	r := clitest.Run(t, "server", "mappings", swapSrc, swapDest, "orders.eu.new", "orders.us.paid")
	clitest.ExpectCode(t, r, 0)
	if r.Stdout != "orders.new.eu\norders.paid.us\n" || r.Stderr != "" {
		t.Fatalf("stdout %q stderr %q", r.Stdout, r.Stderr)
	}
	// Functions of the server's transforms work: split, partition.
	r = clitest.Run(t, "server", "mapping", "a.*", "b.{{split(1,-)}}", "a.x-y-z")
	clitest.ExpectCode(t, r, 0)
	if r.Stdout != "b.x.y.z\n" {
		t.Fatalf("split: %q", r.Stdout)
	}
	r = clitest.Run(t, "server", "mappings", "p.*", "p.{{partition(4,1)}}.{{wildcard(1)}}", "p.abc", "p.abc")
	clitest.ExpectCode(t, r, 0)
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if len(lines) != 2 || lines[0] != lines[1] || !strings.HasPrefix(lines[0], "p.") || !strings.HasSuffix(lines[0], ".abc") {
		t.Fatalf("partition not stable: %q", r.Stdout)
	}
}

func TestMappingsStdinAndJSON(t *testing.T) {
	clitest.Isolate(t)
	r := clitest.RunWith(t, clitest.Opts{Stdin: "orders.eu.new\n\n  orders.us.paid  \n"}, "server", "mappings", swapSrc, swapDest)
	clitest.ExpectCode(t, r, 0)
	if r.Stdout != "orders.new.eu\norders.paid.us\n" {
		t.Fatalf("stdin: %q", r.Stdout)
	}
	r = clitest.RunWith(t, clitest.Opts{Stdin: "orders.eu.new\nother.x\norders.*.x\n"}, "server", "mappings", swapSrc, swapDest, "--json")
	if r.Code != cmdutil.ExitError || r.Stderr != "" {
		t.Fatalf("exit %d stderr %q", r.Code, r.Stderr)
	}
	var got []mappingscmd.Mapping
	if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil {
		t.Fatalf("%v: %s", err, r.Stdout)
	}
	if len(got) != 3 || got[0].Mapped != "orders.new.eu" || got[0].Error != "" ||
		got[1].Mapped != "" || !strings.Contains(got[1].Error, `"other.x" does not match "orders.*.*"`) ||
		!strings.Contains(got[2].Error, "wildcard") {
		t.Fatalf("%+v", got)
	}
}

func TestMappingsTerminal(t *testing.T) {
	clitest.Isolate(t)
	stub := &cmdutil.PromptStub{Answers: []any{swapSrc, swapDest, "orders.eu.new", "nope", ""}}
	r := clitest.RunWith(t, clitest.Opts{TTY: true, Prompter: stub}, "server", "mappings")
	if r.Code != cmdutil.ExitError {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	if r.Stdout != "orders.new.eu\n" || !strings.Contains(r.Stderr, `"nope" does not match`) || !strings.Contains(r.Stderr, "Nothing is added to any server") {
		t.Fatalf("stdout %q stderr %q", r.Stdout, r.Stderr)
	}
	if len(stub.Asked) != 5 || stub.Asked[0] != "Source subject pattern:" || stub.Asked[2] != "Subject:" {
		t.Fatalf("asked %q", stub.Asked)
	}
}

func TestMappingsErrors(t *testing.T) {
	clitest.Isolate(t)
	for _, c := range []struct {
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"", nil, cmdutil.ExitUsage, "SOURCE argument is required"},
		{"", []string{"a.*"}, cmdutil.ExitUsage, "DEST argument is required"},
		{"", []string{"a.*", "b.{{wildcard(2)}}", "a.x"}, cmdutil.ExitUsage, "wildcard index out of range"},
		{"", []string{"a.*", "b.{{nosuch(1)}}", "a.x"}, cmdutil.ExitUsage, "unknown function"},
		{"", []string{"a..b", "c", "a.x"}, cmdutil.ExitUsage, `cannot map "a..b" to "c"`},
		{"", []string{"a.*", "b.$1"}, cmdutil.ExitUsage, "no subjects to map"},
		{"", []string{"a.*", "b.$1", "c.x"}, cmdutil.ExitError, `"c.x" does not match "a.*"`},
		{"", []string{"a.*", "b.$1", "a x"}, cmdutil.ExitError, "whitespace"},
	} {
		r := clitest.RunWith(t, clitest.Opts{Stdin: c.stdin}, append([]string{"server", "mappings"}, c.args...)...)
		if r.Code != c.code || !strings.Contains(r.Stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, r.Code, r.Stderr, c.code, c.want)
		}
	}
}
