package subject

import (
	"bytes"
	"math"
	"strconv"
	"strings"
)

// span locates one token in a subject.
type span struct{ start, end int }

func (s span) of(b []byte) []byte { return b[s.start:s.end] }

// spanStack is how many source tokens a match tracks without allocating.
const spanStack = 32

// pattern is a mapping source: a subject that may hold wildcards.
type pattern struct {
	src  string
	toks []string
	wild bool // holds '*' or '>'
	fwc  bool // ends in '>'
}

func newPattern(src string) pattern {
	p := pattern{src: src, toks: strings.Split(src, ".")}
	for _, t := range p.toks {
		switch t {
		case pwc:
			p.wild = true
		case fwc:
			p.wild, p.fwc = true, true
		}
	}
	return p
}

// match reports whether the published subject subj matches the pattern and
// records where each of the pattern's tokens lies in subj (sp needs one
// slot per pattern token; a literal pattern records nothing).
//
// Like nats-server's subset match: a '*' or '>' token published by a
// non-pedantic client is matched only by the same wildcard in the pattern,
// and an empty token never matches unless a '>' has already been reached.
func (p *pattern) match(subj []byte, sp []span) bool {
	if !p.wild {
		return string(subj) == p.src
	}
	pos := 0
	for i, pt := range p.toks {
		if pos > len(subj) {
			return false // the subject has fewer tokens
		}
		if pt == fwc {
			sp[i] = span{pos, len(subj)}
			return true
		}
		end := len(subj)
		if j := bytes.IndexByte(subj[pos:], '.'); j >= 0 {
			end = pos + j
		}
		tok := subj[pos:end]
		switch {
		case len(tok) == 0:
			return false
		case len(tok) == 1 && (tok[0] == '*' || tok[0] == '>'):
			if pt != string(tok) || tok[0] == '>' {
				return false
			}
		case pt != pwc && pt != string(tok):
			return false
		}
		sp[i] = span{pos, end}
		pos = end + 1
	}
	return pos == len(subj)+1
}

// isMustache reports whether a destination token looks like a function
// call: "{{...}}" with something inside.
func isMustache(tok string) bool {
	return len(tok) > 4 && strings.HasPrefix(tok, "{{") && strings.HasSuffix(tok, "}}")
}

// Function names. A letter that starts a word (the first, and each capital
// here) may be written in either case, the rest in lower case only:
// "splitFromLeft", "SplitFromLeft" and "splitfromleft" all work,
// "SPLITFROMLEFT" does not. This is nats-server's rule.
var fnNames = []struct {
	name string
	kind fnKind
}{
	{"wildcard", fnWildcard},
	{"partition", fnPartition},
	{"splitFromLeft", fnSplitFromLeft},
	{"splitFromRight", fnSplitFromRight},
	{"sliceFromLeft", fnSliceFromLeft},
	{"sliceFromRight", fnSliceFromRight},
	{"split", fnSplit},
	{"left", fnLeft},
	{"right", fnRight},
	{"random", fnRandom},
}

func lookupFn(name string) (fnKind, bool) {
	for _, f := range fnNames {
		if nameMatches(name, f.name) {
			return f.kind, true
		}
	}
	return 0, false
}

func nameMatches(name, canon string) bool {
	if len(name) != len(canon) {
		return false
	}
	for i := 0; i < len(name); i++ {
		c, w := name[i], canon[i]
		if i == 0 || (w >= 'A' && w <= 'Z') {
			c, w = c|0x20, w|0x20 // fold ASCII letters
		}
		if c != w {
			return false
		}
	}
	return true
}

const blanks = " \t\r\n\f"

// splitCall parses "{{ name(args) }}". Unlike nats-server's unanchored
// regular expressions, the call must fill the braces; tokens that only
// contain a call somewhere inside are unknown functions here.
func splitCall(tok string) (kind fnKind, args string, ok bool) {
	in := strings.TrimLeft(tok[2:len(tok)-2], blanks)
	n := 0
	for n < len(in) && (in[n]|0x20 >= 'a' && in[n]|0x20 <= 'z') {
		n++
	}
	if kind, ok = lookupFn(in[:n]); !ok {
		return 0, "", false
	}
	rest := strings.TrimLeft(in[n:], blanks)
	if !strings.HasPrefix(rest, "(") {
		return 0, "", false
	}
	rest = rest[1:]
	j := strings.LastIndexByte(rest, ')')
	if j < 0 || strings.Trim(rest[j+1:], blanks) != "" || strings.IndexByte(rest[:j], '\n') >= 0 {
		return 0, "", false
	}
	return kind, rest[:j], true
}

// splitArgs splits at commas, dropping blanks after each comma.
func splitArgs(s string) []string {
	args := strings.Split(s, ",")
	for i := 1; i < len(args); i++ {
		args[i] = strings.TrimLeft(args[i], blanks)
	}
	return args
}

func atoiArg(s string) (int, bool) {
	n, err := strconv.Atoi(strings.Trim(s, " "))
	return n, err == nil
}

// parsePart reads one destination token. idx holds the wildcard numbers
// (1-based) it refers to; NewTransform resolves them against the source.
func parsePart(tok string) (p part, idx []int, err error) {
	switch {
	case tok == fwc:
		return part{kind: fnTail}, nil, nil
	case len(tok) > 1 && tok[0] == '$':
		// "$foo" is a plain token; other things use leading '$'.
		if k, err := strconv.Atoi(tok[1:]); err == nil {
			return part{kind: fnWildcard}, []int{k}, nil
		}
		return part{kind: fnLiteral, text: tok}, nil, nil
	case !isMustache(tok):
		return part{kind: fnLiteral, text: tok}, nil, nil
	}
	kind, raw, ok := splitCall(tok)
	if !ok {
		return p, nil, tokenErr(tok, ErrMappingUnknownFunction)
	}
	args := splitArgs(raw)
	bad := func(e error) (part, []int, error) { return part{}, nil, tokenErr(tok, e) }
	p.kind = kind
	switch kind {
	case fnWildcard:
		switch {
		case len(args) > 1:
			return bad(ErrMappingTooManyArgs)
		case args[0] == "":
			return bad(ErrMappingNotEnoughArgs)
		}
		k, ok := atoiArg(args[0])
		if !ok {
			return bad(ErrMappingInvalidArg)
		}
		return p, []int{k}, nil
	case fnPartition, fnRandom:
		if kind == fnRandom && len(args) != 1 {
			return bad(ErrMappingNotEnoughArgs)
		}
		n, ok := atoiArg(args[0])
		if !ok || n > math.MaxInt32 {
			return bad(ErrMappingInvalidArg)
		}
		p.n = int32(n) // below MinInt32 wraps, as in nats-server
		for _, a := range args[1:] {
			k, ok := atoiArg(a)
			if !ok {
				return bad(ErrMappingInvalidArg)
			}
			idx = append(idx, k)
		}
		return p, idx, nil
	}
	// The rest take a wildcard number and one more argument.
	switch {
	case len(args) < 2:
		return bad(ErrMappingNotEnoughArgs)
	case len(args) > 2:
		return bad(ErrMappingTooManyArgs)
	}
	k, ok := atoiArg(args[0])
	if !ok {
		return bad(ErrMappingInvalidArg)
	}
	if kind == fnSplit {
		if strings.ContainsAny(args[1], " .") {
			return bad(ErrMappingInvalidArg)
		}
		p.sep = []byte(args[1])
		return p, []int{k}, nil
	}
	n, err := strconv.ParseInt(strings.Trim(args[1], " "), 10, 32)
	if err != nil {
		return bad(ErrMappingInvalidArg)
	}
	p.n = int32(n)
	return p, []int{k}, nil
}
