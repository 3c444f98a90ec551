package conf

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// source is the text being parsed and the means to turn byte offsets
// into positions. All scanning works on byte offsets into text; the
// characters that carry meaning in the format are all ASCII.
type source struct {
	text  string
	file  string
	lines []int // byte offset at which each line starts
}

func newSource(text, file string) *source {
	lines := []int{0}
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			lines = append(lines, i+1)
		}
	}
	return &source{text: text, file: file, lines: lines}
}

// pos converts a byte offset into a position.
func (s *source) pos(off int) Pos {
	i := sort.Search(len(s.lines), func(i int) bool { return s.lines[i] > off }) - 1
	return Pos{File: s.file, Line: i + 1, Col: off - s.lines[i] + 1}
}

// describe names what is found at off, for error messages.
func (s *source) describe(off int) string {
	if off >= len(s.text) {
		return "end of file"
	}
	switch c := s.text[off]; c {
	case '\n', '\r':
		return "end of line"
	case '\'':
		return `"'"`
	default:
		r, _ := utf8.DecodeRuneInString(s.text[off:])
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return fmt.Sprintf("%q", r)
		}
		return "'" + string(r) + "'"
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isBlank reports whether c separates tokens within a line.
func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// isEOL reports whether c ends a line. A lone '\r' counts, as it does
// for nats-server.
func isEOL(c byte) bool { return c == '\n' || c == '\r' }

// isNumberEnd reports whether c may directly follow a number.
func isNumberEnd(c byte) bool {
	return isEOL(c) || isBlank(c) || c == ';' || c == ',' || c == '}'
}

// isBareEnd reports whether c ends an unquoted string.
func isBareEnd(c byte) bool {
	return isEOL(c) || isBlank(c) || c == ';' || c == ',' || c == ']' || c == '}'
}

// isSizeSuffix reports whether c starts a size suffix such as k or MB.
func isSizeSuffix(c byte) bool {
	switch c | 0x20 { // lower case for letters
	case 'k', 'm', 'g', 't', 'p', 'e':
		return true
	}
	return false
}

// spaceAt reports whether the character at off is Unicode white space
// (new lines included), and its width.
func (s *source) spaceAt(off int) (bool, int) {
	if off >= len(s.text) {
		return false, 0
	}
	if c := s.text[off]; c < utf8.RuneSelf {
		return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f', 1
	}
	r, n := utf8.DecodeRuneInString(s.text[off:])
	return unicode.IsSpace(r), n
}

// scanError is an error at a byte offset of the current source; the
// parser turns it into an *Error with a full position.
type scanError struct {
	off int
	msg string
}

func (e *scanError) Error() string { return e.msg }

func errAt(off int, format string, args ...any) error {
	return &scanError{off: off, msg: fmt.Sprintf(format, args...)}
}

// scanSingleQuoted reads a single-quoted string starting at the quote.
// Its content is taken as written: no escapes, new lines allowed.
func (s *source) scanSingleQuoted(start int) (string, int, error) {
	end := strings.IndexByte(s.text[start+1:], '\'')
	if end < 0 {
		return "", 0, errAt(start, "unterminated string: expected a closing \"'\" before end of file")
	}
	end += start + 1
	return s.text[start+1 : end], end + 1, nil
}

// scanDoubleQuoted reads a double-quoted string starting at the quote,
// interpreting escapes. New lines are allowed inside.
func (s *source) scanDoubleQuoted(start int) (string, int, error) {
	var b strings.Builder
	seg := start + 1
	for i := start + 1; i < len(s.text); {
		switch s.text[i] {
		case '"':
			if seg == start+1 {
				return s.text[seg:i], i + 1, nil
			}
			b.WriteString(s.text[seg:i])
			return b.String(), i + 1, nil
		case '\\':
			b.WriteString(s.text[seg:i])
			n, err := s.scanEscape(i, &b)
			if err != nil {
				return "", 0, err
			}
			i = n
			seg = i
		default:
			i++
		}
	}
	return "", 0, errAt(start, `unterminated string: expected a closing '"' before end of file`)
}

// scanEscape decodes the escape sequence whose backslash is at off,
// writing the result to b, and returns the offset after the sequence.
func (s *source) scanEscape(off int, b *strings.Builder) (int, error) {
	if off+1 >= len(s.text) {
		return 0, errAt(off, `incomplete escape sequence: expected \t, \n, \r, \", \\ or \xHH after '\', found end of file`)
	}
	switch c := s.text[off+1]; c {
	case 't':
		b.WriteByte('\t')
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case '"':
		b.WriteByte('"')
	case '\\':
		b.WriteByte('\\')
	case 'x':
		if off+4 > len(s.text) || !isHex(s.text[off+2]) || !isHex(s.text[off+3]) {
			return 0, errAt(off, `invalid escape sequence: expected two hexadecimal digits after '\x'`)
		}
		v, _ := strconv.ParseUint(s.text[off+2:off+4], 16, 8)
		b.WriteByte(byte(v))
		return off + 4, nil
	default:
		return 0, errAt(off, `invalid escape sequence '\%s': expected \t, \n, \r, \", \\ or \xHH (use single quotes for text with backslashes)`,
			strings.Trim(s.describe(off+1), "'"))
	}
	return off + 2, nil
}

func isHex(c byte) bool {
	return isDigit(c) || ('a' <= c|0x20 && c|0x20 <= 'f')
}

// scanBare reads an unquoted string that starts at start; the bytes
// from start to from are taken literally and scanning resumes at from.
// The string ends at a blank, a new line, ';', ',', ']', '}' or the end
// of input. A single quote also ends it and is consumed, as nats-server
// does. Backslash escapes are interpreted; escaped reports whether any
// was present.
func (s *source) scanBare(start, from int) (str string, end int, escaped bool, err error) {
	var b strings.Builder
	seg := start
	i := from
	for i < len(s.text) {
		c := s.text[i]
		if isBareEnd(c) {
			break
		}
		if c == '\'' {
			b.WriteString(s.text[seg:i])
			return b.String(), i + 1, escaped, nil
		}
		if c != '\\' {
			i++
			continue
		}
		b.WriteString(s.text[seg:i])
		if i, err = s.scanEscape(i, &b); err != nil {
			return "", 0, false, err
		}
		seg = i
		escaped = true
	}
	if !escaped {
		return s.text[start:i], i, false, nil
	}
	b.WriteString(s.text[seg:i])
	return b.String(), i, true, nil
}

// scanBlock reads a block string starting at its '('. The block ends
// at a line that holds only ')'; its value is everything in between,
// taken as written, including the line break after '(' and the one
// before ')'.
func (s *source) scanBlock(start int) (string, int, error) {
	for i := start + 1; i < len(s.text); i++ {
		if s.text[i] != ')' || s.text[i-1] != '\n' {
			continue
		}
		rest := s.text[i+1:]
		if rest == "" || rest[0] == '\n' || strings.HasPrefix(rest, "\r\n") {
			return s.text[start+1 : i], i + 1, nil
		}
	}
	return "", 0, errAt(start, "unterminated block string: expected ')' alone on a line before end of file")
}

// scanNumber reads a value that starts with a digit, or with '-' when
// neg is set: an integer (with an optional size suffix), a float, a
// datetime, or an unquoted string that merely starts with a digit such
// as an address ("127.0.0.1:4222") or a duration ("10s"). inArray makes
// ']' end an integer, which nats-server does not allow but is the
// obvious meaning of "[1, 2]".
func (s *source) scanNumber(start int, neg, inArray bool) (any, int, error) {
	t := s.text
	i := start
	if neg {
		i++
		if i >= len(t) || !isDigit(t[i]) {
			if i < len(t) && t[i] == '.' {
				return nil, 0, errAt(start, "invalid number: expected a digit between '-' and '.'")
			}
			return nil, 0, errAt(i, "invalid number: expected a digit after '-', found %s", s.describe(i))
		}
	}
	for i < len(t) && isDigit(t[i]) {
		i++
	}
	if i >= len(t) {
		return s.integer(start, i, i)
	}
	switch c := t[i]; {
	case c == '-' && !neg:
		if i-start != 4 {
			return nil, 0, errAt(start, "invalid value %q: a value starting with digits and '-' must be a datetime YYYY-MM-DDTHH:MM:SSZ (quote it to make it a string)",
				s.token(start))
		}
		return s.scanDatetime(start)
	case c == '.':
		return s.scanFloat(start, i)
	case isSizeSuffix(c):
		j := i + 1
		for j < len(t) && strings.IndexByte("bBiI", t[j]) >= 0 {
			j++
		}
		if j < len(t) && !isNumberEnd(t[j]) {
			// Not a size after all ("10e3x", "1m30s"): a string.
			str, end, _, err := s.scanBare(start, j)
			return str, end, err
		}
		return s.integer(start, i, j)
	case neg || isNumberEnd(c) || (inArray && c == ']'):
		return s.integer(start, i, i)
	default:
		// A string that starts with digits, such as "10s". The first
		// character after the digits is kept as written.
		_, n := utf8.DecodeRuneInString(t[i:])
		str, end, _, err := s.scanBare(start, i+n)
		return str, end, err
	}
}

// token returns the text from off up to the next character that ends a
// bare value, for quoting in error messages.
func (s *source) token(off int) string {
	end := off
	for end < len(s.text) && !isBareEnd(s.text[end]) {
		end++
	}
	return s.text[off:end]
}

var sizeSuffixes = map[string]int64{
	"k": 1e3, "kb": 1 << 10, "ki": 1 << 10, "kib": 1 << 10,
	"m": 1e6, "mb": 1 << 20, "mi": 1 << 20, "mib": 1 << 20,
	"g": 1e9, "gb": 1 << 30, "gi": 1 << 30, "gib": 1 << 30,
	"t": 1e12, "tb": 1 << 40, "ti": 1 << 40, "tib": 1 << 40,
	"p": 1e15, "pb": 1 << 50, "pi": 1 << 50, "pib": 1 << 50,
	"e": 1e18, "eb": 1 << 60, "ei": 1 << 60, "eib": 1 << 60,
}

// integer converts the digits in [start, digitsEnd) and the size suffix
// in [digitsEnd, end) into an int64.
func (s *source) integer(start, digitsEnd, end int) (any, int, error) {
	text := s.text[start:end]
	n, err := strconv.ParseInt(s.text[start:digitsEnd], 10, 64)
	if err != nil {
		return nil, 0, errAt(start, "integer %q is out of range: it must fit in 64 bits", text)
	}
	if digitsEnd == end {
		return n, end, nil
	}
	suffix := strings.ToLower(s.text[digitsEnd:end])
	mult, ok := sizeSuffixes[suffix]
	if !ok {
		return nil, 0, errAt(digitsEnd, "invalid size suffix %q in %q: expected k, kb, ki or kib (or the same with m, g, t, p or e)",
			s.text[digitsEnd:end], text)
	}
	if n > math.MaxInt64/mult || n < math.MinInt64/mult {
		return nil, 0, errAt(start, "integer %q is out of range: it must fit in 64 bits", text)
	}
	return n * mult, end, nil
}

// scanFloat reads a float whose '.' is at dot. A second '.' makes it an
// address such as "10.0.0.1:4222", which is a string.
func (s *source) scanFloat(start, dot int) (any, int, error) {
	t := s.text
	i := dot + 1
	if i >= len(t) || !isDigit(t[i]) {
		return nil, 0, errAt(i, "invalid number %q: expected a digit after '.', found %s", t[start:i], s.describe(i))
	}
	for i < len(t) && isDigit(t[i]) {
		i++
	}
	if i < len(t) && t[i] == '.' {
		for i < len(t) && (isDigit(t[i]) || t[i] == '.' || t[i] == ':' || t[i] == '-') {
			i++
		}
		return t[start:i], i, nil
	}
	f, err := strconv.ParseFloat(t[start:i], 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return nil, 0, errAt(start, "float %q is out of range", t[start:i])
		}
		return nil, 0, errAt(start, "invalid float %q", t[start:i])
	}
	return f, i, nil
}

// scanDatetime reads an ISO 8601 datetime in Zulu form,
// YYYY-MM-DDTHH:MM:SSZ, the only form nats-server reads.
func (s *source) scanDatetime(start int) (any, int, error) {
	const layout = "0000-00-00T00:00:00Z"
	t := s.text
	for k := 5; k < len(layout); k++ {
		i := start + k
		want := layout[k]
		switch {
		case i >= len(t):
			return nil, 0, errAt(i, "invalid datetime: expected %s, found end of file (the form is YYYY-MM-DDTHH:MM:SSZ)", describeWant(want))
		case want == '0' && !isDigit(t[i]), want != '0' && t[i] != want:
			return nil, 0, errAt(i, "invalid datetime: expected %s, found %s (the form is YYYY-MM-DDTHH:MM:SSZ)", describeWant(want), s.describe(i))
		}
	}
	end := start + len(layout)
	v, err := time.Parse("2006-01-02T15:04:05Z", t[start:end])
	if err != nil {
		return nil, 0, errAt(start, "invalid datetime %q: %v", t[start:end], err)
	}
	return v, end, nil
}

func describeWant(c byte) string {
	if c == '0' {
		return "a digit"
	}
	return "'" + string(c) + "'"
}

// isBool reports whether an unquoted word is one of the boolean
// spellings nats-server accepts (in any letter case) and its value.
func isBool(s string) (value, ok bool) {
	switch strings.ToLower(s) {
	case "true", "yes", "on":
		return true, true
	case "false", "no", "off":
		return false, true
	}
	return false, false
}

// isBcrypt reports whether the name of a would-be variable is really
// the rest of a bcrypt hash such as "$2a$11$...". nats-server only
// knows "2a"; the other bcrypt versions cannot be variable names either.
func isBcrypt(name string) bool {
	return len(name) >= 3 && name[0] == '2' && name[2] == '$' &&
		strings.IndexByte("abxy", name[1]) >= 0
}
