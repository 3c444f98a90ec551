package subject

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

// The expected outputs below are what nats-server v2.15.2 returns for the
// same source, destination and subject (checked by running it), so they
// pin compatibility, not just this implementation.

func TestTransformApply(t *testing.T) {
	cases := []struct{ src, dest, subj, want string }{
		// wildcard references, old and new style
		{"foo.*.bar.*.baz", "req.$2.$1", "foo.A.bar.B.baz", "req.B.A"},
		{"foo.*.bar.*.baz", "req.{{wildcard(2)}}.{{wildcard(1)}}", "foo.A.bar.B.baz", "req.B.A"},
		{"foo.*.bar.*.baz", "req.{{ Wildcard ( 2 ) }}", "foo.A.bar.B.baz", "req.B"},
		{"*", "foo.bar.$1", "foo", "foo.bar.foo"},
		{"foo.*.*", "bar.$2", "foo.x.y", "bar.y"},
		{"foo.*", "x.$01", "foo.bar", "x.bar"},
		{"foo.*", "x.$+1", "foo.bar", "x.bar"},
		// an index below 1 is the subject's first token
		{"foo.*", "foo.$0", "foo.bar", "foo.foo"},
		{"foo.*", "x.$-1", "foo.bar", "x.foo"},
		// tokens that only look like references stay as written
		{"foo.*", "x.$foo.$", "foo.bar", "x.$foo.$"},
		{"foo.*", "x.{{}}.$1", "foo.bar", "x.{{}}.bar"},
		// literal and full wildcards
		{"foo", "bar", "foo", "bar"},
		{"foo.*", "bar", "foo.x", "bar"},
		{"baz.>", "my.pre.>", "baz.1.2.3", "my.pre.1.2.3"},
		{"foo.*.>", "$1.>", "foo.a.b.c", "a.b.c"},
		{">", ">", "a.b.c", "a.b.c"},
		{">", "x.>", "a.b.c", "x.a.b.c"},
		{"", "prefix.>", "foo", "prefix.foo"},
		// split and slice
		{"*", "{{splitfromleft(1,3)}}", "12345", "123.45"},
		{"*", "{{SplitFromRight(1,3)}}", "12345", "12.345"},
		{"*", "{{SplitFromLeft(1,0)}}", "12345", "12345"},
		{"*", "{{SplitFromLeft(1,5)}}", "12345", "12345"},
		{"*", "{{SliceFromLeft(1,3)}}", "1234567890", "123.456.789.0"},
		{"*", "{{SliceFromRight(1,3)}}", "1234567890", "1.234.567.890"},
		{"*", "{{SliceFromLeft(1,3)}}", "123456", "123.456"},
		{"*", "{{SliceFromRight(1,3)}}", "123456", "123.456"},
		{"*", "{{SliceFromLeft(1,10)}}", "123456", "123456"},
		{"*", "{{split(1,-)}}", "-abc-def--ghi-", "abc.def.ghi"},
		{"*", "{{split(1,-)}}", "abc-def--ghi-", "abc.def.ghi"},
		{"*", "{{split(1,-)}}", "--a", ".a"}, // sic: nats-server's output
		{"*", "{{split(1,-)}}", "a--", "a"},
		{"*", "{{split(1,-)}}", "---", ""},
		{"*", "{{split(1,__)}}", "a__b____c", "a.b.c"},
		{"*", "{{split(1,)}}", "héllo", "h.é.l.l.o"},
		{"*.*", "{{split(2,-)}}.{{splitfromleft(1,2)}}", "foo.-abc-def--ghij-", "abc.def.ghij.fo.o"},
		// left and right
		{"*", "{{right(1,1)}}", "1234", "4"},
		{"*", "{{right(1,3)}}", "1234", "234"},
		{"*", "{{right(1,6)}}", "1234", "1234"},
		{"*", "{{left(1,1)}}", "1234", "1"},
		{"*", "{{left(1,3)}}", "1234", "123"},
		{"*", "{{left(1,6)}}", "1234", "1234"},
		{"*", "{{left(1,-1)}}", "1234", "1234"},
		{"*", "{{ Left ( 1 , 2 ) }}", "1234", "12"},
		// random with no range is always 0
		{"*", "bar.{{random(0)}}", "qux", "bar.0"},
	}
	for _, c := range cases {
		tr, err := NewTransform(c.src, c.dest)
		if err != nil {
			t.Errorf("NewTransform(%q, %q): %v", c.src, c.dest, err)
			continue
		}
		got, ok := tr.Apply(c.subj)
		if !ok || got != c.want {
			t.Errorf("%q -> %q on %q = %q, %v; want %q", c.src, c.dest, c.subj, got, ok, c.want)
		}
	}
}

// TestPartitionTable pins partition numbers: FNV-1a (32 bit) of the
// selected tokens joined without separator, or of the whole subject, modulo
// the partition count.
func TestPartitionTable(t *testing.T) {
	cases := []struct{ src, dest, subj, want string }{
		{"*", "bar.{{partition(10)}}", "foo", "bar.3"},
		{"*", "bar.{{partition(10)}}", "baz", "bar.0"},
		{"*", "bar.{{partition(10)}}", "qux", "bar.9"},
		{"*.*", "bar.{{partition(10)}}", "foo.bar", "bar.6"},
		{"foo.bar", "baz.{{partition(10)}}", "foo.bar", "baz.6"},
		{"foo.baz", "qux.{{partition(10)}}", "foo.baz", "qux.4"},
		{"test.subject", "result.{{partition(5)}}", "test.subject", "result.0"},
		{"orders.*", "orders.{{partition(3,1)}}.$1", "orders.1", "orders.1.1"},
		{"orders.*", "orders.{{partition(3,1)}}.$1", "orders.2", "orders.1.2"},
		{"orders.*", "orders.{{partition(3,1)}}.$1", "orders.3", "orders.2.3"},
		{"orders.*", "orders.{{partition(3,1)}}.$1", "orders.4", "orders.1.4"},
		{"orders.*", "orders.{{partition(3,1)}}.$1", "orders.5", "orders.2.5"},
		{"orders.*", "orders.{{partition(3,1)}}.$1", "orders.6", "orders.2.6"},
		{"orders.*", "orders.{{partition(3,1)}}.$1", "orders.7", "orders.0.7"},
		{"orders.*", "orders.{{partition(3,1)}}.$1", "orders.8", "orders.1.8"},
		{"orders.*", "orders.{{partition(3,1)}}.$1", "orders.9", "orders.2.9"},
		{"orders.*", "orders.{{partition(3,1)}}.$1", "orders.10", "orders.0.10"},
		{"orders.*", "{{partition(3)}}", "orders.1", "0"},
		{"*.*", "{{partition(10,1,2)}}", "a.b", "6"}, // hashes "ab"
		{"*.*", "{{partition(10,1,2)}}", "ab.c", "1"},
		{"*.*", "{{partition(10,2,1)}}", "a.b", "8"}, // hashes "ba"
		{"*.*", "{{partition(10,1,2)}}", "hello.world", "7"},
		{"foo.*.*", "foo.{{wildcard(1)}}.{{wildcard(2)}}.{{partition(5,1,2)}}", "foo.us.east", "foo.us.east.3"},
		{"foo.*.*", "foo.{{wildcard(1)}}.{{wildcard(2)}}.{{partition(5,1,2)}}", "foo.eu.west", "foo.eu.west.0"},
		{"*", "p.{{partition(1000)}}", "customer-42", "p.86"},
		{"*", "p.{{partition(1000)}}", "customer-43", "p.705"},
		{"*", "p.{{partition(64)}}", "ORD-123-456", "p.3"},
		{"*", "p.{{partition(7)}}", "héllo", "p.4"},
		{"*.>", "p.{{partition(16)}}.>", "a.b.c.d", "p.5.b.c.d"},
		{"*.>", "p.{{partition(16,1)}}.>", "a.b.c.d", "p.12.b.c.d"},
		{"*", "p.{{partition(0)}}", "foo", "p.0"},
		{"*", "p.{{partition(1)}}", "foo", "p.0"},
		{"*", "p.{{partition(10,0)}}", "foo", "p.3"},
		{"*", "p.{{partition(-3)}}", "foo", "p.2851307223"}, // sic: modulo uint32(-3)
		{"*", fmt.Sprintf("p.{{partition(%d)}}", math.MaxInt32), "foo", "p.703823576"},
	}
	for _, c := range cases {
		tr, err := NewTransform(c.src, c.dest)
		if err != nil {
			t.Fatalf("NewTransform(%q, %q): %v", c.src, c.dest, err)
		}
		// Every call, and a fresh compile, gives the same partition.
		for range 3 {
			if got, _ := tr.Apply(c.subj); got != c.want {
				t.Errorf("%q -> %q on %q = %q, want %q", c.src, c.dest, c.subj, got, c.want)
			}
		}
		tr2, _ := NewTransform(c.src, c.dest)
		if got, _ := tr2.Apply(c.subj); got != c.want {
			t.Errorf("recompiled %q on %q = %q, want %q", c.dest, c.subj, got, c.want)
		}
	}
}

func TestPartitionSpread(t *testing.T) {
	tr, err := NewTransform("orders.*", "part.{{partition(8,1)}}")
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	const n = 8000
	for i := range n {
		got, _ := tr.Apply(fmt.Sprintf("orders.customer-%d", i))
		again, _ := tr.Apply(fmt.Sprintf("orders.customer-%d", i))
		if got != again {
			t.Fatalf("customer-%d mapped to %q then %q", i, got, again)
		}
		counts[got]++
	}
	if len(counts) != 8 {
		t.Fatalf("used %d partitions, want 8: %v", len(counts), counts)
	}
	for p, c := range counts {
		if c < n/8*7/10 || c > n/8*13/10 {
			t.Errorf("partition %s got %d of %d subjects, want about %d", p, c, n, n/8)
		}
	}
}

func TestTransformRandom(t *testing.T) {
	tr, err := NewTransform("*", "bar.{{random(6)}}")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for range 600 {
		got, _ := tr.Apply("qux")
		if len(got) != 5 || !strings.HasPrefix(got, "bar.") || got[4] < '0' || got[4] > '5' {
			t.Fatalf("random(6) gave %q", got)
		}
		seen[got] = true
	}
	if len(seen) != 6 {
		t.Errorf("600 draws of random(6) gave only %v", seen)
	}
}

func TestTransformNoMatch(t *testing.T) {
	cases := []struct{ src, dest, subj string }{
		{"foo", "bar", "foo.bar"},
		{"foo", "bar", "fo"},
		{"foo.*", "bar.$1", "foo"},
		{"foo.*", "bar.$1", "foo.a.b"},
		{"foo.*", "bar.$1", "bar.a"},
		{"foo.*", "bar.$1", "foo."},
		{"foo.>", "bar.>", "foo"},
		{"*.>", "x.>", "x"},
		{"foo.>", ">", "foo"},
		{"*.bar", "x", "a..bar"},
		// wildcards published by non-pedantic clients
		{"foo.bar", "x", "foo.*"},
		{"foo.*", "x.$1", "foo.>"},
	}
	for _, c := range cases {
		tr, err := NewTransform(c.src, c.dest)
		if err != nil {
			t.Fatalf("NewTransform(%q, %q): %v", c.src, c.dest, err)
		}
		if got, ok := tr.Apply(c.subj); ok {
			t.Errorf("%q matched %q, mapped to %q", c.subj, c.src, got)
		}
	}
	// A published wildcard token matches the same wildcard in the source.
	tr, _ := NewTransform("foo.*", "x.$1")
	if got, ok := tr.Apply("foo.*"); !ok || got != "x.*" {
		t.Errorf("foo.* -> %q, %v", got, ok)
	}
	tr, _ = NewTransform("foo.>", "x.>")
	if got, ok := tr.Apply("foo.>"); !ok || got != "x.>" {
		t.Errorf("foo.> -> %q, %v", got, ok)
	}
}

func TestTransformErrors(t *testing.T) {
	cases := []struct {
		src, dest string
		want      string
		is        error
	}{
		{"foo..", "bar", "invalid subject", ErrBadSubject},
		{"foo bar", "x", "invalid subject", ErrBadSubject},
		{"foo.*", "bar.*", "invalid subject", ErrBadSubject},
		{"foo.*", "bar.$1.>", "invalid subject", ErrBadSubject},
		{"foo.>", "bar.baz", "invalid subject", ErrBadSubject},
		{"foo", "", "missing mapping destination", ErrMissingDestination},
		{"foo.*", "bar.$2", "invalid mapping destination: wildcard index out of range in $2: [2]", ErrMappingIndexOutOfRange},
		{"foo.*", "foo.{{wildcard(2)}}", "invalid mapping destination: wildcard index out of range in {{wildcard(2)}}: [2]", ErrMappingIndexOutOfRange},
		{"foo", "bla.{{wildcard(1)}}", "invalid mapping destination: wildcard index out of range in {{wildcard(1)}}", ErrMappingIndexOutOfRange},
		{"foo", "bla.$1", "invalid mapping destination: wildcard index out of range in $1", ErrMappingIndexOutOfRange},
		{"foo", "bla.{{left(1,1)}}", "invalid mapping destination: wildcard index out of range in {{left(1,1)}}", ErrMappingIndexOutOfRange},
		{"foo.*", "foo.{{unimplemented(1)}}", "invalid mapping destination: unknown function in {{unimplemented(1)}}", ErrMappingUnknownFunction},
		{"foo.*", "foo.{{ wildcard5) }}", "invalid mapping destination: unknown function in {{ wildcard5) }}", ErrMappingUnknownFunction},
		{"foo.*", "foo.{{splitLeft(2,2}}", "invalid mapping destination: unknown function in {{splitLeft(2,2}}", ErrMappingUnknownFunction},
		{"foo.*", "foo.{{PARTITION(3)}}", "invalid mapping destination: unknown function in {{PARTITION(3)}}", ErrMappingUnknownFunction},
		{"foo.*", "foo.{{partition()}}", "invalid mapping destination: function argument is invalid or in the wrong format in {{partition()}}", ErrMappingInvalidArg},
		{"foo.*", "foo.{{random()}}", "invalid mapping destination: function argument is invalid or in the wrong format in {{random()}}", ErrMappingInvalidArg},
		{"foo.*", "foo.{{random(1,2)}}", "invalid mapping destination: not enough arguments passed to the function in {{random(1,2)}}", ErrMappingNotEnoughArgs},
		{"foo.*", "foo.{{wildcard(foo)}}", "invalid mapping destination: function argument is invalid or in the wrong format in {{wildcard(foo)}}", ErrMappingInvalidArg},
		{"foo.*", "foo.{{wildcard()}}", "invalid mapping destination: not enough arguments passed to the function in {{wildcard()}}", ErrMappingNotEnoughArgs},
		{"foo.*", "foo.{{wildcard(1,2)}}", "invalid mapping destination: too many arguments passed to the function in {{wildcard(1,2)}}", ErrMappingTooManyArgs},
		{"foo.*", "foo.{{partition(2147483648)}}", "invalid mapping destination: function argument is invalid or in the wrong format in {{partition(2147483648)}}", ErrMappingInvalidArg},
		{"foo.*", "foo.{{random(2147483648)}}", "invalid mapping destination: function argument is invalid or in the wrong format in {{random(2147483648)}}", ErrMappingInvalidArg},
		{"foo.*", "foo.{{partition(3,x)}}", "invalid mapping destination: function argument is invalid or in the wrong format in {{partition(3,x)}}", ErrMappingInvalidArg},
		{"foo.*", "foo.{{left(1)}}", "invalid mapping destination: not enough arguments passed to the function in {{left(1)}}", ErrMappingNotEnoughArgs},
		{"foo.*", "foo.{{left(1,2,3)}}", "invalid mapping destination: too many arguments passed to the function in {{left(1,2,3)}}", ErrMappingTooManyArgs},
		{"foo.*", "foo.{{left(x,2)}}", "invalid mapping destination: function argument is invalid or in the wrong format in {{left(x,2)}}", ErrMappingInvalidArg},
		{"foo.*", "foo.{{left(1,x)}}", "invalid mapping destination: function argument is invalid or in the wrong format in {{left(1,x)}}", ErrMappingInvalidArg},
		{"foo.*", "foo.{{left(1,2147483648)}}", "invalid mapping destination: function argument is invalid or in the wrong format in {{left(1,2147483648)}}", ErrMappingInvalidArg},
		{"foo.*", "foo.{{split(1)}}", "invalid mapping destination: not enough arguments passed to the function in {{split(1)}}", ErrMappingNotEnoughArgs},
		{"foo.*", "foo.{{split(1,a,b)}}", "invalid mapping destination: too many arguments passed to the function in {{split(1,a,b)}}", ErrMappingTooManyArgs},
		{"foo.*", "foo.{{split(x,-)}}", "invalid mapping destination: function argument is invalid or in the wrong format in {{split(x,-)}}", ErrMappingInvalidArg},
		{"foo.*", "foo.{{split(1,- )}}", "invalid mapping destination: function argument is invalid or in the wrong format in {{split(1,- )}}", ErrMappingInvalidArg},
		{"foo.*", "foo..bar", "invalid mapping destination: invalid transform", ErrMappingInvalidTransform},
		{"foo.*", "foo.>.bar", "invalid mapping destination: invalid transform in bar", ErrMappingInvalidTransform},
		{"foo.*", "foo.b ar", "invalid mapping destination: invalid transform", ErrMappingInvalidTransform},
		{"foo.*", "foo.{{partition(3)}} ", "invalid mapping destination: invalid transform", ErrMappingInvalidTransform},
	}
	for _, c := range cases {
		_, err := NewTransform(c.src, c.dest)
		if err == nil {
			t.Errorf("NewTransform(%q, %q) succeeded", c.src, c.dest)
			continue
		}
		if err.Error() != c.want {
			t.Errorf("NewTransform(%q, %q) = %q, want %q", c.src, c.dest, err, c.want)
		}
		if !errors.Is(err, c.is) {
			t.Errorf("NewTransform(%q, %q) = %v, not %v", c.src, c.dest, err, c.is)
		}
		if errors.Is(c.is, ErrInvalidMapping) && !errors.Is(err, ErrInvalidMapping) {
			t.Errorf("%v does not wrap ErrInvalidMapping", err)
		}
	}
}

func TestTransformOK(t *testing.T) {
	for _, c := range []struct{ src, dest string }{
		{"foo.*.*", "bar.$2"}, // not every wildcard must be used
		{"foo.*.*", "bar.{{partition(1)}}"},
		{"foo.*.*", "bar.{{random(5)}}"},
		{"*", "{{splitfromleft(1,1)}}"},
		{"*.*", "{{partition(10,1,2)}}"},
		{"foo.*", fmt.Sprintf("foo.{{partition(%d)}}", math.MaxInt32)},
		{"foo.bar", fmt.Sprintf("foo.{{random(%d)}}", math.MaxInt32)},
		{"foo.bar", "baz.{{partition(10, 7)}}"}, // literal source: indexes ignored
		{"foo.*", "foo.{{split(1,a.b)}}"},       // two plain tokens, oddly named
	} {
		if _, err := NewTransform(c.src, c.dest); err != nil {
			t.Errorf("NewTransform(%q, %q): %v", c.src, c.dest, err)
		}
	}
}

func TestFunctionNameCase(t *testing.T) {
	for name, ok := range map[string]bool{
		"splitFromLeft": true, "SplitFromLeft": true, "splitfromleft": true, "SPLITFROMLEFT": false,
		"sPlitFromLeft": false, "Partition": true, "partition": true, "pArtition": false,
		"sliceFromRight": true, "SlicefromRight": true, "Random": true, "Left": true, "RIGHT": false,
		"wildcard": true, "WildCard": false, "Split": true, "splitleft": false,
	} {
		if _, got := lookupFn(name); got != ok {
			t.Errorf("lookupFn(%q) = %v, want %v", name, got, ok)
		}
	}
}

func TestTransformAppendKeepsPrefix(t *testing.T) {
	tr, _ := NewTransform("a.*.*", "b.$2.{{partition(4,1)}}.$1")
	buf := []byte("keep:")
	out, ok := tr.Append(buf, []byte("a.x.y"))
	if want := "keep:" + mustApply(t, tr, "a.x.y"); !ok || string(out) != want {
		t.Fatalf("Append = %q, %v", out, ok)
	}
	out, ok = tr.Append(buf, []byte("nope"))
	if ok || string(out) != "keep:" {
		t.Fatalf("Append on no match = %q, %v", out, ok)
	}
}

func mustApply(t *testing.T, tr *Transform, subj string) string {
	t.Helper()
	s, ok := tr.Apply(subj)
	if !ok {
		t.Fatalf("%q did not match %q", subj, tr.Source())
	}
	return s
}

func TestTransformLongSource(t *testing.T) {
	src := strings.Repeat("*.", 40) + "end"
	subj := make([]string, 41)
	for i := range 40 {
		subj[i] = fmt.Sprint("t", i)
	}
	subj[40] = "end"
	tr, err := NewTransform(src, "x.$40.$1.{{partition(3,40)}}")
	if err != nil {
		t.Fatal(err)
	}
	if got := mustApply(t, tr, strings.Join(subj, ".")); !strings.HasPrefix(got, "x.t39.t0.") {
		t.Fatalf("got %q", got)
	}
}

func TestTransformAllocs(t *testing.T) {
	tr, _ := NewTransform("orders.*.*", "o.{{partition(16,1)}}.$2.{{SliceFromLeft(1,3)}}.{{split(2,-)}}")
	subj := []byte("orders.customer42.a-b-c")
	buf := make([]byte, 0, 128)
	if n := testing.AllocsPerRun(100, func() { buf, _ = tr.Append(buf[:0], subj) }); n != 0 {
		t.Fatalf("Append allocates %v times", n)
	}
}
