package conf

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeTree writes files (path relative to dir -> content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		writeFile(t, filepath.Join(dir, name), data)
	}
}

func TestIncludeNestedRelativePaths(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"main.conf": `
port: 4222
include "conf.d/cluster.conf"
authorization {
  include 'auth/users.conf'
}
INCLUDE conf.d/js.conf; server_name: n1
`,
		// Paths in an included file are relative to that file.
		"conf.d/cluster.conf":      "cluster {\n  name: c1\n  include ../common/routes.conf\n}\n",
		"common/routes.conf":       "routes = [nats://a:6222, nats://b:6222]\n",
		"conf.d/js.conf":           "jetstream { store_dir: /data }\n",
		"auth/users.conf":          "users = [{user: a, password: b}]\ninclude deeper/timeout.conf\n",
		"auth/deeper/timeout.conf": "timeout: 2\n",
	})
	got, err := ParseFile(filepath.Join(dir, "main.conf"))
	if err != nil {
		t.Fatal(err)
	}
	want := m{
		"port":        int64(4222),
		"server_name": "n1",
		"cluster": m{
			"name":   "c1",
			"routes": a{"nats://a:6222", "nats://b:6222"},
		},
		"authorization": m{
			"users":   a{m{"user": "a", "password": "b"}},
			"timeout": int64(2),
		},
		"jetstream": m{"store_dir": "/data"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}
}

func TestIncludeAbsolutePath(t *testing.T) {
	dir := t.TempDir()
	other := t.TempDir()
	writeFile(t, filepath.Join(other, "x.conf"), "x: 1\n")
	writeFile(t, filepath.Join(dir, "main.conf"), "include \""+filepath.Join(other, "x.conf")+"\"\n")
	got, err := ParseFile(filepath.Join(dir, "main.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m{"x": int64(1)}) {
		t.Fatalf("got %#v", got)
	}
}

// TestParseIncludeRelativeToWorkingDir: a string has no directory of
// its own, so its includes are relative to the working directory.
func TestParseIncludeRelativeToWorkingDir(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "sub", "x.conf"), "x: 1\n")
	t.Chdir(dir)
	got, err := Parse("include sub/x.conf")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m{"x": int64(1)}) {
		t.Fatalf("got %#v", got)
	}
}

func TestIncludeMergeOrder(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"main.conf": "a: main\nb: main\ninclude inc.conf\nb: after\n",
		"inc.conf":  "a: inc\nb: inc\nc: inc\n",
	})
	got, err := ParseFile(filepath.Join(dir, "main.conf"))
	if err != nil {
		t.Fatal(err)
	}
	want := m{"a": "inc", "b": "after", "c": "inc"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
}

func TestIncludeVariables(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		// A key set by an included file is a variable afterwards.
		"main.conf":    "include secrets.conf\nauthorization { token: $TOKEN }\n",
		"secrets.conf": "TOKEN: s3cr3t\n",
		// An included file does not see the including file's keys.
		"scoped.conf": "OUTER_ONLY: 1\ninclude inner.conf\n",
		"inner.conf":  "x: $OUTER_ONLY\n",
	})
	got, err := ParseFile(filepath.Join(dir, "main.conf"))
	if err != nil {
		t.Fatal(err)
	}
	want := m{"TOKEN": "s3cr3t", "authorization": m{"token": "s3cr3t"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}

	_, err = ParseFile(filepath.Join(dir, "scoped.conf"))
	wantErr := filepath.Join(dir, "inner.conf") + ":1:4: undefined variable '$OUTER_ONLY'"
	if err == nil || !strings.HasPrefix(err.Error(), wantErr) {
		t.Fatalf("got %v, want prefix %s", err, wantErr)
	}
}

func TestIncludeCycle(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"a.conf":    "x: 1\ninclude b.conf\n",
		"b.conf":    "y: 2\ninclude 'a.conf'\n",
		"self.conf": "include self.conf\n",
	})
	a, b := filepath.Join(dir, "a.conf"), filepath.Join(dir, "b.conf")
	_, err := ParseFile(a)
	want := b + ":2:9: include cycle: " + a + " -> " + b + " -> " + a + " (included from " + a + ":2:1)"
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}

	self := filepath.Join(dir, "self.conf")
	_, err = ParseFile(self)
	want = self + ":1:9: include cycle: " + self + " -> " + self
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
}

func TestIncludeCycleThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.conf"), "include link.conf\n")
	if err := os.Symlink(filepath.Join(dir, "a.conf"), filepath.Join(dir, "link.conf")); err != nil {
		t.Skipf("symlinks not available: %v", err)
	}
	_, err := ParseFile(filepath.Join(dir, "a.conf"))
	if err == nil || !strings.Contains(err.Error(), "include cycle") {
		t.Fatalf("got %v, want an include cycle", err)
	}
}

// TestIncludeSameFileTwice: including one file twice, not recursively,
// is fine.
func TestIncludeSameFileTwice(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"main.conf":  "a { include perms.conf }\nb { include perms.conf }\n",
		"perms.conf": "publish: foo\n",
	})
	got, err := ParseFile(filepath.Join(dir, "main.conf"))
	if err != nil {
		t.Fatal(err)
	}
	want := m{"a": m{"publish": "foo"}, "b": m{"publish": "foo"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v", got)
	}
}

func TestIncludeErrors(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"main.conf":         "port: 1\naccounts {\n  include acc/accounts.conf\n}\n",
		"acc/accounts.conf": "A {\n  users = [\n    {user: a, password: \"b}\n  ]\n}\n",
		"missing.conf":      "port: 1\ninclude nothere.conf\n",
		"dir.conf":          "include acc\n",
	})
	main, acc := filepath.Join(dir, "main.conf"), filepath.Join(dir, "acc", "accounts.conf")
	_, err := ParseFile(main)
	want := acc + `:3:25: unterminated string: expected a closing '"' before end of file (included from ` + main + ":3:3)"
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
	var e *Error
	if !errors.As(err, &e) || e.Pos.File != acc || len(e.IncludedFrom) != 1 {
		t.Fatalf("error %#v does not carry the include chain", err)
	}

	missing := filepath.Join(dir, "missing.conf")
	_, err = ParseFile(missing)
	if err == nil || !strings.HasPrefix(err.Error(), missing+":2:9: cannot read included file 'nothere.conf': ") ||
		!errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v", err)
	}

	_, err = ParseFile(filepath.Join(dir, "dir.conf"))
	if err == nil || !strings.HasSuffix(err.Error(), "cannot read included file 'acc': is a directory") {
		t.Fatalf("got %v", err)
	}
}

func TestIncludePositions(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"main.conf": "port: 1\ninclude inc.conf\n",
		"inc.conf":  "# comment\n  debug: true\n",
	})
	got, err := ParseFileWithPositions(filepath.Join(dir, "main.conf"))
	if err != nil {
		t.Fatal(err)
	}
	it := got["debug"].(*Item)
	inc := filepath.Join(dir, "inc.conf")
	if it.Pos != (Pos{inc, 2, 10}) || it.KeyPos != (Pos{inc, 2, 3}) || it.Value != true {
		t.Fatalf("debug item = %+v", it)
	}
}

func TestIncludeRejectsDevices(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	_, err := Parse("include /dev/zero")
	if err == nil || !strings.HasSuffix(err.Error(), "cannot read included file '/dev/zero': not a regular file") {
		t.Fatalf("got %v", err)
	}
}
