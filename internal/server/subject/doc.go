// Package subject owns NATS subjects: validation, tokens, wildcard matching
// and the subscription index (Sublist) used to find who is interested in a
// published subject. It knows nothing of connections or sockets; the values
// stored in a Sublist are opaque to it.
//
// A Sublist is a token trie (one level per token, with '*' and '>' children
// kept apart from literal tokens) behind one RWMutex, plus a bounded cache of
// match results keyed by the literal subject. Results are shared and never
// mutated once returned; a change builds a new one. Generation moves on
// every change so callers can keep their own caches of results.
package subject
