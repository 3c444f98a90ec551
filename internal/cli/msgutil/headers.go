package msgutil

import (
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"
)

// Headers are -H Key:Value flags, with templated values.
type Headers struct {
	keys   []string
	values []*Template
}

// ParseHeaders reads Key:Value strings. Values may be templates when
// templates is true.
func ParseHeaders(hdrs []string, templates bool) (*Headers, error) {
	h := &Headers{}
	for _, s := range hdrs {
		k, v, ok := strings.Cut(s, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("invalid header %q: write it as Key:Value", s)
		}
		if strings.ContainsAny(k, " \t\r\n") {
			return nil, fmt.Errorf("invalid header name %q: it may not contain spaces", k)
		}
		t, err := Compile(strings.TrimSpace(v), templates)
		if err != nil {
			return nil, fmt.Errorf("header %s: %w", k, err)
		}
		h.keys = append(h.keys, k)
		h.values = append(h.values, t)
	}
	return h, nil
}

// Len is the number of headers.
func (h *Headers) Len() int { return len(h.keys) }

// Build renders the headers for message n, nil when there are none.
func (h *Headers) Build(n int) (nats.Header, error) {
	if len(h.keys) == 0 {
		return nil, nil
	}
	out := nats.Header{}
	for i, k := range h.keys {
		v, err := h.values[i].Execute(n, nil)
		if err != nil {
			return nil, err
		}
		out.Add(k, string(v))
	}
	return out, nil
}
