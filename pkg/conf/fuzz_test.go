package conf

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// maxFuzzInput bounds fuzz inputs so each one parses quickly.
const maxFuzzInput = 16 << 10

// FuzzParse checks that no input makes the parser panic or hang, that
// every error is an *Error with a position inside the input, and that
// the position-aware parse agrees with the plain one.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"", "port: 4222", "a = [1, 2, 3]", "a { b = 1; c: [x, y] }", "{ \"a\": {\"b\": [1]} }",
		"a = (\nblock\n)\n", "a = \"x\\ty\\x41\"", "a = 'raw'", "a = 1k; b = 2MB; c = -3Gi",
		"a = 1.5; b = 1.2.3.4:80; c = 10s", "a = 2024-01-31T12:34:56Z", "a = yes; b = OFF",
		"x = 1\ny = $x\nz { w = $y }", "p = $2a$11$abc", "include inc.conf", "# c\n// d\n",
		"a = [\n # c\n 1\n 2,\n]", "a { b { c { d = [{e: f}] } } }", "a = $HOME",
	}
	if files, err := filepath.Glob(filepath.Join(corpusDir, "*.conf")); err == nil {
		for _, path := range files {
			if data, err := os.ReadFile(path); err == nil {
				seeds = append(seeds, string(data))
			}
		}
	}
	for _, s := range seeds {
		f.Add(s)
	}
	// Include directives in inputs resolve against an empty directory.
	f.Chdir(f.TempDir())
	f.Fuzz(func(t *testing.T, in string) {
		if len(in) > maxFuzzInput {
			t.Skip()
		}
		for _, dir := range []string{"/proc", "/sys", "/dev"} {
			if strings.Contains(in, dir) {
				t.Skip() // an include of a kernel file could read without end
			}
		}
		got, err := Parse(in)
		wrapped, werr := ParseWithPositions(in)
		if (err == nil) != (werr == nil) {
			t.Fatalf("Parse error %v, ParseWithPositions error %v", err, werr)
		}
		if err != nil {
			checkFuzzError(t, in, err)
			if err.Error() != werr.Error() {
				t.Fatalf("errors differ: %v vs %v", err, werr)
			}
			return
		}
		if !reflect.DeepEqual(UnwrapMap(wrapped), got) {
			t.Fatalf("ParseWithPositions disagrees with Parse for %q", in)
		}
	})
}

func checkFuzzError(t *testing.T, in string, err error) {
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is %T, want *Error", err, err)
	}
	if e.Pos.File != "" || e.Err != nil {
		return // in an included file or the environment
	}
	lines := strings.Count(strings.TrimPrefix(in, "\uFEFF"), "\n") + 1
	if e.Pos.Line < 1 || e.Pos.Line > lines || e.Pos.Col < 1 {
		t.Fatalf("error %v has a position outside the input (%d lines)", err, lines)
	}
}
