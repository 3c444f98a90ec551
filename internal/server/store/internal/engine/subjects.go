package engine

import (
	"strings"

	"github.com/sluicehq/sluice/internal/server/subject"
)

// subj is the state of one subject: its count and the ends of the linked
// list of its sequences (entry.prev/next).
type subj struct {
	name        string
	msgs        uint64
	first, last uint64
	id          uint32 // its place in subjects.ids
}

// tnode is one token level of the subject trie used for wildcard filters.
type tnode struct {
	kids map[string]*tnode
	s    *subj
}

// subjects indexes subjects by name, by token and by id (frozen entries
// name their subject by id; the id of a removed subject is used again).
type subjects struct {
	byName map[string]*subj
	root   tnode
	ids    []*subj
	free   []uint32
}

func newSubjects() subjects { return subjects{byName: make(map[string]*subj)} }

func (x *subjects) get(name string) *subj { return x.byName[name] }

func (x *subjects) add(name string) *subj {
	s := &subj{name: name}
	if k := len(x.free); k > 0 {
		s.id = x.free[k-1]
		x.free = x.free[:k-1]
		x.ids[s.id] = s
	} else {
		s.id = uint32(len(x.ids))
		x.ids = append(x.ids, s)
	}
	x.byName[name] = s
	n := &x.root
	for rest := name; ; {
		tok, more, found := strings.Cut(rest, ".")
		if n.kids == nil {
			n.kids = make(map[string]*tnode)
		}
		k := n.kids[tok]
		if k == nil {
			k = &tnode{}
			n.kids[tok] = k
		}
		n = k
		if !found {
			break
		}
		rest = more
	}
	n.s = s
	return s
}

func (x *subjects) remove(s *subj) {
	delete(x.byName, s.name)
	x.root.drop(s.name)
	x.ids[s.id] = nil
	x.free = append(x.free, s.id)
}

// drop removes name below n, pruning empty nodes; reports whether n is empty.
func (n *tnode) drop(name string) bool {
	tok, rest, more := strings.Cut(name, ".")
	k := n.kids[tok]
	if k == nil {
		return false
	}
	if more {
		if k.drop(rest) {
			delete(n.kids, tok)
		}
	} else {
		k.s = nil
		if len(k.kids) == 0 {
			delete(n.kids, tok)
		}
	}
	return n.s == nil && len(n.kids) == 0
}

// matcher is a parsed subject filter.
type matcher struct {
	all     bool // "" or ">"
	literal bool
	raw     string
	toks    []string
}

func parseFilter(f string) (matcher, bool) {
	if f == "" || f == ">" {
		return matcher{all: true, raw: f}, true
	}
	if !subject.ValidSubject(f) {
		return matcher{}, false
	}
	if subject.IsLiteral(f) {
		return matcher{literal: true, raw: f}, true
	}
	return matcher{raw: f, toks: strings.Split(f, ".")}, true
}

func (f *matcher) matches(name string) bool {
	if f.all {
		return true
	}
	if f.literal {
		return name == f.raw
	}
	return subject.Matches(name, f.raw)
}

// each calls fn for every subject matching f, stopping when fn says false.
func (x *subjects) each(f *matcher, fn func(*subj) bool) {
	switch {
	case f.all:
		for _, s := range x.byName {
			if !fn(s) {
				return
			}
		}
	case f.literal:
		if s := x.byName[f.raw]; s != nil {
			fn(s)
		}
	default:
		x.root.walk(f.toks, fn)
	}
}

func (n *tnode) walk(toks []string, fn func(*subj) bool) bool {
	if len(toks) == 0 {
		if n.s != nil {
			return fn(n.s)
		}
		return true
	}
	switch tok := toks[0]; tok {
	case ">":
		for _, k := range n.kids {
			if !k.all(fn) {
				return false
			}
		}
	case "*":
		for _, k := range n.kids {
			if !k.walk(toks[1:], fn) {
				return false
			}
		}
	default:
		if k := n.kids[tok]; k != nil {
			return k.walk(toks[1:], fn)
		}
	}
	return true
}

func (n *tnode) all(fn func(*subj) bool) bool {
	if n.s != nil && !fn(n.s) {
		return false
	}
	for _, k := range n.kids {
		if !k.all(fn) {
			return false
		}
	}
	return true
}
