package conf

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		pos  string // "line:col"
		msg  string // the whole message after the position
	}{
		// Unterminated elements are reported where they start.
		{"unterminated double-quoted string", "a = 1\nb = \"abc\n", "2:5",
			`unterminated string: expected a closing '"' before end of file`},
		{"unterminated single-quoted string", "a = 'abc", "1:5",
			`unterminated string: expected a closing "'" before end of file`},
		{"unterminated map", "cluster {\n  port = 1\n", "1:9",
			"unterminated map for 'cluster': expected '}' before end of file"},
		{"unterminated nested map", "a {\n  b {\n  }\n", "1:3",
			"unterminated map for 'a': expected '}' before end of file"},
		{"unterminated array", "routes = [\n  a,\n  b\n", "1:10",
			"unterminated array for 'routes': expected ']' before end of file"},
		{"unterminated array after comment", "a = [1 # c", "1:5",
			"unterminated array for 'a': expected ']' before end of file"},
		{"unterminated block string", "a = (\nline\n", "1:5",
			"unterminated block string: expected ')' alone on a line before end of file"},
		{"unterminated quoted key", "\"abc = 1", "1:1",
			`unterminated quoted key: expected a closing '"' before end of file`},
		{"unterminated top-level brace", "{\n  a = 1\n", "1:1",
			"unterminated '{': expected '}' before end of file"},

		// Escapes.
		{"invalid escape", `a = "x\qy"`, "1:7",
			`invalid escape sequence '\q': expected \t, \n, \r, \", \\ or \xHH (use single quotes for text with backslashes)`},
		{"invalid escape in bare string", `a = C:\path`, "1:7",
			`invalid escape sequence '\p': expected \t, \n, \r, \", \\ or \xHH (use single quotes for text with backslashes)`},
		{"bad hex escape", `a = "\xZZ"`, "1:6",
			`invalid escape sequence: expected two hexadecimal digits after '\x'`},
		{"short hex escape", `a = "\x4"`, "1:6",
			`invalid escape sequence: expected two hexadecimal digits after '\x'`},
		{"escape at end of file", `a = x\`, "1:6",
			`incomplete escape sequence: expected \t, \n, \r, \", \\ or \xHH after '\', found end of file`},

		// Missing values.
		{"key at end of file", "port", "1:5", "expected a value for 'port', found end of file"},
		{"separator at end of file", "port:", "1:6", "expected a value for 'port', found end of file"},
		{"value on next line", "port =\n4222", "1:7", "expected a value for 'port', found end of line"},
		{"empty value before semicolon", "port = ;", "1:8", "expected a value for 'port', found ';'"},
		{"empty value before brace", "a { b = }", "1:9", "expected a value for 'b', found '}'"},
		{"key in map at end of file", "a { b", "1:6", "expected a value for 'b', found end of file"},

		// What may follow a value.
		{"garbage after value", "port = 4222 x", "1:13",
			"expected a new line, ';' or ',' after the value of 'port', found 'x'"},
		{"garbage after quoted", `a = "x"y`, "1:8",
			"expected a new line, ';' or ',' after the value of 'a', found 'y'"},
		{"garbage after map", "a { } b", "1:7",
			"expected a new line, ';' or ',' after the value of 'a', found 'b'"},
		{"garbage after float", "a = 1.5s", "1:8",
			"expected a new line, ';' or ',' after the value of 'a', found 's'"},
		{"garbage in map", "a { b = 1 c = 2 }", "1:11",
			"expected a new line, ';', ',' or '}' after the value of 'b', found 'c'"},
		{"garbage in array", "a = [1 2]", "1:8",
			"expected ',', a new line or ']' after element 1 of 'a', found '2'"},
		{"array leading comma", "a = [,1]", "1:6", "expected a value or ']' in array 'a', found ','"},
		{"array double comma", "a = [1,,2]", "1:8", "expected a value or ']' in array 'a', found ','"},
		{"array comma on next line", "a = [1\n, 2]", "2:1", "expected a value or ']' in array 'a', found ','"},
		{"empty array element", "a = [1, ;]", "1:9", "expected a value for element 2 of 'a', found ';'"},

		// Keys.
		{"separator without key", "= 1", "1:1", "expected a key, found '='"},
		{"colon without key in map", "a { : 1 }", "1:5", "expected a key, found ':'"},
		{"brace in key position", "a { {b = 1} }", "1:5", "expected a key, found '{'"},
		{"array end in map", "a { ] }", "1:5", "expected a key or '}' in map 'a', found ']'"},

		// Numbers.
		{"float without fraction", "a = 1.", "1:7", `invalid number "1.": expected a digit after '.', found end of file`},
		{"float letter fraction", "a = 1.x", "1:7", `invalid number "1.": expected a digit after '.', found 'x'`},
		{"float without integer", "a = .5", "1:5", "invalid value for 'a': a number needs a digit before '.', and text starting with '.' must be quoted"},
		{"relative path", "operator: ./op.jwt", "1:11", "invalid value for 'operator': a number needs a digit before '.', and text starting with '.' must be quoted"},
		{"negative float without integer", "a = -.5", "1:5", "invalid number: expected a digit between '-' and '.'"},
		{"minus without digit", "a = -x", "1:6", "invalid number: expected a digit after '-', found 'x'"},
		{"integer out of range", "a = 9223372036854775808", "1:5",
			`integer "9223372036854775808" is out of range: it must fit in 64 bits`},
		{"size out of range", "a = 16eb", "1:5", `integer "16eb" is out of range: it must fit in 64 bits`},
		{"invalid size suffix", "a = 1kbb", "1:6",
			`invalid size suffix "kbb" in "1kbb": expected k, kb, ki or kib (or the same with m, g, t, p or e)`},
		{"float out of range", "a = 1" + strings.Repeat("0", 400) + ".5", "1:5",
			`float "1` + strings.Repeat("0", 400) + `.5" is out of range`},

		// Datetimes.
		{"date without time", "a = 2024-01-31", "1:15",
			"invalid datetime: expected 'T', found end of file (the form is YYYY-MM-DDTHH:MM:SSZ)"},
		{"datetime with offset", "a = 2024-01-31T10:00:00+01:00", "1:24",
			"invalid datetime: expected 'Z', found '+' (the form is YYYY-MM-DDTHH:MM:SSZ)"},
		{"datetime letter", "a = 2024-0x-31T10:00:00Z", "1:11",
			"invalid datetime: expected a digit, found 'x' (the form is YYYY-MM-DDTHH:MM:SSZ)"},
		{"datetime out of range", "a = 2024-13-31T10:00:00Z", "1:5",
			`invalid datetime "2024-13-31T10:00:00Z": parsing time "2024-13-31T10:00:00Z": month out of range`},
		{"digits and dash", "a = 12-34", "1:5",
			`invalid value "12-34": a value starting with digits and '-' must be a datetime YYYY-MM-DDTHH:MM:SSZ (quote it to make it a string)`},

		// Variables.
		{"undefined variable", "a = $SLUICE_TEST_UNDEFINED", "1:5",
			"undefined variable '$SLUICE_TEST_UNDEFINED': no key \"SLUICE_TEST_UNDEFINED\" is set earlier in this or an enclosing block, and there is no environment variable SLUICE_TEST_UNDEFINED"},
		{"variable from a sibling block", "x { t = 1 }\ny = $t", "2:5",
			"undefined variable '$t': no key \"t\" is set earlier in this or an enclosing block, and there is no environment variable t"},
		{"variable used before it is set", "y = $later\nlater = 1", "1:5",
			"undefined variable '$later': no key \"later\" is set earlier in this or an enclosing block, and there is no environment variable later"},
		{"dollar alone", "a = $", "1:5", "expected a variable name after '$'"},

		// Include directives.
		{"include without path", "include\n", "1:8", "expected a file path after 'include', found end of line"},
		{"include with map", "include {x}", "1:9", "expected a file path after 'include', found '{'"},
		{"include empty quoted path", "include ''", "1:9", "expected a file path after 'include', found an empty string"},
		{"include unterminated path", "include \"x.conf", "1:9",
			`unterminated include path: expected a closing '"' before end of file`},
		{"include missing file", "include 'sluice-no-such-file.conf'", "1:9",
			"cannot read included file 'sluice-no-such-file.conf': stat sluice-no-such-file.conf: no such file or directory"},

		// Limits.
		{"nesting too deep", "a = " + strings.Repeat("[", maxDepth+1), "1:1005",
			"maps and arrays nested more than 1000 deep"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, parse := range []func(string) (map[string]any, error){Parse, ParseWithPositions} {
				got, err := parse(tc.in)
				if err == nil {
					t.Fatalf("Parse(%q) = %v, want an error", tc.in, got)
				}
				want := tc.pos + ": " + tc.msg
				if err.Error() != want {
					t.Fatalf("Parse(%q) error\n got  %s\n want %s", tc.in, err, want)
				}
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("error is %T, want *Error", err)
				}
			}
		})
	}
}

// TestErrorNamesFile checks that errors from files carry the file name
// and that *Error exposes the position.
func TestErrorNamesFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nats.conf")
	writeFile(t, path, "port: 4222\ncluster {\n  routes = [\n    nats://a:6222\n    nats://b:6222 x\n  ]\n}\n")
	_, err := ParseFile(path)
	want := path + ":5:19: expected ',', a new line or ']' after element 2 of 'routes', found 'x'"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error is %T, want *Error", err)
	}
	if e.Pos != (Pos{File: path, Line: 5, Col: 19}) {
		t.Fatalf("Pos = %+v", e.Pos)
	}
}

func TestParseFileErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.conf")
	_, err := ParseFile(missing)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ParseFile(missing) = %v, want a not-exist error", err)
	}
	if !strings.HasPrefix(err.Error(), missing+": cannot read configuration file: ") {
		t.Fatalf("error %q does not name the file", err)
	}
	if _, err := ParseFile(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("ParseFile(dir) = %v, want a directory error", err)
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
