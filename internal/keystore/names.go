package keystore

import (
	"fmt"
	"strings"
	"unicode"
)

// ValidateName checks an operator, account or user name: it becomes a
// file or directory name in the store, so it must not be empty, a path,
// "." or "..", start with a dot, or hold control characters.
func ValidateName(kind, name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return fmt.Errorf("%s name is empty", kind)
	case name != strings.TrimSpace(name):
		return fmt.Errorf("invalid %s name %q: leading or trailing spaces", kind, name)
	case name == "." || name == "..", strings.HasPrefix(name, "."):
		return fmt.Errorf("invalid %s name %q: must not start with a dot", kind, name)
	case strings.ContainsAny(name, `/\`):
		return fmt.Errorf("invalid %s name %q: must not contain / or \\", kind, name)
	case len(name) > 200:
		return fmt.Errorf("invalid %s name %q: longer than 200 bytes", kind, name)
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return fmt.Errorf("invalid %s name %q: control or invalid characters", kind, name)
		}
	}
	return nil
}
