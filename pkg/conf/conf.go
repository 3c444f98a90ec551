package conf

import (
	"errors"
	"os"
	"path/filepath"
)

// Parse parses a configuration held in a string. Include paths are
// taken relative to the current directory. Values are plain Go values:
// string, int64, float64, bool, time.Time, map[string]any and []any.
// An error is an *Error.
func Parse(data string) (map[string]any, error) {
	return parseString(data, false)
}

// ParseFile parses the configuration file at path, following include
// directives relative to the directory of the file that holds them.
// Values are as for Parse. An error is an *Error.
func ParseFile(path string) (map[string]any, error) {
	return parseFile(path, false)
}

// ParseWithPositions is Parse, with every value wrapped in an *Item that
// records where it was written. Use Unwrap or UnwrapMap to get plain
// values back.
func ParseWithPositions(data string) (map[string]any, error) {
	return parseString(data, true)
}

// ParseFileWithPositions is ParseFile, with every value wrapped in an
// *Item that records the file, line and column where it was written.
// Use Unwrap or UnwrapMap to get plain values back.
func ParseFileWithPositions(path string) (map[string]any, error) {
	return parseFile(path, true)
}

func parseString(data string, positions bool) (map[string]any, error) {
	p := newParser(data, "", ".", &session{positions: positions})
	return p.parseDocument()
}

func parseFile(path string, positions bool) (map[string]any, error) {
	info, err := os.Stat(path)
	if err == nil && info.IsDir() {
		err = errors.New("is a directory")
	}
	if err != nil {
		return nil, &Error{Pos: Pos{File: path}, Msg: "cannot read configuration file", Err: err}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Pos: Pos{File: path}, Msg: "cannot read configuration file", Err: err}
	}
	sess := &session{
		positions: positions,
		includes:  []includedFile{{name: path, info: info}},
	}
	p := newParser(string(data), path, filepath.Dir(path), sess)
	return p.parseDocument()
}
