// Package subject owns NATS subjects: validation, tokens, wildcard matching
// and the subscription index (Sublist) used to find who is interested in a
// published subject. It knows nothing of connections or sockets; the values
// stored in a Sublist are opaque to it.
package subject
