package natscontext

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
)

func TestDefaultStoreLocation(t *testing.T) {
	env := map[string]string{"XDG_CONFIG_HOME": "/x/cfg", "HOME": "/home/u"}
	s, err := DefaultStore(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Path("a"), filepath.Join("/x/cfg", "nats", "context", "a.json"); got != want {
		t.Fatalf("path = %s, want %s", got, want)
	}
	delete(env, "XDG_CONFIG_HOME")
	s, _ = DefaultStore(func(k string) string { return env[k] })
	if got, want := s.SelectionPath(), filepath.Join("/home/u", ".config", "nats", "context.txt"); got != want {
		t.Fatalf("selection = %s, want %s", got, want)
	}
}

func TestSelectPreviousUnselect(t *testing.T) {
	root := t.TempDir()
	s := NewStore(root)
	for _, n := range []string{"a", "b"} {
		if err := s.Save(&Context{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	if sel, _ := s.Selected(); sel != "" {
		t.Fatalf("selected %q in an empty store", sel)
	}
	if err := s.Select("missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("select missing: %v", err)
	}
	must(t, s.Select("a"))
	must(t, s.Select("b"))
	assertName(t, s.Selected, "b")
	assertName(t, s.Previous, "a")

	// natscli's files: the bare name, no newline.
	data, _ := os.ReadFile(filepath.Join(root, "nats", "context.txt"))
	if string(data) != "b" {
		t.Fatalf("context.txt = %q", data)
	}
	data, _ = os.ReadFile(filepath.Join(root, "nats", "previous-context.txt"))
	if string(data) != "a" {
		t.Fatalf("previous-context.txt = %q", data)
	}

	// Re-selecting the current one keeps the previous one.
	must(t, s.Select("b"))
	assertName(t, s.Previous, "a")

	was, err := s.Unselect()
	must(t, err)
	if was != "b" {
		t.Fatalf("unselect returned %q", was)
	}
	assertName(t, s.Selected, "")
	assertName(t, s.Previous, "b")
}

func TestSelectionWrittenByNatscliIsRead(t *testing.T) {
	root := t.TempDir()
	s := NewStore(root)
	must(t, s.Save(&Context{Name: "prod"}))
	writeFile(t, filepath.Join(root, "nats", "context.txt"), []byte("prod\n"))
	assertName(t, s.Selected, "prod")
}

func TestDeleteClearsSelectionAndPrevious(t *testing.T) {
	s := NewStore(t.TempDir())
	for _, n := range []string{"a", "b", "c"} {
		must(t, s.Save(&Context{Name: n}))
	}
	must(t, s.Select("a"))
	must(t, s.Select("b"))
	must(t, s.Delete("a")) // the previous one
	assertName(t, s.Previous, "")
	must(t, s.Delete("b")) // the selected one
	assertName(t, s.Selected, "")
	if err := s.Delete("zzz"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete missing: %v", err)
	}
	names, _ := s.List()
	if !reflect.DeepEqual(names, []string{"c"}) {
		t.Fatalf("left %v", names)
	}
}

func TestListSkipsWhatNatscliSkips(t *testing.T) {
	s := NewStore(t.TempDir())
	must(t, s.Save(&Context{Name: "good"}))
	writeFile(t, filepath.Join(s.Dir(), "empty.json"), nil)
	writeFile(t, filepath.Join(s.Dir(), "notes.txt"), []byte("x"))
	must(t, os.Mkdir(filepath.Join(s.Dir(), "dir.json"), 0o700))
	names, err := s.List()
	must(t, err)
	if !reflect.DeepEqual(names, []string{"good"}) {
		t.Fatalf("list = %v", names)
	}
	empty, err := NewStore(t.TempDir()).List()
	if err != nil || len(empty) != 0 {
		t.Fatalf("list of a missing dir = %v, %v", empty, err)
	}
}

func TestFilesAreWrittenPrivately(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no unix modes")
	}
	root := t.TempDir()
	s := NewStore(root)
	must(t, s.Save(&Context{Name: "a", Password: "secret"}))
	must(t, s.Select("a"))
	for _, p := range []string{s.Path("a"), s.SelectionPath()} {
		info, err := os.Stat(p)
		must(t, err)
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", p, info.Mode().Perm())
		}
	}
	info, _ := os.Stat(s.Dir())
	if info.Mode().Perm() != 0o700 {
		t.Errorf("context dir mode %v, want 0700", info.Mode().Perm())
	}
	// No temporary files left behind.
	entries, _ := os.ReadDir(s.Dir())
	if len(entries) != 1 {
		t.Errorf("context dir holds %d entries", len(entries))
	}
}

func TestLoadErrors(t *testing.T) {
	s := NewStore(t.TempDir())
	if _, err := s.Load("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	writeFile(t, s.Path("bad"), []byte("{not json"))
	if _, err := s.Load("bad"); err == nil {
		t.Fatal("bad JSON loaded")
	}
	if _, err := s.Load("../etc"); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("traversal: %v", err)
	}
}

func TestLoadFileAndSaveBack(t *testing.T) {
	p := filepath.Join(t.TempDir(), "ci.json")
	writeFile(t, p, []byte(`{"url":"nats://ci:4222","custom":1}`))
	c, err := LoadFile(p)
	must(t, err)
	if c.Name != "ci" || c.URL != "nats://ci:4222" || c.Path() != p {
		t.Fatalf("got %+v", c)
	}
	c.Description = "ci box"
	must(t, c.SaveFile())
	c2, err := LoadFile(p)
	must(t, err)
	if c2.Description != "ci box" || string(c2.Extra["custom"]) != "1" {
		t.Fatalf("got %+v", c2)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func assertName(t *testing.T, f func() (string, error), want string) {
	t.Helper()
	got, err := f()
	must(t, err)
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
