package subject

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A Transform rewrites published subjects that match a source pattern into
// a destination built from literal tokens, wildcard references ($1,
// {{wildcard(1)}}) and functions (partition, split, slice, left, right,
// random). It is immutable and safe for concurrent use.
//
// Its rules follow nats-server's subject transforms, so the same mapping
// sends a message to the same subject (and partition) on either server.
type Transform struct {
	src, dest string
	pat       pattern
	parts     []part
	literal   []byte // the whole output when dest uses no source token
}

// Errors returned for bad transforms. The texts are nats-server's, so
// configuration errors read the same on both servers.
var (
	// ErrBadSubject: the source is not a valid subject, or the destination
	// has a '*' token or disagrees with the source about '>'.
	ErrBadSubject = errors.New("invalid subject")
	// ErrMissingDestination: a mapping destination is empty.
	ErrMissingDestination = errors.New("missing mapping destination")

	// ErrInvalidMapping is wrapped by every destination error below.
	ErrInvalidMapping          = errors.New("invalid mapping destination")
	ErrMappingInvalidTransform = fmt.Errorf("%w: invalid transform", ErrInvalidMapping)
	ErrMappingUnknownFunction  = fmt.Errorf("%w: unknown function", ErrInvalidMapping)
	ErrMappingIndexOutOfRange  = fmt.Errorf("%w: wildcard index out of range", ErrInvalidMapping)
	ErrMappingNotEnoughArgs    = fmt.Errorf("%w: not enough arguments passed to the function", ErrInvalidMapping)
	ErrMappingInvalidArg       = fmt.Errorf("%w: function argument is invalid or in the wrong format", ErrInvalidMapping)
	ErrMappingTooManyArgs      = fmt.Errorf("%w: too many arguments passed to the function", ErrInvalidMapping)
)

// MappingError names the destination token a transform error is about.
type MappingError struct {
	Token string
	Err   error
}

func (e *MappingError) Error() string {
	if e.Token == "" {
		return e.Err.Error()
	}
	return e.Err.Error() + " in " + e.Token
}

func (e *MappingError) Unwrap() error { return e.Err }

func tokenErr(tok string, err error) error { return &MappingError{Token: tok, Err: err} }

type fnKind uint8

const (
	fnLiteral fnKind = iota // a destination token copied as written
	fnWildcard
	fnPartition
	fnSplitFromLeft
	fnSplitFromRight
	fnSliceFromLeft
	fnSliceFromRight
	fnSplit
	fnLeft
	fnRight
	fnRandom
	fnTail // '>': the rest of the subject from the source's '>' on
)

// part is one destination token.
type part struct {
	kind fnKind
	text string // the literal token
	sep  []byte // split's delimiter
	toks []int  // source token positions the function reads
	n    int32  // partitions, split position, slice size or random ceiling
}

// NewTransform checks src and dest and compiles them. An empty src means
// ">". Wildcard indexes in dest count the source's '*' tokens from 1; as
// in nats-server, an index below 1 refers to the subject's first token.
func NewTransform(src, dest string) (*Transform, error) {
	if dest == "" {
		return nil, ErrMissingDestination
	}
	if src == "" {
		src = fwc
	}
	if !ValidSubject(src) {
		return nil, ErrBadSubject
	}
	dtoks := strings.Split(dest, ".")
	if err := checkDestTokens(dtoks); err != nil {
		return nil, err
	}
	t := &Transform{src: src, dest: dest, pat: newPattern(src)}
	if t.pat.fwc != (dtoks[len(dtoks)-1] == fwc) {
		return nil, ErrBadSubject
	}
	// wcTok[k-1] is the source token position of the k-th '*'.
	var wcTok []int
	for i, tok := range t.pat.toks {
		if tok == pwc {
			wcTok = append(wcTok, i)
		}
	}
	wild := t.pat.wild
	uses := false
	t.parts = make([]part, 0, len(dtoks))
	for _, tok := range dtoks {
		if tok == pwc {
			return nil, ErrBadSubject
		}
		p, idx, err := parsePart(tok)
		if err != nil {
			return nil, err
		}
		switch {
		case p.kind == fnLiteral || p.kind == fnRandom || p.kind == fnTail:
		case !wild && p.kind == fnPartition:
			// With a literal source a partition hashes the whole subject;
			// token arguments are ignored, as nats-server does.
			uses = true
		case !wild:
			return nil, tokenErr(tok, ErrMappingIndexOutOfRange)
		default:
			uses = true
			p.toks = make([]int, len(idx))
			for i, k := range idx {
				if k > len(wcTok) {
					return nil, tokenErr(fmt.Sprintf("%s: [%d]", tok, k), ErrMappingIndexOutOfRange)
				}
				if k >= 1 {
					p.toks[i] = wcTok[k-1]
				}
			}
		}
		if p.kind == fnRandom || p.kind == fnTail {
			uses = true
		}
		t.parts = append(t.parts, p)
	}
	if !uses {
		t.literal = []byte(dest)
	}
	return t, nil
}

// checkDestTokens rejects empty tokens, tokens after '>', whitespace in
// plain tokens and {{...}} tokens that do not call a known function.
func checkDestTokens(dtoks []string) error {
	for i, tok := range dtoks {
		if tok == "" || (i > 0 && dtoks[i-1] == fwc) {
			return tokenErr(tok, ErrMappingInvalidTransform)
		}
		if isMustache(tok) {
			if _, _, ok := splitCall(tok); !ok {
				return tokenErr(tok, ErrMappingUnknownFunction)
			}
			continue
		}
		if strings.ContainsAny(tok, " \t\r\n\f") {
			return ErrMappingInvalidTransform
		}
	}
	return nil
}

// Source is the pattern the transform applies to.
func (t *Transform) Source() string { return t.src }

// Destination is the destination template as written.
func (t *Transform) Destination() string { return t.dest }

// Apply maps subject. ok is false when subject does not match the source.
func (t *Transform) Apply(subject string) (mapped string, ok bool) {
	out, ok := t.Append(nil, []byte(subject))
	return string(out), ok
}

// Append appends the mapping of subj to dst. ok is false, and dst is
// returned unchanged, when subj does not match the source. It does not
// allocate beyond growing dst for sources of up to 32 tokens.
func (t *Transform) Append(dst, subj []byte) (out []byte, ok bool) {
	var arr [spanStack]span
	sp := arr[:]
	if n := len(t.pat.toks); n > spanStack {
		sp = make([]span, n)
	}
	if !t.pat.match(subj, sp) {
		return dst, false
	}
	return t.build(dst, subj, sp), true
}

// build writes the destination for subj, whose source tokens are at sp.
func (t *Transform) build(dst, subj []byte, sp []span) []byte {
	if t.literal != nil {
		return append(dst, t.literal...)
	}
	for i := range t.parts {
		p := &t.parts[i]
		if i > 0 {
			dst = append(dst, '.')
		}
		var tok []byte
		if len(p.toks) > 0 {
			tok = sp[p.toks[0]].of(subj)
		}
		switch p.kind {
		case fnLiteral:
			dst = append(dst, p.text...)
		case fnTail:
			dst = append(dst, subj[sp[len(t.pat.toks)-1].start:]...)
		case fnWildcard:
			dst = append(dst, tok...)
		case fnPartition:
			dst = appendPartition(dst, subj, sp, p)
		case fnRandom:
			dst = appendRandom(dst, p.n)
		case fnSplitFromLeft, fnSplitFromRight:
			at := int(p.n)
			if at <= 0 || at >= len(tok) {
				dst = append(dst, tok...)
				break
			}
			if p.kind == fnSplitFromRight {
				at = len(tok) - at
			}
			dst = append(append(append(dst, tok[:at]...), '.'), tok[at:]...)
		case fnSliceFromLeft, fnSliceFromRight:
			dst = appendSlices(dst, tok, int(p.n), p.kind == fnSliceFromRight)
		case fnLeft:
			if n := int(p.n); n > 0 && n < len(tok) {
				tok = tok[:n]
			}
			dst = append(dst, tok...)
		case fnRight:
			if n := int(p.n); n > 0 && n < len(tok) {
				tok = tok[len(tok)-n:]
			}
			dst = append(dst, tok...)
		case fnSplit:
			dst = appendSplit(dst, tok, p.sep)
		}
	}
	return dst
}

// appendPartition writes the bucket, in [0, n), of the FNV-1a 32-bit hash
// of the selected tokens concatenated without separators, or of the whole
// subject when the partition names no token. nats-server computes the
// same, so a partition number means the same on both servers.
func appendPartition(dst, subj []byte, sp []span, p *part) []byte {
	if p.n == 0 {
		return append(dst, '0')
	}
	h := uint32(fnvOffset32)
	if len(p.toks) == 0 {
		h = fnv1a(h, subj)
	} else {
		for _, ti := range p.toks {
			h = fnv1a(h, sp[ti].of(subj))
		}
	}
	return strconv.AppendUint(dst, uint64(h%uint32(p.n)), 10)
}

const (
	fnvOffset32 = 2166136261
	fnvPrime32  = 16777619
)

func fnv1a(h uint32, b []byte) uint32 {
	for _, c := range b {
		h ^= uint32(c)
		h *= fnvPrime32
	}
	return h
}

func appendRandom(dst []byte, n int32) []byte {
	if n == 0 {
		return append(dst, '0')
	}
	return strconv.AppendInt(dst, int64(rand.Int32()%n), 10)
}

// appendSlices cuts tok into pieces of size bytes joined by '.'; the short
// piece, if any, comes last (from left) or first (from right).
func appendSlices(dst, tok []byte, size int, fromRight bool) []byte {
	if size <= 0 || size >= len(tok) {
		return append(dst, tok...)
	}
	first := size
	if r := len(tok) % size; fromRight && r > 0 {
		first = r
	}
	dst = append(dst, tok[:first]...)
	for i := first; i < len(tok); i += size {
		dst = append(append(dst, '.'), tok[i:min(i+size, len(tok))]...)
	}
	return dst
}

// appendSplit splits tok at every sep (an empty sep splits it into UTF-8
// characters, as strings.Split does) and joins the non-empty pieces with
// '.'. Like nats-server, a leading empty piece only drops the separator
// before the second piece, so "--a" split on "-" gives ".a".
func appendSplit(dst, tok, sep []byte) []byte {
	firstEmpty := false
	for k := 0; ; k++ {
		var piece []byte
		last := false
		if len(sep) == 0 {
			if len(tok) == 0 {
				return dst
			}
			_, n := utf8.DecodeRune(tok)
			piece, tok = tok[:n], tok[n:]
			last = len(tok) == 0
		} else if i := bytes.Index(tok, sep); i >= 0 {
			piece, tok = tok[:i], tok[i+len(sep):]
		} else {
			piece, last = tok, true
		}
		if k == 0 {
			firstEmpty = len(piece) == 0
		}
		if len(piece) > 0 {
			if k > 0 && !(k == 1 && firstEmpty) {
				dst = append(dst, '.')
			}
			dst = append(dst, piece...)
		}
		if last {
			return dst
		}
	}
}
