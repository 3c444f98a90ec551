package conf

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden .json files under testdata/conf")

// corpusDir holds real-world style configurations. Each top-level
// NAME.conf has its expected value in NAME.json; files under include/
// are only reached through include directives.
const corpusDir = "../../testdata/conf"

// TestGolden parses every configuration in the corpus and compares the
// result with its stored expectation. Run with -update to rewrite the
// expectations after a deliberate change, and review the diff.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no configurations in %s", corpusDir)
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".conf")
		t.Run(name, func(t *testing.T) {
			got, err := ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false) // keep subjects such as "orders.>" readable
			enc.SetIndent("", "  ")
			if err := enc.Encode(typed(got)); err != nil {
				t.Fatal(err)
			}
			data := buf.Bytes()
			golden := strings.TrimSuffix(path, ".conf") + ".json"
			if *update {
				if err := os.WriteFile(golden, data, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(data, want) {
				t.Errorf("%s differs from %s (run go test -update and review the diff)\ngot:\n%s", path, golden, data)
			}

			// The position-aware parse gives the same values, and every
			// value knows where it came from.
			wrapped, err := ParseFileWithPositions(path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(UnwrapMap(wrapped), got) {
				t.Errorf("ParseFileWithPositions differs from ParseFile")
			}
			checkPositions(t, wrapped, true)
		})
	}
}

// checkPositions verifies that every value in v is an *Item with a file
// and a position, and that map entries have a key position.
func checkPositions(t *testing.T, v any, inMap bool) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			checkPositions(t, e, true)
		}
		return
	case []any:
		for _, e := range x {
			checkPositions(t, e, false)
		}
		return
	}
	it, ok := v.(*Item)
	if !ok {
		t.Fatalf("value %#v is %T, want *Item", v, v)
	}
	if it.File == "" || it.Line < 1 || it.Col < 1 {
		t.Errorf("value %#v has position %v", it.Value, it.Pos)
	}
	if inMap && (it.KeyPos.File == "" || it.KeyPos.Line < 1 || it.KeyPos.Col < 1) {
		t.Errorf("value %#v has key position %v", it.Value, it.KeyPos)
	}
	switch x := it.Value.(type) {
	case map[string]any, []any:
		checkPositions(t, x, false)
	}
}

// typed converts a parsed value into JSON that keeps the Go types
// apart: integers are JSON numbers, strings and booleans are JSON
// strings and booleans, and floats and datetimes are tagged objects.
func typed(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = typed(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = typed(e)
		}
		return out
	case float64:
		return map[string]any{"$float": x}
	case time.Time:
		return map[string]any{"$datetime": x.Format(time.RFC3339)}
	}
	return v
}
