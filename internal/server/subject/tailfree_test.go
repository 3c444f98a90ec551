package subject

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestTailFree(t *testing.T) {
	cases := []struct {
		subs []string
		subj string
		want bool
	}{
		{nil, "a.b", true},
		{[]string{"_INBOX.x.*"}, "_INBOX.x.tok", true},
		{[]string{"_INBOX.x.*", "_INBOX.x.y"}, "_INBOX.x.tok", false}, // a literal sibling
		{[]string{"_INBOX.x.*", "_INBOX.z.y"}, "_INBOX.x.tok", true},  // elsewhere
		{[]string{">", "_INBOX.>"}, "_INBOX.x.tok", true},
		{[]string{"_INBOX.*.y"}, "_INBOX.x.tok", false}, // reached through '*'
		{[]string{"*.*.*"}, "_INBOX.x.tok", true},
		{[]string{"_INBOX.x.tok.more"}, "_INBOX.x.tok", false}, // tok is a literal node
		{[]string{"a"}, "b", false},                            // one token: its level has a literal
		{nil, "a..b", false},                                   // malformed
	}
	for _, c := range cases {
		s := NewSublist[int]()
		for i, p := range c.subs {
			mustInsert(t, s, sub{p, "", i})
		}
		if got := s.TailFree([]byte(c.subj)); got != c.want {
			t.Errorf("subs %q: TailFree(%q) = %v, want %v", c.subs, c.subj, got, c.want)
		}
	}
	if NewSublist[int]().TailFree(nil) {
		t.Error("TailFree of an empty subject")
	}
}

// TestTailFreeAgreesWithMatch: whenever TailFree holds, subjects that
// differ only in the last token match the same entries (random lists).
func TestTailFreeAgreesWithMatch(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	toks := []string{"a", "b", "c", "*", ">"}
	free := 0
	for round := 0; round < 2000; round++ {
		s := NewSublistNoCache[int]()
		for i := 0; i < 1+r.IntN(6); i++ {
			n := 1 + r.IntN(4)
			parts := make([]string, n)
			for j := range parts {
				parts[j] = toks[r.IntN(len(toks))]
				if parts[j] == ">" && j < n-1 {
					parts[j] = "*"
				}
			}
			_ = s.Insert(strings.Join(parts, "."), "", i)
		}
		n := 1 + r.IntN(4)
		parts := make([]string, n)
		for j := range parts {
			parts[j] = toks[r.IntN(3)]
		}
		subj := strings.Join(parts, ".")
		if !s.TailFree([]byte(subj)) {
			continue
		}
		free++
		want := sorted(s.Match(subj).Plain)
		for _, last := range []string{"a", "b", "c", "zz" + strconv.Itoa(round)} {
			parts[n-1] = last
			if got := sorted(s.Match(strings.Join(parts, ".")).Plain); !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d: %q matches %v, %q matched %v", round, strings.Join(parts, "."), got, subj, want)
			}
		}
	}
	if free < 100 {
		t.Fatalf("only %d tail-free cases: the test checks too little", free)
	}
}

func sorted(v []int) []int {
	v = slices.Clone(v)
	slices.Sort(v)
	return v
}
