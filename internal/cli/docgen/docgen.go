package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/sluicehq/sluice/internal/cli"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// Directories, relative to the repository root, that docgen owns.
const (
	completionsDir = "completions"
	manDir         = "man"
)

// completionFiles names each shell's script the way packagers install
// them: bash-completion and fish by program name, zsh as _program.
var completionFiles = map[string]string{
	"bash":       "sluice.bash",
	"zsh":        "_sluice",
	"fish":       "sluice.fish",
	"powershell": "sluice.ps1",
}

// placeholderDate is given to cobra's man generator, which insists on a
// date, and then cut from the pages so they do not change every month.
var placeholderDate = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

// newRoot builds the command tree on in-memory streams, so nothing about
// the terminal docgen runs in reaches the output.
func newRoot() *cobra.Command {
	io, _, _ := cmdutil.Test("")
	root := cli.NewRoot(&cmdutil.Factory{IO: io})
	root.DisableAutoGenTag = true
	return root
}

// render returns every generated file by its slash-separated path
// relative to the repository root.
func render() (map[string][]byte, error) {
	files := map[string][]byte{}
	root := newRoot()
	for _, sh := range cli.Shells {
		name, ok := completionFiles[sh]
		if !ok {
			return nil, fmt.Errorf("no file name for %s completions", sh)
		}
		var b bytes.Buffer
		if err := cli.WriteCompletion(root, sh, &b); err != nil {
			return nil, fmt.Errorf("%s completions: %w", sh, err)
		}
		files[completionsDir+"/"+name] = b.Bytes()
	}
	var walk func(c *cobra.Command) error
	walk = func(c *cobra.Command) error {
		c.DisableAutoGenTag = true
		c.Long = fenceIndented(c.Long)
		page, err := manPage(c)
		if err != nil {
			return err
		}
		files[manDir+"/"+strings.ReplaceAll(c.CommandPath(), " ", "-")+".1"] = page
		for _, sub := range c.Commands() {
			if !sub.IsAvailableCommand() || sub.IsAdditionalHelpTopicCommand() {
				continue
			}
			if err := walk(sub); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root); err != nil {
		return nil, err
	}
	return files, nil
}

// manPage renders c's page in section 1 without a date.
func manPage(c *cobra.Command) ([]byte, error) {
	d := placeholderDate
	hdr := &doc.GenManHeader{Section: "1", Date: &d, Source: "sluice", Manual: "sluice manual"}
	var b bytes.Buffer
	if err := doc.GenMan(c, hdr, &b); err != nil {
		return nil, fmt.Errorf("man page of %q: %w", c.CommandPath(), err)
	}
	// Only the .TH line (near the top) carries the date.
	out := b.Bytes()
	start := bytes.Index(out, []byte("\n.TH "))
	if start < 0 {
		return nil, fmt.Errorf("man page of %q has no .TH line", c.CommandPath())
	}
	end := start + 1 + bytes.IndexByte(out[start+1:], '\n')
	date := []byte(`"` + placeholderDate.Format("Jan 2006") + `"`)
	th := bytes.Replace(out[start:end], date, []byte(`""`), 1)
	return slices.Concat(out[:start], th, out[end:]), nil
}

// fenceIndented wraps the indented blocks of help text (tables of
// templates, exit codes, examples) in code fences, so the man page keeps
// their layout and reads * and > in them literally.
func fenceIndented(text string) string {
	lines := strings.Split(text, "\n")
	var out []string
	in := false
	for i, l := range lines {
		indented := strings.HasPrefix(l, "  ") && strings.TrimSpace(l) != ""
		if indented && !in {
			if len(out) > 0 && out[len(out)-1] != "" {
				out = append(out, "")
			}
			out = append(out, "```")
			in = true
		}
		if in && !indented && !continuesBlock(lines, i) {
			out = append(out, "```")
			if l != "" {
				out = append(out, "")
			}
			in = false
		}
		out = append(out, l)
	}
	if in {
		out = append(out, "```")
	}
	return strings.Join(out, "\n")
}

// continuesBlock reports whether lines[i] is a blank line inside an
// indented block: more indented lines follow it before any text.
func continuesBlock(lines []string, i int) bool {
	if strings.TrimSpace(lines[i]) != "" {
		return false
	}
	for _, l := range lines[i+1:] {
		if strings.TrimSpace(l) != "" {
			return strings.HasPrefix(l, "  ")
		}
	}
	return false
}

// write renders the files under dir, removes generated files that no
// longer have a command (man pages of removed commands), and returns
// how many files it wrote.
func write(dir string) (int, error) {
	files, err := render()
	if err != nil {
		return 0, err
	}
	for _, sub := range []string{completionsDir, manDir} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return 0, err
		}
	}
	stale, err := existing(dir)
	if err != nil {
		return 0, err
	}
	for _, rel := range stale {
		if _, keep := files[rel]; !keep {
			if err := os.Remove(filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
				return 0, err
			}
		}
	}
	for _, rel := range sortedKeys(files) {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(rel)), files[rel], 0o644); err != nil {
			return 0, err
		}
	}
	return len(files), nil
}

// existing lists the files now in dir's completions/ and man/, as
// slash-separated paths relative to dir.
func existing(dir string) ([]string, error) {
	var out []string
	for _, sub := range []string{completionsDir, manDir} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if !e.IsDir() {
				out = append(out, sub+"/"+e.Name())
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
