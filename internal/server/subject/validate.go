package subject

import "strings"

// Wildcard tokens. They are wildcards only when they make up a whole token.
const (
	pwc = "*" // matches exactly one token
	fwc = ">" // matches one or more tokens; only valid as the last token
)

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'
}

// scan checks subject syntax in one pass: ok reports a valid subscription
// subject, wild whether it holds a wildcard token.
func scan(s string) (ok, wild bool) {
	if s == "" {
		return false, false
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) {
			c := s[i]
			if c > '.' {
				continue // fast path: letters and digits sort above '.' and all whitespace
			}
			if isSpace(c) {
				return false, false
			}
			if c != '.' {
				continue
			}
		}
		// s[start:i] is a whole token.
		switch i - start {
		case 0:
			return false, false
		case 1:
			switch s[start] {
			case '*':
				wild = true
			case '>':
				if i != len(s) {
					return false, false // '>' must be last
				}
				wild = true
			}
		}
		start = i + 1
	}
	return true, wild
}

// ValidSubject reports whether s is a valid subscription subject: non-empty
// tokens separated by '.', no whitespace, '*' and '>' as whole tokens only
// count as wildcards, and '>' only as the last token.
func ValidSubject(s string) bool {
	ok, _ := scan(s)
	return ok
}

// ValidLiteral reports whether s is a valid subject without wildcard tokens,
// as a pedantic server requires for publishing.
func ValidLiteral(s string) bool {
	ok, wild := scan(s)
	return ok && !wild
}

// ValidQueue reports whether s is a usable queue group name: non-empty and
// free of whitespace. Dots are allowed.
func ValidQueue(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if isSpace(s[i]) {
			return false
		}
	}
	return true
}

// IsLiteral reports whether s has no wildcard tokens. It does not validate s.
func IsLiteral(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c == '*' || c == '>') &&
			(i == 0 || s[i-1] == '.') && (i+1 == len(s) || s[i+1] == '.') {
			return false
		}
	}
	return true
}

// wellFormed reports whether a published subject can match anything: it must
// be non-empty with no empty tokens. Whitespace is not checked; the protocol
// parser never produces it.
func wellFormed(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	return !strings.Contains(s, "..")
}

// Matches reports whether the published subject literal is matched by the
// subscription subject pattern. Wildcard tokens in literal are treated as
// plain tokens, as the sublist does. Malformed input never matches.
func Matches(literal, pattern string) bool {
	return wellFormed(literal) && pattern != "" && matchWF(literal, pattern)
}

// matchWF is Matches for a well-formed literal and a non-empty pattern. It
// scans bytes instead of cutting tokens: it runs once per cached subject
// whenever a wildcard subscription comes or goes.
func matchWF(literal, pattern string) bool {
	i, j := 0, 0 // token starts in literal and pattern
	for {
		pe := j
		for pe < len(pattern) && pattern[pe] != '.' {
			pe++
		}
		switch {
		case pe-j == 1 && pattern[j] == '>':
			return pe == len(pattern) // literal has at least this token left
		case pe-j == 1 && pattern[j] == '*':
			for i < len(literal) && literal[i] != '.' {
				i++
			}
		default:
			for ; j < pe; i, j = i+1, j+1 {
				if i == len(literal) || literal[i] != pattern[j] {
					return false
				}
			}
			if i < len(literal) && literal[i] != '.' {
				return false // literal token is longer
			}
		}
		lend, pend := i == len(literal), pe == len(pattern)
		if lend || pend {
			return lend && pend
		}
		i, j = i+1, pe+1
	}
}

// SubsetOf reports whether every subject matched by filter sub is also
// matched by filter super. Both must be valid subjects.
func SubsetOf(sub, super string) bool {
	if !ValidSubject(sub) || !ValidSubject(super) {
		return false
	}
	for {
		a, arest, amore := strings.Cut(sub, ".")
		b, brest, bmore := strings.Cut(super, ".")
		switch {
		case b == fwc:
			return true
		case a == fwc:
			return false // sub reaches arbitrarily deep; super does not
		case b == pwc:
		case a != b:
			return false
		}
		if !amore || !bmore {
			return amore == bmore
		}
		sub, super = arest, brest
	}
}

// Collide reports whether filters a and b can both match some subject.
// Both must be valid subjects.
func Collide(a, b string) bool {
	if !ValidSubject(a) || !ValidSubject(b) {
		return false
	}
	for {
		x, xrest, xmore := strings.Cut(a, ".")
		y, yrest, ymore := strings.Cut(b, ".")
		switch {
		case x == fwc || y == fwc:
			return true // the other side has at least this token left
		case x == pwc || y == pwc || x == y:
		default:
			return false
		}
		if !xmore || !ymore {
			return xmore == ymore
		}
		a, b = xrest, yrest
	}
}

// NumTokens returns the number of '.'-separated tokens in s.
func NumTokens(s string) int {
	if s == "" {
		return 0
	}
	return strings.Count(s, ".") + 1
}
