package msgutil

import (
	"fmt"
	"strings"
)

// ValidateSubject checks a subject for publishing (wildcards false) or
// subscribing (wildcards true), with messages that say what is wrong.
func ValidateSubject(s string, wildcards bool) error {
	if s == "" {
		return fmt.Errorf("the subject is empty")
	}
	if strings.ContainsAny(s, " \t\r\n") {
		return fmt.Errorf("invalid subject %q: subjects may not contain whitespace", s)
	}
	tokens := strings.Split(s, ".")
	for i, t := range tokens {
		switch {
		case t == "":
			return fmt.Errorf("invalid subject %q: it has an empty token (leading, trailing or double dot)", s)
		case t == "*" || t == ">":
			if !wildcards {
				return fmt.Errorf("cannot publish to %q: it holds the wildcard %q; publish to a concrete subject", s, t)
			}
			if t == ">" && i != len(tokens)-1 {
				return fmt.Errorf("invalid subject %q: '>' may only be the last token", s)
			}
		}
	}
	return nil
}

// SubjectMatches reports whether subject matches pattern, which may hold
// the wildcards * (one token) and > (one or more trailing tokens).
func SubjectMatches(pattern, subject string) bool {
	pt := strings.Split(pattern, ".")
	st := strings.Split(subject, ".")
	for i, p := range pt {
		if p == ">" {
			return len(st) > i
		}
		if i >= len(st) || (p != "*" && p != st[i]) {
			return false
		}
	}
	return len(pt) == len(st)
}
