package subject

import "errors"

// ErrInvalidSubject is returned when inserting or removing a malformed subject.
var ErrInvalidSubject = errors.New("subject: invalid subject")

// ErrNotFound is returned when removing an entry that is not in the index.
var ErrNotFound = errors.New("subject: no such entry")

// Result is the set of entries interested in one literal subject. A Result
// returned by Match is shared and must be treated as read-only.
type Result[T comparable] struct {
	Plain  []T   // plain subscriptions: every one gets the message
	Queues [][]T // one slice per queue group: one member gets the message
}

// Sublist is the subscription index: a token trie with a match cache.
// It is safe for concurrent use.
type Sublist[T comparable] struct {
	// API contract only; implementation pending.
}

// NewSublist returns an empty index.
func NewSublist[T comparable]() *Sublist[T] { return &Sublist[T]{} }

// Insert adds v under subject (may hold wildcards) and optional queue group.
func (s *Sublist[T]) Insert(subject, queue string, v T) error { panic("todo") }

// Remove deletes v from subject/queue.
func (s *Sublist[T]) Remove(subject, queue string, v T) error { panic("todo") }

// Match returns the entries interested in a literal subject.
func (s *Sublist[T]) Match(subject string) *Result[T] { panic("todo") }

// MatchBytes is Match for a subject held in a byte slice; it does not
// allocate when the result is cached.
func (s *Sublist[T]) MatchBytes(subject []byte) *Result[T] { panic("todo") }

// Generation changes whenever the index changes; callers that cache
// results compare it to know when to drop them.
func (s *Sublist[T]) Generation() uint64 { panic("todo") }

// Count is the number of entries in the index.
func (s *Sublist[T]) Count() int { panic("todo") }
