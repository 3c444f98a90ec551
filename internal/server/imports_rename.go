package server

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/internal/server/subject"
)

// Imports that rename subjects (a stream import's 'to' or 'prefix', a
// service import's 'to') follow nats-server's rules: a wildcard source is
// renamed through a strict subject transform, where each '*' of the
// destination stands for the next wildcard of the source, $N and
// {{wildcard(N)}} name one, '>' goes to '>', and every '*' of the source
// must be used. A service import is checked in the exporter's direction
// (its subject onto 'to') and run the other way, as the reference does.

var errImportFunction = errors.New("invalid mapping destination: only wildcard references are supported for imports")

var wildcardFn = regexp.MustCompile(`^\{\{\s*[wW]ildcard\s*\((.*)\)\s*\}\}$`)

// strictImportTransform compiles src onto dest, refusing functions other
// than wildcard references and sources whose wildcards are not all used.
func strictImportTransform(src, dest string) (*subject.Transform, error) {
	refs := 0
	for _, tok := range strings.Split(dest, ".") {
		switch {
		case isDollarRef(tok):
			refs++
		case wildcardFn.MatchString(tok):
			refs += len(strings.Split(wildcardFn.FindStringSubmatch(tok)[1], ","))
		case strings.HasPrefix(tok, "{{"):
			return nil, fmt.Errorf("%w in %s", errImportFunction, tok)
		}
	}
	tr, err := subject.NewTransform(src, dest)
	if err != nil {
		return nil, err
	}
	pwcs := 0
	for _, tok := range strings.Split(src, ".") {
		if tok == "*" {
			pwcs++
		}
	}
	if refs < pwcs {
		return nil, fmt.Errorf("invalid mapping destination: not using all of the token wildcard(s) in %s", dest)
	}
	return tr, nil
}

func isDollarRef(tok string) bool {
	if len(tok) < 2 || tok[0] != '$' {
		return false
	}
	_, err := strconv.Atoi(tok[1:])
	return err == nil && tok[1] >= '1' && tok[1] <= '9'
}

// numberWildcards turns each '*' token into the next $N reference.
func numberWildcards(s string) string {
	toks := strings.Split(s, ".")
	n := 0
	for i, tok := range toks {
		if tok == "*" {
			n++
			toks[i] = "$" + strconv.Itoa(n)
		}
	}
	return strings.Join(toks, ".")
}

// placeholdersToWildcards turns wildcard references back into '*' tokens,
// returning them in order.
func placeholdersToWildcards(s string) (string, []string) {
	toks := strings.Split(s, ".")
	var refs []string
	for i, tok := range toks {
		if isDollarRef(tok) || wildcardFn.MatchString(tok) {
			refs = append(refs, tok)
			toks[i] = "*"
		}
	}
	return strings.Join(toks, "."), refs
}

// streamImportTransform is the rename of a stream import from the
// exported subject from onto to: nil when the subject is kept, or when
// from is literal (to is then the subject delivered).
func streamImportTransform(from, to string) (*subject.Transform, error) {
	if to == "" || to == from || subject.IsLiteral(from) {
		return nil, nil
	}
	tr, err := strictImportTransform(from, numberWildcards(to))
	if err != nil {
		return nil, fmt.Errorf("failed to create mapping transform for stream import subject from %q to %q: %w", from, to, err)
	}
	return tr, nil
}

// serviceImportTransform is the rename of a service import whose requests
// published on local go to remote in the exporter. It returns the subject
// the importer subscribes to and the transform (nil when the subject is
// kept, or when remote is literal and every request goes to it).
func serviceImportTransform(local, remote string) (string, *subject.Transform, error) {
	if local == "" || local == remote {
		return remote, nil, nil
	}
	if subject.IsLiteral(remote) {
		return local, nil, nil
	}
	fail := func(err error) (string, *subject.Transform, error) {
		return "", nil, fmt.Errorf("failed to create mapping transform for service import subject from %q to %q: %w", local, remote, err)
	}
	tokenized := numberWildcards(local)
	if _, err := strictImportTransform(remote, tokenized); err != nil {
		return fail(err)
	}
	sub, refs := placeholdersToWildcards(tokenized)
	rt := strings.Split(remote, ".")
	for i, tok := range rt {
		if tok != "*" {
			continue
		}
		if len(refs) == 0 {
			return fail(subject.ErrBadSubject)
		}
		rt[i], refs = refs[0], refs[1:]
	}
	tr, err := strictImportTransform(sub, strings.Join(rt, "."))
	if err != nil {
		return fail(err)
	}
	return sub, tr, nil
}
