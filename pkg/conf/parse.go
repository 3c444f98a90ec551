package conf

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// maxDepth bounds the nesting of maps and arrays, so that hostile input
// cannot exhaust the stack. Real configurations nest a handful deep.
const maxDepth = 1000

// maxIncludeDepth bounds chains of include directives. Cycles are found
// before this is reached; it guards against pathological file trees.
const maxIncludeDepth = 100

// session is the state shared by a parse and the parses it starts for
// included files and environment variables.
type session struct {
	positions bool           // wrap values in *Item
	includes  []includedFile // files being parsed, outermost first
	envRefs   []string       // environment variables being resolved
}

type includedFile struct {
	name string
	info os.FileInfo
}

// parser parses one source: a file, a string, or the value of an
// environment variable.
type parser struct {
	*source
	sess   *session
	dir    string           // directory that include paths are relative to
	scopes []map[string]any // maps being built, innermost last
	off    int              // current byte offset
	depth  int              // nesting of maps and arrays

	// fixedPos, when set, replaces the position of every value; it is
	// used for values read from an environment variable.
	fixedPos *Pos
}

func newParser(text, file, dir string, sess *session) *parser {
	text = strings.TrimPrefix(text, "\uFEFF") // tolerate a UTF-8 byte order mark
	return &parser{source: newSource(text, file), sess: sess, dir: dir}
}

// fail converts err into an *Error positioned in this source.
func (p *parser) fail(err error) error {
	var se *scanError
	if errors.As(err, &se) {
		return &Error{Pos: p.pos(se.off), Msg: se.msg}
	}
	return err
}

func (p *parser) errorf(off int, format string, args ...any) error {
	return &Error{Pos: p.pos(off), Msg: fmt.Sprintf(format, args...)}
}

// wrap returns v as the parse result for a value starting at off: v
// itself, or an *Item when positions are wanted.
func (p *parser) wrap(v any, off int) any {
	if !p.sess.positions {
		return v
	}
	if p.fixedPos != nil {
		return &Item{Value: v, Pos: *p.fixedPos}
	}
	return &Item{Value: v, Pos: p.pos(off)}
}

func (p *parser) peek() (byte, bool) {
	if p.off >= len(p.text) {
		return 0, false
	}
	return p.text[p.off], true
}

// skipBlanks skips spaces and tabs.
func (p *parser) skipBlanks() {
	for p.off < len(p.text) && isBlank(p.text[p.off]) {
		p.off++
	}
}

// skipWhite skips white space including new lines, but not comments.
func (p *parser) skipWhite() {
	for {
		ok, n := p.spaceAt(p.off)
		if !ok {
			return
		}
		p.off += n
	}
}

// skipComment skips a '#' or '//' comment at the current offset up to,
// not including, the end of its line, and reports whether there was one.
func (p *parser) skipComment() bool {
	t := p.text[p.off:]
	if !strings.HasPrefix(t, "#") && !strings.HasPrefix(t, "//") {
		return false
	}
	if i := strings.IndexAny(t, "\r\n"); i >= 0 {
		p.off += i
	} else {
		p.off = len(p.text)
	}
	return true
}

// skipSpace skips white space including new lines, comments and, when
// seps is set, stray ';' and ',' between entries.
func (p *parser) skipSpace(seps bool) {
	for p.off < len(p.text) {
		if ok, n := p.spaceAt(p.off); ok {
			p.off += n
			continue
		}
		if p.skipComment() {
			continue
		}
		if c := p.text[p.off]; seps && (c == ';' || c == ',') {
			p.off++
			continue
		}
		return
	}
}

// parseDocument parses a whole file: entries, optionally wrapped in
// braces as in JSON.
func (p *parser) parseDocument() (map[string]any, error) {
	root := make(map[string]any)
	p.scopes = append(p.scopes, root)
	var groups []int // offsets of the '{' of open top-level groups
	for {
		p.skipSpace(true)
		c, ok := p.peek()
		switch {
		case !ok:
			if len(groups) > 0 {
				return nil, p.errorf(groups[len(groups)-1], "unterminated '{': expected '}' before end of file")
			}
			return root, nil
		case c == '{':
			groups = append(groups, p.off)
			p.off++
			continue
		case c == '}':
			// nats-server tolerates a stray closing brace at the top level.
			if len(groups) > 0 {
				groups = groups[:len(groups)-1]
			}
			p.off++
			continue
		}
		key, err := p.parseEntry(root, false)
		if err != nil {
			return nil, err
		}
		// The entry must end with a new line, ';', ',', '}' or a comment.
		p.skipBlanks()
		p.skipComment()
		c, ok = p.peek()
		switch {
		case !ok, isEOL(c), c == ';', c == ',':
		case c == '}':
			if len(groups) > 0 {
				groups = groups[:len(groups)-1]
			}
			p.off++
		default:
			return nil, p.errorf(p.off, "expected a new line, ';' or ',' after the value of %s, found %s", key, p.describe(p.off))
		}
	}
}

// parseKey reads a bare or quoted key at the current offset.
func (p *parser) parseKey() (key string, quoted bool, err error) {
	start := p.off
	switch c := p.text[start]; c {
	case '"', '\'':
		end := strings.IndexByte(p.text[start+1:], c)
		if end < 0 {
			return "", false, p.errorf(start, "unterminated quoted key: expected a closing %s before end of file", p.describe(start))
		}
		p.off = start + 1 + end + 1
		return p.text[start+1 : start+1+end], true, nil
	case '=', ':':
		return "", false, p.errorf(start, "expected a key, found %s", p.describe(start))
	}
	for p.off < len(p.text) {
		if ok, _ := p.spaceAt(p.off); ok {
			break
		}
		if c := p.text[p.off]; c == '=' || c == ':' || c == '{' {
			break
		}
		p.off++
	}
	if p.off == start {
		return "", false, p.errorf(start, "expected a key, found %s", p.describe(start))
	}
	return p.text[start:p.off], false, nil
}

// parseEntry parses "key [=|:] value" or an include directive and stores
// the result in m. It returns the key, quoted for messages.
func (p *parser) parseEntry(m map[string]any, inMap bool) (string, error) {
	keyOff := p.off
	key, quoted, err := p.parseKey()
	if err != nil {
		return "", err
	}
	if !quoted && strings.EqualFold(key, "include") {
		if ok, _ := p.spaceAt(p.off); ok {
			return "'include'", p.parseInclude(m, keyOff)
		}
	}
	name := "'" + key + "'"
	p.skipWhite()
	c, ok := p.peek()
	if !ok {
		return "", p.errorf(p.off, "expected a value for %s, found end of file", name)
	}
	if c == '=' || c == ':' {
		p.off++
		if inMap {
			p.skipWhite()
		} else {
			p.skipBlanks()
		}
	}
	v, err := p.parseValue(name, false)
	if err != nil {
		return "", err
	}
	if it, ok := v.(*Item); ok {
		if p.fixedPos != nil {
			it.KeyPos = *p.fixedPos
		} else {
			it.KeyPos = p.pos(keyOff)
		}
	}
	m[key] = v
	return name, nil
}

// parseValue parses the value at the current offset. key names what the
// value belongs to, for messages.
func (p *parser) parseValue(key string, inArray bool) (any, error) {
	start := p.off
	c, ok := p.peek()
	if !ok {
		return nil, p.errorf(start, "expected a value for %s, found end of file", key)
	}
	var (
		v   any
		end int
		err error
	)
	switch {
	case c == '{':
		return p.parseMap(key)
	case c == '[':
		return p.parseArray(key)
	case c == '\'':
		v, end, err = p.scanSingleQuoted(start)
	case c == '"':
		v, end, err = p.scanDoubleQuoted(start)
	case c == '(':
		v, end, err = p.scanBlock(start)
	case c == '-':
		v, end, err = p.scanNumber(start, true, inArray)
	case isDigit(c):
		v, end, err = p.scanNumber(start, false, inArray)
	case c == '.':
		return nil, p.errorf(start, "invalid value for %s: a number needs a digit before '.', and text starting with '.' must be quoted", key)
	default:
		return p.parseWord(key)
	}
	if err != nil {
		return nil, p.fail(err)
	}
	p.off = end
	return p.wrap(v, start), nil
}

// parseWord parses an unquoted value that is not a number: a string, a
// boolean or a variable reference.
func (p *parser) parseWord(key string) (any, error) {
	start := p.off
	s, end, escaped, err := p.scanBare(start, start)
	if err != nil {
		return nil, p.fail(err)
	}
	if end == start {
		return nil, p.errorf(start, "expected a value for %s, found %s", key, p.describe(start))
	}
	p.off = end
	if escaped {
		return p.wrap(s, start), nil
	}
	if b, ok := isBool(s); ok {
		return p.wrap(b, start), nil
	}
	if strings.HasPrefix(s, "$") {
		v, err := p.lookup(s[1:], start)
		if err != nil {
			return nil, err
		}
		return p.wrap(v, start), nil
	}
	return p.wrap(s, start), nil
}

// parseMap parses a map starting at its '{'.
func (p *parser) parseMap(key string) (any, error) {
	open := p.off
	if p.depth++; p.depth > maxDepth {
		return nil, p.errorf(open, "maps and arrays nested more than %d deep", maxDepth)
	}
	defer func() { p.depth-- }()
	p.off++
	m := make(map[string]any)
	p.scopes = append(p.scopes, m)
	defer func() { p.scopes = p.scopes[:len(p.scopes)-1] }()
	unterminated := func() error {
		return p.errorf(open, "unterminated map for %s: expected '}' before end of file", key)
	}
	for {
		p.skipSpace(true)
		c, ok := p.peek()
		switch {
		case !ok:
			return nil, unterminated()
		case c == '}':
			p.off++
			return p.wrap(m, open), nil
		case c == ']':
			return nil, p.errorf(p.off, "expected a key or '}' in map %s, found ']'", key)
		}
		entry, err := p.parseEntry(m, true)
		if err != nil {
			return nil, err
		}
		p.skipBlanks()
		p.skipComment()
		c, ok = p.peek()
		switch {
		case !ok:
			return nil, unterminated()
		case isEOL(c), c == ';', c == ',':
		case c == '}':
			p.off++
			return p.wrap(m, open), nil
		default:
			return nil, p.errorf(p.off, "expected a new line, ';', ',' or '}' after the value of %s, found %s", entry, p.describe(p.off))
		}
	}
}

// parseArray parses an array starting at its '['.
func (p *parser) parseArray(key string) (any, error) {
	open := p.off
	if p.depth++; p.depth > maxDepth {
		return nil, p.errorf(open, "maps and arrays nested more than %d deep", maxDepth)
	}
	defer func() { p.depth-- }()
	p.off++
	arr := make([]any, 0)
	unterminated := func() error {
		return p.errorf(open, "unterminated array for %s: expected ']' before end of file", key)
	}
	for {
		p.skipSpace(false)
		c, ok := p.peek()
		switch {
		case !ok:
			return nil, unterminated()
		case c == ']':
			p.off++
			return p.wrap(arr, open), nil
		case c == ',':
			return nil, p.errorf(p.off, "expected a value or ']' in array %s, found ','", key)
		}
		v, err := p.parseValue(fmt.Sprintf("element %d of %s", len(arr)+1, key), true)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
		p.skipBlanks()
		p.skipComment()
		c, ok = p.peek()
		switch {
		case !ok:
			return nil, unterminated()
		case isEOL(c), c == ',':
			p.off++
		case c == ']':
			p.off++
			return p.wrap(arr, open), nil
		default:
			return nil, p.errorf(p.off, "expected ',', a new line or ']' after element %d of %s, found %s", len(arr), key, p.describe(p.off))
		}
	}
}
