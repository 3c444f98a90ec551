package subject

import "testing"

// BenchmarkMappingSetMap is the per-message cost of an account's mappings
// on the publish path, without the network: a nil set (no mappings), a
// miss, and the common kinds of hit. None may allocate.
func BenchmarkMappingSetMap(b *testing.B) {
	one := func(src, dest string) Mapping {
		return Mapping{Source: src, Dests: []MapDest{{Subject: dest, Weight: 100}}}
	}
	set := func(ms ...Mapping) *MappingSet {
		s, err := NewMappingSet(ms)
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	mixed := set(one("orders.v1", "orders.v2"), one("legacy.*.>", "modern.$1.>"), one("part.*", "p.{{partition(8,1)}}"))
	cases := []struct {
		name string
		set  *MappingSet
		subj string
	}{
		{"nil", nil, "orders.new"},
		{"miss", mixed, "orders.new"},
		{"literal", mixed, "orders.v1"},
		{"wildcard", mixed, "legacy.eu.orders.created"},
		{"partition", mixed, "part.customer42"},
		{"weighted", set(Mapping{Source: "w", Dests: []MapDest{{Subject: "w.a", Weight: 30}, {Subject: "w.b", Weight: 30}}}), "w"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			subj := []byte(c.subj)
			buf := make([]byte, 0, 64)
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = c.set.Map(buf[:0], subj, "")
			}
		})
	}
}
