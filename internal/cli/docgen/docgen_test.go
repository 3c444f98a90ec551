package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// repoRoot finds the directory holding go.mod above the test's.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// TestCommittedFilesAreCurrent regenerates everything into a temporary
// directory and compares it with the committed completions/ and man/.
func TestCommittedFilesAreCurrent(t *testing.T) {
	root := repoRoot(t)
	tmp := t.TempDir()
	if _, err := write(tmp); err != nil {
		t.Fatal(err)
	}
	want, err := existing(tmp)
	if err != nil {
		t.Fatal(err)
	}
	have, err := existing(root)
	if err != nil {
		t.Fatal(err)
	}
	var problems []string
	for _, rel := range want {
		if !slices.Contains(have, rel) {
			problems = append(problems, rel+" is missing")
			continue
		}
		a, _ := os.ReadFile(filepath.Join(tmp, rel))
		b, _ := os.ReadFile(filepath.Join(root, rel))
		if !bytes.Equal(a, b) {
			problems = append(problems, rel+" is out of date")
		}
	}
	for _, rel := range have {
		if !slices.Contains(want, rel) {
			problems = append(problems, rel+" belongs to no command")
		}
	}
	if len(problems) > 0 {
		t.Fatalf("generated files differ from the command tree; run make generate and commit the result:\n  %s",
			strings.Join(problems, "\n  "))
	}
}

func TestRenderIsDeterministicAndComplete(t *testing.T) {
	a, err := render()
	if err != nil {
		t.Fatal(err)
	}
	b, err := render()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("two renders: %d and %d files", len(a), len(b))
	}
	for k, v := range a {
		if !bytes.Equal(v, b[k]) {
			t.Fatalf("%s differs between two renders", k)
		}
	}
	for _, want := range []string{
		"completions/sluice.bash", "completions/_sluice", "completions/sluice.fish", "completions/sluice.ps1",
		"man/sluice.1", "man/sluice-pub.1", "man/sluice-sub.1", "man/sluice-request.1", "man/sluice-reply.1",
		"man/sluice-context.1", "man/sluice-context-add.1", "man/sluice-context-rm.1", "man/sluice-version.1",
		"man/sluice-bench-pub.1", "man/sluice-serve.1",
	} {
		if len(a[want]) == 0 {
			t.Errorf("%s not generated", want)
		}
	}
	wd, _ := os.Getwd()
	home, _ := os.UserHomeDir()
	for k, v := range a {
		if strings.HasPrefix(k, "man/") {
			th, _, _ := strings.Cut(strings.TrimPrefix(string(v), ".nh\n"), "\n")
			if !strings.HasPrefix(th, `.TH "`) || !strings.Contains(th, ` "1" "" "sluice" "sluice manual"`) {
				t.Errorf("%s: header %q should name section 1 and carry no date", k, th)
			}
			if strings.Contains(string(v), "Auto generated") || strings.Contains(string(v), ".SH HISTORY") {
				t.Errorf("%s carries cobra's dated HISTORY section", k)
			}
		}
		for _, p := range []string{wd, home, os.TempDir()} {
			if p != "" && p != "/" && bytes.Contains(v, []byte(p)) {
				t.Errorf("%s holds the local path %s", k, p)
			}
		}
	}
	if !bytes.Contains(a["man/sluice.1"], []byte("NATS_URL")) {
		t.Error("sluice.1 does not document the global flags")
	}
	if !bytes.Contains(a["completions/_sluice"], []byte("#compdef sluice")) {
		t.Error("zsh completion lacks #compdef")
	}
}

func TestWriteRemovesStalePages(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "man"), 0o755); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, "man", "sluice-gone.1")
	if err := os.WriteFile(stale, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := write(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("stale page kept: %v", err)
	}
	got, _ := existing(dir)
	if len(got) != n {
		t.Fatalf("wrote %d files, found %d: %v", n, len(got), got)
	}
}

func TestWriteFailsOnUnwritableDir(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := write(file); err == nil {
		t.Fatal("writing under a regular file succeeded")
	}
}

func TestFenceIndented(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text\nmore", "plain text\nmore"},
		{"Intro:\n\n  a  1\n  b  2\n\nAfter.", "Intro:\n\n```\n  a  1\n  b  2\n```\n\nAfter."},
		{"Intro:\n  a\n\n  b\nEnd", "Intro:\n\n```\n  a\n\n  b\n```\n\nEnd"},
		{"Codes:\n  0 ok", "Codes:\n\n```\n  0 ok\n```"},
		{"", ""},
	} {
		if got := fenceIndented(tc.in); got != tc.want {
			t.Errorf("fenceIndented(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}
