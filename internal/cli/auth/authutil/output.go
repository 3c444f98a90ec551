package authutil

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// Payload decodes a JWT's claims as generic JSON, without checking it.
func Payload(token string) (map[string]any, error) {
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a JWT: want 3 dot-separated parts, got %d", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("not a JWT: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("not a JWT: %w", err)
	}
	return m, nil
}

// Field follows a dotted path ("nats.limits.conn", "nats.pub.allow.0")
// in decoded claims.
func Field(v any, path string) (any, error) {
	path = strings.TrimPrefix(path, ".")
	if path == "" {
		return v, nil
	}
	for _, key := range strings.Split(path, ".") {
		switch c := v.(type) {
		case map[string]any:
			next, ok := c[key]
			if !ok {
				return nil, cmdutil.FlagErrorf("--field %q: no %q in the claims", path, key)
			}
			v = next
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(c) {
				return nil, cmdutil.FlagErrorf("--field %q: no index %q in a list of %d", path, key, len(c))
			}
			v = c[i]
		default:
			return nil, cmdutil.FlagErrorf("--field %q: %q is not an object or list", path, key)
		}
	}
	return v, nil
}

// DescribeFlags are --json, --raw and --field.
type DescribeFlags struct {
	JSON  bool
	Raw   bool
	Field string
}

// Write prints the token as the flags ask and reports whether it did;
// false means the caller prints its table.
func (d *DescribeFlags) Write(w io.Writer, token string) (bool, error) {
	switch {
	case d.Raw:
		fmt.Fprintln(w, token)
		return true, nil
	case d.Field != "":
		m, err := Payload(token)
		if err != nil {
			return true, err
		}
		v, err := Field(m, d.Field)
		if err != nil {
			return true, err
		}
		return true, cmdutil.WriteJSON(w, v)
	case d.JSON:
		m, err := Payload(token)
		if err != nil {
			return true, err
		}
		return true, cmdutil.WriteJSON(w, m)
	}
	return false, nil
}
