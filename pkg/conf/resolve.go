package conf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// lookup resolves the variable reference "$name" found at off. Keys set
// earlier in the maps being built are searched from the innermost
// outwards; then the environment. The value of a key is shared, not
// copied.
func (p *parser) lookup(name string, off int) (any, error) {
	if name == "" {
		return nil, p.errorf(off, "expected a variable name after '$'")
	}
	if isBcrypt(name) {
		return "$" + name, nil
	}
	for i := len(p.scopes) - 1; i >= 0; i-- {
		v, ok := p.scopes[i][name]
		if !ok {
			continue
		}
		if it, ok := v.(*Item); ok {
			it.Referenced = true
			return it.Value, nil
		}
		return v, nil
	}
	return p.lookupEnv(name, off)
}

// lookupEnv resolves a variable from the environment. The variable's
// text is parsed as a value, so PORT=4222 gives an integer and
// USERS='[a, b]' an array; the text may refer to further variables.
func (p *parser) lookupEnv(name string, off int) (any, error) {
	for i, seen := range p.sess.envRefs {
		if seen == name {
			chain := append(append([]string(nil), p.sess.envRefs[i:]...), name)
			return nil, p.errorf(off, "variable reference cycle: $%s", strings.Join(chain, " -> $"))
		}
	}
	text, ok := os.LookupEnv(name)
	if !ok {
		return nil, p.errorf(off, "undefined variable '$%s': no key %q is set earlier in this or an enclosing block, and there is no environment variable %s",
			name, name, name)
	}
	p.sess.envRefs = append(p.sess.envRefs, name)
	defer func() { p.sess.envRefs = p.sess.envRefs[:len(p.sess.envRefs)-1] }()

	sub := newParser(text, "", p.dir, p.sess)
	ref := p.pos(off)
	sub.fixedPos = &ref
	sub.scopes = []map[string]any{{}}
	v, err := sub.parseEnvValue(name)
	if err == nil {
		return v, nil
	}
	var e *Error
	if !errors.As(err, &e) {
		return nil, err
	}
	where := fmt.Sprintf("column %d", e.Pos.Col)
	if e.Pos.Line > 1 {
		where = fmt.Sprintf("line %d, column %d", e.Pos.Line, e.Pos.Col)
	}
	return nil, &Error{
		Pos: ref,
		Msg: fmt.Sprintf("cannot use environment variable %s=%q as a value: at %s: %s", name, text, where, e.Msg),
		Err: e.Err,
	}
}

// parseEnvValue parses the whole source as the value of the environment
// variable name. Empty text is the empty string, as for nats-server.
func (p *parser) parseEnvValue(name string) (any, error) {
	p.skipBlanks()
	if p.off == len(p.text) {
		return "", nil
	}
	v, err := p.parseValue("'$"+name+"'", false)
	if err != nil {
		return nil, err
	}
	p.skipSpace(true)
	if p.off < len(p.text) {
		return nil, p.errorf(p.off, "expected a single value, found %s after it (quote the value to make it one string)", p.describe(p.off))
	}
	if it, ok := v.(*Item); ok {
		return it.Value, nil
	}
	return v, nil
}

// parseInclude parses the path of an include directive, whose keyword
// starts at keyOff and has just been read, and merges the top-level
// keys of the included file into m.
func (p *parser) parseInclude(m map[string]any, keyOff int) error {
	p.skipBlanks()
	start := p.off
	t := p.text
	var path string
	switch c, ok := p.peek(); {
	case !ok || isEOL(c) || strings.IndexByte("[{(\\=:;,}", c) >= 0:
		return p.errorf(start, "expected a file path after 'include', found %s", p.describe(start))
	case c == '"' || c == '\'':
		end := strings.IndexByte(t[start+1:], c)
		if end < 0 {
			return p.errorf(start, "unterminated include path: expected a closing %s before end of file", p.describe(start))
		}
		path = t[start+1 : start+1+end]
		p.off = start + end + 2
	default:
		i := start
		for i < len(t) && !isEOL(t[i]) && !isBlank(t[i]) && t[i] != ';' && t[i] != '}' && t[i] != '\'' {
			i++
		}
		path = t[start:i]
		p.off = i
		if i < len(t) && t[i] == '\'' {
			p.off++ // nats-server swallows a quote that ends a bare path
		}
	}
	if path == "" {
		return p.errorf(start, "expected a file path after 'include', found an empty string")
	}
	return p.include(m, path, keyOff, start)
}

// include parses the file at path, relative to the directory of the
// current file, and merges its top-level keys into m. The included file
// is parsed on its own: it cannot see the variables of the including
// file, but keys it sets are visible to what follows the directive.
func (p *parser) include(m map[string]any, path string, keyOff, pathOff int) error {
	full := path
	if !filepath.IsAbs(full) {
		full = filepath.Join(p.dir, full)
	}
	if len(p.sess.includes) >= maxIncludeDepth {
		return p.errorf(pathOff, "includes nested more than %d deep", maxIncludeDepth)
	}
	info, err := os.Stat(full)
	switch {
	case err != nil:
	case info.IsDir():
		err = errors.New("is a directory")
	case !info.Mode().IsRegular():
		// Reading a device or a pipe could block forever.
		err = errors.New("not a regular file")
	}
	if err != nil {
		return &Error{Pos: p.pos(pathOff), Msg: fmt.Sprintf("cannot read included file '%s'", path), Err: err}
	}
	for i, f := range p.sess.includes {
		if !os.SameFile(f.info, info) {
			continue
		}
		var chain []string
		for _, g := range p.sess.includes[i:] {
			chain = append(chain, g.name)
		}
		chain = append(chain, full)
		return p.errorf(pathOff, "include cycle: %s", strings.Join(chain, " -> "))
	}
	data, err := os.ReadFile(full)
	if err != nil {
		return &Error{Pos: p.pos(pathOff), Msg: fmt.Sprintf("cannot read included file '%s'", path), Err: err}
	}

	p.sess.includes = append(p.sess.includes, includedFile{name: full, info: info})
	defer func() { p.sess.includes = p.sess.includes[:len(p.sess.includes)-1] }()
	sub := newParser(string(data), full, filepath.Dir(full), p.sess)
	got, err := sub.parseDocument()
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.IncludedFrom = append(e.IncludedFrom, p.pos(keyOff))
		}
		return err
	}
	for k, v := range got {
		m[k] = v
	}
	return nil
}
