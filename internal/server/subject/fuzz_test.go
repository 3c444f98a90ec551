package subject

import (
	"reflect"
	"strings"
	"testing"
)

// refValid is ValidSubject written the slow, obvious way.
func refValid(s string) (valid, literal bool) {
	if s == "" || strings.ContainsAny(s, " \t\r\n\f") {
		return false, false
	}
	toks := strings.Split(s, ".")
	literal = true
	for i, tok := range toks {
		switch tok {
		case "":
			return false, false
		case ">":
			if i != len(toks)-1 {
				return false, false
			}
			literal = false
		case "*":
			literal = false
		}
	}
	return true, literal
}

// refMatches is Matches written the slow, obvious way.
func refMatches(literal, pattern string) bool {
	lt, pt := strings.Split(literal, "."), strings.Split(pattern, ".")
	for _, tok := range lt {
		if tok == "" {
			return false
		}
	}
	for i, p := range pt {
		switch {
		case p == ">" && i == len(pt)-1:
			return len(lt) > i
		case i >= len(lt):
			return false
		case p != "*" && p != lt[i]:
			return false
		}
	}
	return len(lt) == len(pt)
}

func FuzzValidSubject(f *testing.F) {
	for _, s := range []string{"foo", "foo.*", "foo.>", "foo..bar", "foo.>.bar", "foo*.bar", " ", ".", "a.b\tc", ">"} {
		f.Add(s, "foo.bar")
	}
	f.Fuzz(func(t *testing.T, s, other string) {
		valid, literal := refValid(s)
		if got := ValidSubject(s); got != valid {
			t.Fatalf("ValidSubject(%q) = %v, want %v", s, got, valid)
		}
		if got := ValidLiteral(s); got != literal {
			t.Fatalf("ValidLiteral(%q) = %v, want %v", s, got, literal)
		}
		if valid && IsLiteral(s) != literal {
			t.Fatalf("IsLiteral(%q) = %v, want %v", s, !literal, literal)
		}
		if ValidSubject(other) {
			if got, want := Matches(s, other), refMatches(s, other); got != want {
				t.Fatalf("Matches(%q, %q) = %v, want %v", s, other, got, want)
			}
		}
		if valid {
			if got, want := Matches(other, s), refMatches(other, s); got != want {
				t.Fatalf("Matches(%q, %q) = %v, want %v", other, s, got, want)
			}
		}
		// No panics on anything, whatever the input.
		SubsetOf(s, other)
		Collide(s, other)
		ValidQueue(s)
		NumTokens(s)
	})
}

// fuzzTokens is a small alphabet so that random bytes make subjects that
// overlap often; "a*" and ">x" are literal tokens that look like wildcards.
var fuzzTokens = []string{"a", "b", "c", "*", ">", "a*", ">x"}

// decodeSubject turns bytes into a subject of up to 4 tokens, which may be
// invalid ('>' not last). It returns the bytes left.
func decodeSubject(data []byte) (string, []byte) {
	if len(data) == 0 {
		return "", nil
	}
	n := 1 + int(data[0]%4)
	data = data[1:]
	var b strings.Builder
	for i := 0; i < n && len(data) > 0; i++ {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(fuzzTokens[int(data[0])%len(fuzzTokens)])
		data = data[1:]
	}
	return b.String(), data
}

// FuzzSublist runs a program of inserts, removes and matches decoded from
// the input against the slow model built on Matches, and checks that the
// subset and collision helpers agree with the matching literals.
func FuzzSublist(f *testing.F) {
	f.Add([]byte{0, 1, 0, 1, 2, 3, 0, 9, 1, 4}, "a.b")
	f.Add([]byte{8, 3, 0, 3, 1, 16, 0, 1, 1, 0, 0, 32, 2, 0, 1, 2}, "a.a.a")
	f.Add([]byte{4, 2, 0, 4, 20, 1, 5, 1, 6}, "a*")
	f.Fuzz(func(t *testing.T, prog []byte, raw string) {
		s := NewSublistCache[int](4) // tiny, so eviction happens too
		var m model
		var literals []string
		var patterns []string
		for i := 0; len(prog) > 0 && i < 64; i++ {
			op := prog[0]
			var subj string
			subj, prog = decodeSubject(prog[1:])
			queue := [...]string{"", "q1", "", "q2"}[op>>4&3]
			switch op & 3 {
			case 0, 1: // insert
				err := s.Insert(subj, queue, i)
				if (err == nil) != ValidSubject(subj) {
					t.Fatalf("Insert(%q) = %v, ValidSubject = %v", subj, err, ValidSubject(subj))
				}
				if err == nil {
					m.insert(subj, queue, i)
					if len(patterns) < 16 {
						patterns = append(patterns, subj)
					}
				}
			case 2: // remove an earlier entry
				if len(m.entries) == 0 {
					continue
				}
				e := m.entries[int(op>>2)%len(m.entries)]
				if err := s.Remove(e.subject, e.queue, e.v); err != nil {
					t.Fatalf("Remove(%v): %v", e, err)
				}
				m.remove(e.subject, e.queue, e.v)
			case 3: // match
				if len(literals) == 8 {
					literals = literals[1:] // bounded, so each input stays cheap
				}
				literals = append(literals, subj)
			}
			for _, lit := range append(literals, raw, subj) {
				want := m.match(lit)
				if got := viewOf(t, s.Match(lit)); !reflect.DeepEqual(got, want) {
					t.Fatalf("Match(%q) = %+v, want %+v", lit, got, want)
				}
				if got := s.HasInterest(lit); got != (want.Plain != nil || want.Queues != nil) {
					t.Fatalf("HasInterest(%q) = %v", lit, got)
				}
			}
			if s.Count() != len(m.entries) {
				t.Fatalf("Count = %d, want %d", s.Count(), len(m.entries))
			}
		}
		// Drain: everything must be pruned.
		for _, e := range m.entries {
			if err := s.Remove(e.subject, e.queue, e.v); err != nil {
				t.Fatalf("Remove(%v): %v", e, err)
			}
		}
		if s.Count() != 0 || s.mu.root.numNodes() != 0 {
			t.Fatalf("after draining: Count = %d nodes = %d", s.Count(), s.mu.root.numNodes())
		}
		// SubsetOf and Collide must agree with the literals we have.
		literals = append(literals, raw)
		for _, a := range patterns {
			for _, b := range patterns {
				sub, coll := SubsetOf(a, b), Collide(a, b)
				if Collide(b, a) != coll {
					t.Fatalf("Collide(%q, %q) is not symmetric", a, b)
				}
				if SubsetOf(a, a) != true || (sub && !coll) {
					t.Fatalf("SubsetOf(%q, %q) = %v, Collide = %v", a, b, sub, coll)
				}
				for _, lit := range literals {
					ma, mb := Matches(lit, a), Matches(lit, b)
					if sub && ma && !mb {
						t.Fatalf("SubsetOf(%q, %q) but %q matches only the first", a, b, lit)
					}
					if ma && mb && !coll {
						t.Fatalf("%q matches %q and %q but Collide is false", lit, a, b)
					}
				}
			}
		}
	})
}
