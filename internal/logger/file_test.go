package logger

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFileRotationKeepsMaxFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "server.log")
	// An unrelated file sharing the prefix must survive purging.
	os.WriteFile(path+".keep", []byte("mine"), 0o600)
	l, err := NewFile(FileOptions{Path: path, SizeLimit: 200, MaxFiles: 3}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for range 100 {
		l.Noticef("%s", strings.Repeat("x", 40))
	}
	backups, _ := filepath.Glob(path + ".2*")
	if len(backups) != 2 {
		t.Fatalf("%d backups, want MaxFiles-1 = 2: %v", len(backups), backups)
	}
	if _, err := os.Stat(path + ".keep"); err != nil {
		t.Errorf("purge removed an unrelated file: %v", err)
	}
	cur, _ := os.ReadFile(path)
	if !strings.Contains(string(cur), "Rotated log, backup saved as") {
		t.Errorf("current file lacks the rotation note:\n%s", cur)
	}
	if len(cur) > 400 {
		t.Errorf("current file is %d bytes; rotation at 200 not honoured", len(cur))
	}
}

func TestFileNoLimitNoRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "server.log")
	l, err := NewFile(FileOptions{Path: path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		l.Noticef("line")
	}
	l.Close()
	if m, _ := filepath.Glob(path + ".*"); len(m) != 0 {
		t.Fatalf("rotated without a limit: %v", m)
	}
	b, _ := os.ReadFile(path)
	if strings.Count(string(b), "\n") != 100 {
		t.Fatalf("want 100 lines, got %q", b)
	}
}

func TestFileReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "server.log")
	l, err := NewFile(FileOptions{Path: path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Noticef("before")
	os.Rename(path, path+".moved")
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	l.Noticef("after")
	b, _ := os.ReadFile(path)
	old, _ := os.ReadFile(path + ".moved")
	if string(b) != "[INF] after\n" || string(old) != "[INF] before\n" {
		t.Fatalf("new %q old %q", b, old)
	}
}

func TestFileOpenError(t *testing.T) {
	_, err := NewFile(FileOptions{Path: filepath.Join(t.TempDir(), "no", "such", "dir", "x.log")}, Options{})
	if err == nil || !strings.Contains(err.Error(), "open log file") {
		t.Fatalf("got %v", err)
	}
}

func TestIsBackupName(t *testing.T) {
	for name, want := range map[string]bool{
		"s.log.2026.11.22.10.04.05.123456789": true,
		"s.log.2026.11.22.10.04.05.12345678":  false,
		"s.log.keep":                          false,
		"s.log":                               false,
		"s.logx2026.11.22.10.04.05.123456789": false,
		"s.log.2026-11.22.10.04.05.123456789": false,
	} {
		if got := isBackupName(name, "s.log"); got != want {
			t.Errorf("isBackupName(%q) = %v", name, got)
		}
	}
}
