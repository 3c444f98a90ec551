package subject

import (
	"maps"
	"slices"
	"strings"
)

// indexAbove is the size past which an omap builds a hash index. Below it a
// linear scan is faster than hashing and removal keeps insertion order.
const indexAbove = 16

// omap is an insertion-ordered map. Small maps are two parallel slices; large
// ones add an index so lookups and removals stay O(1), at the price of
// removal order (the last element moves into the hole).
type omap[K comparable, V any] struct {
	keys []K
	vals []V
	idx  map[K]int
}

func (m *omap[K, V]) len() int { return len(m.keys) }

// find returns the position of k, or -1.
func (m *omap[K, V]) find(k K) int {
	if m.idx != nil {
		if i, ok := m.idx[k]; ok {
			return i
		}
		return -1
	}
	for i, x := range m.keys {
		if x == k {
			return i
		}
	}
	return -1
}

// add appends k, which must not be present.
func (m *omap[K, V]) add(k K, v V) {
	m.keys = append(m.keys, k)
	m.vals = append(m.vals, v)
	switch {
	case m.idx != nil:
		m.idx[k] = len(m.keys) - 1
	case len(m.keys) > indexAbove:
		m.buildIndex()
	}
}

// removeAt deletes the element at position i.
func (m *omap[K, V]) removeAt(i int) {
	last := len(m.keys) - 1
	if m.idx == nil {
		copy(m.keys[i:], m.keys[i+1:])
		copy(m.vals[i:], m.vals[i+1:])
	} else {
		delete(m.idx, m.keys[i])
		if i != last {
			m.keys[i], m.vals[i] = m.keys[last], m.vals[last]
			m.idx[m.keys[i]] = i
		}
		if last < indexAbove/2 {
			m.idx = nil // hysteresis: rebuild only after growing past indexAbove again
		}
	}
	// Clear the vacated slot so the GC can reclaim what it pointed to.
	var zk K
	var zv V
	m.keys[last], m.vals[last] = zk, zv
	m.keys, m.vals = m.keys[:last], m.vals[:last]
	switch {
	case last == 0:
		m.keys, m.vals = nil, nil
	case cap(m.keys) > 64 && last < cap(m.keys)/4:
		// Give memory back after a large set has mostly drained; maps never
		// shrink, so the index is rebuilt too.
		m.keys, m.vals = slices.Clone(m.keys), slices.Clone(m.vals)
		if m.idx != nil {
			m.buildIndex()
		}
	}
}

func (m *omap[K, V]) buildIndex() {
	m.idx = make(map[K]int, len(m.keys))
	for i, x := range m.keys {
		m.idx[x] = i
	}
}

// entries is an ordered set of values.
type entries[T comparable] = omap[T, struct{}]

// level is one token position of the trie.
type level[T comparable] struct {
	nodes map[string]*node[T] // literal tokens
	pwc   *node[T]            // '*'
	fwc   *node[T]            // '>'
}

// node holds the entries whose subject ends at this token, and the level
// for longer subjects. Every node in the trie is non-empty: removal prunes.
type node[T comparable] struct {
	next   *level[T]
	plain  entries[T]
	queues omap[string, *entries[T]]
}

func (l *level[T]) empty() bool {
	return len(l.nodes) == 0 && l.pwc == nil && l.fwc == nil
}

func (l *level[T]) child(tok string) *node[T] {
	switch tok {
	case pwc:
		return l.pwc
	case fwc:
		return l.fwc
	}
	return l.nodes[tok]
}

func (l *level[T]) ensureChild(tok string) *node[T] {
	if n := l.child(tok); n != nil {
		return n
	}
	n := &node[T]{}
	switch tok {
	case pwc:
		l.pwc = n
	case fwc:
		l.fwc = n
	default:
		if l.nodes == nil {
			l.nodes = make(map[string]*node[T])
		}
		l.nodes[tok] = n
	}
	return n
}

func (l *level[T]) drop(tok string) {
	switch tok {
	case pwc:
		l.pwc = nil
	case fwc:
		l.fwc = nil
	default:
		delete(l.nodes, tok)
		if len(l.nodes) == 0 {
			l.nodes = nil // maps never shrink; drop it so churn cannot pin memory
		}
	}
}

// ensure returns the node for a valid subject, creating the path.
func (l *level[T]) ensure(subject string) *node[T] {
	for {
		tok, rest, more := strings.Cut(subject, ".")
		n := l.ensureChild(tok)
		if !more {
			return n
		}
		if n.next == nil {
			n.next = &level[T]{}
		}
		l, subject = n.next, rest
	}
}

// remove deletes v from subject/queue and prunes nodes left empty.
func (l *level[T]) remove(subject, queue string, v T) bool {
	tok, rest, more := strings.Cut(subject, ".")
	n := l.child(tok)
	if n == nil {
		return false
	}
	if more {
		if n.next == nil || !n.next.remove(rest, queue, v) {
			return false
		}
		if n.next.empty() {
			n.next = nil
		}
	} else if !n.remove(queue, v) {
		return false
	}
	if n.next == nil && !n.hasEntries() {
		l.drop(tok)
	}
	return true
}

// match adds to res the entries of every subscription matching the
// well-formed literal subject.
func (l *level[T]) match(subject string, res *Result[T]) {
	for {
		tok, rest, more := strings.Cut(subject, ".")
		if l.fwc != nil {
			l.fwc.collect(res)
		}
		if n := l.pwc; n != nil {
			if !more {
				n.collect(res)
			} else if n.next != nil {
				n.next.match(rest, res)
			}
		}
		// Literal tokens iterate instead of recursing: the common path.
		n := l.nodes[tok]
		if n == nil {
			return
		}
		if !more {
			n.collect(res)
			return
		}
		if n.next == nil {
			return
		}
		l, subject = n.next, rest
	}
}

// tailFree reports whether, for the well-formed literal subject, no level
// its last token is matched at has a literal token: then every subject
// differing only in its last token matches the same entries.
func (l *level[T]) tailFree(subject string) bool {
	tok, rest, more := strings.Cut(subject, ".")
	if !more {
		return len(l.nodes) == 0
	}
	// '>' matches the same whatever follows; '*' and the literal token lead on.
	if n := l.pwc; n != nil && n.next != nil && !n.next.tailFree(rest) {
		return false
	}
	if n := l.nodes[tok]; n != nil && n.next != nil && !n.next.tailFree(rest) {
		return false
	}
	return true
}

// hasInterest is match that stops at the first entry found.
func (l *level[T]) hasInterest(subject string) bool {
	for {
		if l.fwc != nil {
			return true // nodes are never empty and '>' has no children
		}
		tok, rest, more := strings.Cut(subject, ".")
		if n := l.pwc; n != nil {
			if !more && n.hasEntries() {
				return true
			}
			if more && n.next != nil && n.next.hasInterest(rest) {
				return true
			}
		}
		n := l.nodes[tok]
		if n == nil {
			return false
		}
		if !more {
			return n.hasEntries()
		}
		if n.next == nil {
			return false
		}
		l, subject = n.next, rest
	}
}

type entry[T comparable] struct {
	subject, queue string
	v              T
}

// walk appends every entry below l, subjects prefixed by prefix.
func (l *level[T]) walk(prefix string, out *[]entry[T]) {
	visit := func(tok string, n *node[T]) {
		subject := tok
		if prefix != "" {
			subject = prefix + "." + tok
		}
		for _, v := range n.plain.keys {
			*out = append(*out, entry[T]{subject, "", v})
		}
		for i, q := range n.queues.keys {
			for _, v := range n.queues.vals[i].keys {
				*out = append(*out, entry[T]{subject, q, v})
			}
		}
		if n.next != nil {
			n.next.walk(subject, out)
		}
	}
	for _, tok := range slices.Sorted(maps.Keys(l.nodes)) {
		visit(tok, l.nodes[tok])
	}
	if l.pwc != nil {
		visit(pwc, l.pwc)
	}
	if l.fwc != nil {
		visit(fwc, l.fwc)
	}
}

// numNodes counts the nodes below l; tests use it to check pruning.
func (l *level[T]) numNodes() int {
	count := func(n *node[T]) int {
		if n == nil {
			return 0
		}
		if n.next == nil {
			return 1
		}
		return 1 + n.next.numNodes()
	}
	c := count(l.pwc) + count(l.fwc)
	for _, n := range l.nodes {
		c += count(n)
	}
	return c
}

func (n *node[T]) hasEntries() bool {
	return n.plain.len() > 0 || n.queues.len() > 0
}

// add inserts v; it reports false if v was already there.
func (n *node[T]) add(queue string, v T) bool {
	set := &n.plain
	if queue != "" {
		i := n.queues.find(queue)
		if i < 0 {
			set = &entries[T]{}
			n.queues.add(queue, set)
		} else {
			set = n.queues.vals[i]
		}
	}
	if set.find(v) >= 0 {
		return false
	}
	set.add(v, struct{}{})
	return true
}

// remove deletes v; it reports false if v was not there.
func (n *node[T]) remove(queue string, v T) bool {
	if queue == "" {
		i := n.plain.find(v)
		if i < 0 {
			return false
		}
		n.plain.removeAt(i)
		return true
	}
	qi := n.queues.find(queue)
	if qi < 0 {
		return false
	}
	set := n.queues.vals[qi]
	i := set.find(v)
	if i < 0 {
		return false
	}
	set.removeAt(i)
	if set.len() == 0 {
		n.queues.removeAt(qi)
	}
	return true
}

// collect appends the node's entries to res, merging queue groups by name
// across nodes: a group is one group whatever subjects its members used.
func (n *node[T]) collect(res *Result[T]) {
	res.Plain = append(res.Plain, n.plain.keys...)
	for i, name := range n.queues.keys {
		members := n.queues.vals[i].keys
		if j := slices.Index(res.QueueNames, name); j >= 0 {
			res.Queues[j] = append(res.Queues[j], members...)
			continue
		}
		res.QueueNames = append(res.QueueNames, name)
		res.Queues = append(res.Queues, slices.Clone(members))
	}
}
