package msgutil

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
	"text/template"
	"time"
)

// TemplateHelp documents the template functions for command help.
const TemplateHelp = `Bodies, subjects and header values may use Go templates:

  {{Count}}             the message number, from 1 (also {{Cnt}})
  {{Time}}              the time as 3:04PM
  {{TimeStamp}}         the time in RFC 3339 form
  {{Unix}}, {{UnixNano}} seconds or nanoseconds since 1970
  {{ID}}                a unique id
  {{Random 10 100}}     random letters and digits, 10 to 100 long`

// Template renders a body, subject or header value for message n. Text
// without "{{" is used as is.
type Template struct {
	text string
	t    *template.Template
}

// Compile parses text. With enabled false the text is taken literally.
func Compile(text string, enabled bool) (*Template, error) {
	tp := &Template{text: text}
	if !enabled || !strings.Contains(text, "{{") {
		return tp, nil
	}
	// The functions are placeholders for parsing; Execute binds real ones.
	t, err := template.New("").Funcs(funcs(0, nil, time.Time{})).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("bad template %q: %w", text, err)
	}
	tp.t = t
	return tp, nil
}

// IsLiteral reports whether the template has no actions.
func (tp *Template) IsLiteral() bool { return tp.t == nil }

// Execute renders the template for message number n. request is the
// body of the request being answered, for {{Request}} in reply bodies.
func (tp *Template) Execute(n int, request []byte) ([]byte, error) {
	if tp.t == nil {
		return []byte(tp.text), nil
	}
	now := time.Now()
	t, err := tp.t.Clone()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Funcs(funcs(n, request, now)).Execute(&b, nil); err != nil {
		return nil, fmt.Errorf("template %q: %w", tp.text, err)
	}
	return b.Bytes(), nil
}

func funcs(n int, request []byte, now time.Time) template.FuncMap {
	return template.FuncMap{
		"Count":     func() int { return n },
		"Cnt":       func() int { return n },
		"Time":      func() string { return now.Format(time.Kitchen) },
		"TimeStamp": func() string { return now.Format(time.RFC3339) },
		"Unix":      func() int64 { return now.Unix() },
		"UnixNano":  func() int64 { return now.UnixNano() },
		"ID":        NewID,
		"Random":    RandomString,
		"Request":   func() string { return string(request) },
	}
}

const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// RandomString returns random letters and digits, between shortest and
// longest long.
func RandomString(shortest, longest int) string {
	if shortest > longest {
		shortest, longest = longest, shortest
	}
	shortest = max(shortest, 0)
	n := shortest
	if longest > shortest {
		n += randInt(longest - shortest + 1)
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[randInt(len(alphabet))]
	}
	return string(b)
}

// NewID returns a random 22-character identifier.
func NewID() string {
	b := make([]byte, 22)
	for i := range b {
		b[i] = alphabet[randInt(len(alphabet))]
	}
	return string(b)
}

func randInt(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return 0
	}
	return int(v.Int64())
}
