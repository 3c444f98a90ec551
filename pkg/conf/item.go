package conf

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Pos is a position in a configuration source.
type Pos struct {
	File string // path of the file as it was opened; empty for Parse
	Line int    // 1-based line number
	Col  int    // 1-based column, counted in bytes
}

// String formats the position as "file:line:col", or "line:col" when
// the position has no file.
func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.File == "":
		return fmt.Sprintf("%d:%d", p.Line, p.Col)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Item is a value as returned by ParseWithPositions and
// ParseFileWithPositions: the value together with where it was written.
//
// Value holds the same types as Parse returns, except that the elements
// of maps and arrays are themselves *Item.
type Item struct {
	// Value is the parsed value: string, int64, float64, bool,
	// time.Time, map[string]any or []any.
	Value any
	// Pos is where the value starts. For a $variable reference it is
	// the position of the reference, not of the definition.
	Pos
	// KeyPos is where the key of a map entry starts; it is the zero Pos
	// for array elements.
	KeyPos Pos
	// Referenced reports whether a $variable referred to this map entry.
	// A top-level key that only serves as a variable can thus be told
	// apart from an unknown option.
	Referenced bool
}

// Unwrap returns v with every *Item replaced by its Value, recursively
// through maps and arrays. Values that hold no *Item come back equal to
// what Parse would have returned for the same input. Structures that a
// configuration shares through variables stay shared in the result.
func Unwrap(v any) any {
	u := unwrapper{seen: make(map[sharedKey]any)}
	return u.unwrap(v)
}

// UnwrapMap is Unwrap for the map returned by the position-aware parse
// functions.
func UnwrapMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	return Unwrap(m).(map[string]any)
}

type sharedKey struct {
	ptr uintptr
	n   int
}

type unwrapper struct {
	seen map[sharedKey]any
}

func (u *unwrapper) unwrap(v any) any {
	switch x := v.(type) {
	case *Item:
		if x == nil {
			return nil
		}
		return u.unwrap(x.Value)
	case map[string]any:
		k := sharedKey{reflect.ValueOf(x).Pointer(), -1}
		if done, ok := u.seen[k]; ok {
			return done
		}
		out := make(map[string]any, len(x))
		for key, e := range x {
			out[key] = u.unwrap(e)
		}
		u.seen[k] = out
		return out
	case []any:
		k := sharedKey{reflect.ValueOf(x).Pointer(), len(x)}
		if done, ok := u.seen[k]; ok && len(x) > 0 {
			return done
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = u.unwrap(e)
		}
		u.seen[k] = out
		return out
	}
	return v
}

// Digest returns a checksum of a parsed configuration in the form
// "sha256:<hex>". The map may come from any of the parse functions;
// positions do not take part. Two configurations get the same digest
// exactly when they parse to the same values, whatever their layout,
// comments or split into included files, so the digest tells a reload
// whether anything changed. It is computed the way nats-server computes
// the digest it prints for "nats-server -t".
func Digest(m map[string]any) (string, error) {
	h := sha256.New()
	if err := json.NewEncoder(h).Encode(UnwrapMap(m)); err != nil {
		return "", fmt.Errorf("conf: digest: %w", err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// Error is a syntax or semantic error found while parsing. Its message
// names the position and what the parser expected there.
type Error struct {
	// Pos is where the problem is. For an unterminated string, map,
	// array or block it is where the unterminated element starts.
	Pos Pos
	// Msg describes the problem.
	Msg string
	// IncludedFrom lists, innermost first, the include directives
	// through which the file holding the error was reached.
	IncludedFrom []Pos
	// Err is the underlying cause, such as a failure to read a file.
	Err error
}

// Error formats the error as "file:line:col: message".
func (e *Error) Error() string {
	var b strings.Builder
	if s := e.Pos.String(); s != "" {
		b.WriteString(s)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if len(e.IncludedFrom) > 0 {
		b.WriteString(" (included from ")
		for i, p := range e.IncludedFrom {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(p.String())
		}
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// TypeName describes a parsed value's type for error messages ("a
// string", "a block {...}").
func TypeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "a number"
	case float64:
		return "a decimal number"
	case bool:
		return "a boolean"
	case map[string]any:
		return "a block {...}"
	case []any:
		return "a list [...]"
	case time.Time:
		return "a date"
	}
	return fmt.Sprintf("%T", v)
}
