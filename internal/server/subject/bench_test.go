package subject

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
)

// benchSublist holds a realistic mix: literal subjects, a few wildcards and
// queue groups, 1000 entries in all.
func benchSublist(s *Sublist[int]) {
	for i := range 1000 {
		switch i % 10 {
		case 0:
			_ = s.Insert(fmt.Sprintf("orders.%d.*", i%50), "", i)
		case 1:
			_ = s.Insert(fmt.Sprintf("orders.%d.>", i%50), "workers", i)
		default:
			_ = s.Insert(fmt.Sprintf("orders.%d.created", i), "", i)
		}
	}
}

func BenchmarkMatchCacheHit(b *testing.B) {
	s := NewSublist[int]()
	benchSublist(s)
	s.Match("orders.10.created")
	b.ReportAllocs()
	for b.Loop() {
		s.Match("orders.10.created")
	}
}

func BenchmarkMatchBytesCacheHit(b *testing.B) {
	s := NewSublist[int]()
	benchSublist(s)
	subj := []byte("orders.10.created")
	s.MatchBytes(subj)
	b.ReportAllocs()
	for b.Loop() {
		s.MatchBytes(subj)
	}
}

func BenchmarkMatchCacheHitParallel(b *testing.B) {
	s := NewSublist[int]()
	benchSublist(s)
	subj := []byte("orders.10.created")
	s.MatchBytes(subj)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.MatchBytes(subj)
		}
	})
}

func BenchmarkMatchNoCache(b *testing.B) {
	s := NewSublistNoCache[int]()
	benchSublist(s)
	b.ReportAllocs()
	for b.Loop() {
		s.Match("orders.10.created")
	}
}

// BenchmarkMatchMiss publishes to ever new subjects, so every call walks
// the trie and stores into a full cache (evicting).
func BenchmarkMatchMiss(b *testing.B) {
	s := NewSublist[int]()
	benchSublist(s)
	subjects := make([]string, 1<<14)
	for i := range subjects {
		subjects[i] = "orders." + strconv.Itoa(i%1000) + ".x" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.Match(subjects[i&(len(subjects)-1)])
		i++
	}
}

func BenchmarkMatchNoInterest(b *testing.B) {
	s := NewSublistNoCache[int]()
	benchSublist(s)
	b.ReportAllocs()
	for b.Loop() {
		s.Match("billing.eu.paid")
	}
}

func BenchmarkHasInterest(b *testing.B) {
	s := NewSublistNoCache[int]()
	benchSublist(s)
	b.ReportAllocs()
	for b.Loop() {
		s.HasInterest("orders.10.created")
	}
}

// wildcardHeavy makes 10k entries on 4-token subjects, about half of them
// holding '*' or '>'.
func wildcardHeavy(s *Sublist[int]) []string {
	rng := rand.New(rand.NewPCG(7, 7))
	tok := func() string { return "t" + strconv.Itoa(rng.IntN(20)) }
	for i := range 10000 {
		a, b, c, d := tok(), tok(), tok(), tok()
		var subj string
		switch i % 6 {
		case 0:
			subj = a + ".*." + c + "." + d
		case 1:
			subj = a + "." + b + ".>"
		case 2:
			subj = "*." + b + ".*." + d
		default:
			subj = a + "." + b + "." + c + "." + d
		}
		_ = s.Insert(subj, "", i)
	}
	lits := make([]string, 1024)
	for i := range lits {
		lits[i] = tok() + "." + tok() + "." + tok() + "." + tok()
	}
	return lits
}

func BenchmarkMatchWildcardHeavyNoCache(b *testing.B) {
	s := NewSublistNoCache[int]()
	lits := wildcardHeavy(s)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.Match(lits[i&1023])
		i++
	}
}

func BenchmarkMatchWildcardHeavyCached(b *testing.B) {
	s := NewSublist[int]()
	lits := wildcardHeavy(s)
	for _, l := range lits {
		s.Match(l)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.Match(lits[i&1023])
		i++
	}
}

// BenchmarkInsertRemoveChurn is request/reply: an inbox is subscribed,
// published to once and dropped, next to 1000 long-lived entries.
func BenchmarkInsertRemoveChurn(b *testing.B) {
	s := NewSublist[int]()
	benchSublist(s)
	_ = s.Insert("_INBOX.abcdef.*", "", -1)
	inboxes := make([]string, 1024)
	for i := range inboxes {
		inboxes[i] = "_INBOX.abcdef." + strconv.Itoa(i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		subj := inboxes[i&1023]
		_ = s.Insert(subj, "", i)
		s.Match(subj)
		_ = s.Remove(subj, "", i)
		i++
	}
}

// BenchmarkInsertRemoveWildcardChurn adds and drops a wildcard while the
// cache is full, the costly case for cache maintenance.
func BenchmarkInsertRemoveWildcardChurn(b *testing.B) {
	s := NewSublist[int]()
	benchSublist(s)
	for i := range 1024 { // a full cache of results the wildcard does not touch
		s.Match("orders." + strconv.Itoa(i) + ".updated")
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = s.Insert("orders.*.created", "", -1)
		_ = s.Remove("orders.*.created", "", -1)
	}
}

// BenchmarkFanoutChurn subscribes and then unsubscribes (in random order) n
// entries on one subject; ns/entry-op must stay flat as n grows.
func BenchmarkFanoutChurn(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			s := NewSublist[int]()
			perm := rand.Perm(n)
			b.ReportAllocs()
			for b.Loop() {
				for i := range n {
					_ = s.Insert("fan", "", i)
				}
				for _, i := range perm {
					_ = s.Remove("fan", "", i)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*2*n), "ns/entry-op")
		})
	}
}

func BenchmarkValidSubject(b *testing.B) {
	for b.Loop() {
		ValidSubject("orders.eu.*.created.>")
	}
}

func BenchmarkMatches(b *testing.B) {
	for b.Loop() {
		Matches("orders.eu.42.created.today", "orders.*.42.>")
	}
}

// BenchmarkMatchUniqueReplies is new-style request/reply as the server sees
// it: every request goes to one hot subject and its reply to a fresh
// _INBOX.<id>.<n> subject, matched once by a wildcard inbox subscription.
// ns/op covers one request and one reply match.
func BenchmarkMatchUniqueReplies(b *testing.B) {
	s := NewSublist[int]()
	benchSublist(s)
	_ = s.Insert("svc.get", "", -1)
	_ = s.Insert("_INBOX.abcdef.*", "", -2)
	hot := []byte("svc.get")
	reply := append(make([]byte, 0, 32), "_INBOX.abcdef."...)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if s.MatchBytes(hot).Empty() {
			b.Fatal("hot subject lost")
		}
		if s.MatchBytes(strconv.AppendInt(reply[:14], int64(i), 36)).Empty() {
			b.Fatal("reply lost")
		}
		i++
	}
}
