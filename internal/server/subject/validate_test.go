package subject

import "testing"

func TestValidSubject(t *testing.T) {
	tests := []struct {
		subject        string
		valid, literal bool
	}{
		{"foo", true, true},
		{"foo.bar", true, true},
		{"foo.bar.baz", true, true},
		{"$JS.API.INFO", true, true},
		{"_INBOX.abc123.1", true, true},
		{"*", true, false},
		{">", true, false},
		{"foo.*", true, false},
		{"foo.>", true, false},
		{"*.bar.>", true, false},
		{"foo.*.baz", true, false},
		{"foo*.bar", true, true},   // wildcard only as a whole token
		{"foo.>bar", true, true},   // likewise
		{"foo.b>r.*x", true, true}, // likewise
		{"**", true, true},
		{">>", true, true},
		{"", false, false},
		{".", false, false},
		{"..", false, false},
		{".foo", false, false},
		{"foo.", false, false},
		{"foo..bar", false, false},
		{"foo.>.bar", false, false},
		{">.foo", false, false},
		{">.>", false, false},
		{"foo bar", false, false},
		{"foo\tbar", false, false},
		{"foo\rbar", false, false},
		{"foo\nbar", false, false},
		{"foo\fbar", false, false},
		{"foo. .bar", false, false},
		{" ", false, false},
		{"foo.*.>", true, false},
		{"ünïcödé.subject", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.subject, func(t *testing.T) {
			if got := ValidSubject(tt.subject); got != tt.valid {
				t.Errorf("ValidSubject(%q) = %v, want %v", tt.subject, got, tt.valid)
			}
			if got := ValidLiteral(tt.subject); got != tt.literal {
				t.Errorf("ValidLiteral(%q) = %v, want %v", tt.subject, got, tt.literal)
			}
		})
	}
}

func TestValidQueue(t *testing.T) {
	tests := []struct {
		queue string
		want  bool
	}{
		{"q", true},
		{"q.x", true},
		{"workers-1", true},
		{"*", true},
		{"", false},
		{"a b", false},
		{"a\tb", false},
		{"a\r\n", false},
		{"\f", false},
	}
	for _, tt := range tests {
		if got := ValidQueue(tt.queue); got != tt.want {
			t.Errorf("ValidQueue(%q) = %v, want %v", tt.queue, got, tt.want)
		}
	}
}

func TestIsLiteral(t *testing.T) {
	tests := []struct {
		subject string
		want    bool
	}{
		{"foo", true},
		{"foo.bar", true},
		{"foo*.bar", true},
		{"foo.*bar", true},
		{"f>.bar", true},
		{"", true},
		{"*", false},
		{">", false},
		{"foo.*", false},
		{"*.foo", false},
		{"foo.*.bar", false},
		{"foo.>", false},
	}
	for _, tt := range tests {
		if got := IsLiteral(tt.subject); got != tt.want {
			t.Errorf("IsLiteral(%q) = %v, want %v", tt.subject, got, tt.want)
		}
	}
}

func TestMatches(t *testing.T) {
	tests := []struct {
		literal, pattern string
		want             bool
	}{
		{"foo", "foo", true},
		{"foo", "bar", false},
		{"foo.bar", "foo.bar", true},
		{"foo.bar", "foo", false},
		{"foo", "foo.bar", false},
		{"foo", "*", true},
		{"foo.bar", "*", false},
		{"foo.bar", "foo.*", true},
		{"foo.bar", "*.bar", true},
		{"foo.bar", "*.*", true},
		{"foo.bar.baz", "foo.*", false},
		{"foo.bar.baz", "foo.*.baz", true},
		{"foo.bar.baz", "foo.*.bax", false},
		{"foo", ">", true},
		{"foo.bar.baz", ">", true},
		{"foo", "foo.>", false}, // '>' needs at least one token
		{"foo.bar", "foo.>", true},
		{"foo.bar.baz", "foo.>", true},
		{"foo.bar.baz", "*.>", true},
		{"foo", "*.>", false},
		{"foo.bar.baz", "*.bar.>", true},
		{"foo.baz.bar", "*.bar.>", false},
		{"foo.bar", "foo*.bar", false}, // literal pattern token
		{"foo*.bar", "foo*.bar", true},
		{"foo.*", "foo.*", true}, // wildcard in a published subject is a plain token
		{"foo.*", "foo.>", true},
		{"foo.*", "foo.bar", false},
		{"foo.>", "foo.*", true},
		{"foo..bar", "foo.*.bar", false}, // malformed literal
		{"foo..bar", ">", false},
		{"", ">", false},
		{".foo", ">", false},
		{"foo.", "foo.>", false},
		{"foo", "", false},
		{"foo.bar", "foo..bar", false},
		{"foo.x.bar", "foo.>.bar", false}, // invalid pattern
	}
	for _, tt := range tests {
		if got := Matches(tt.literal, tt.pattern); got != tt.want {
			t.Errorf("Matches(%q, %q) = %v, want %v", tt.literal, tt.pattern, got, tt.want)
		}
	}
}

func TestSubsetOf(t *testing.T) {
	tests := []struct {
		sub, super string
		want       bool
	}{
		{"foo", "foo", true},
		{"foo", "bar", false},
		{"foo", "*", true},
		{"foo", ">", true},
		{"foo.bar", ">", true},
		{">", ">", true},
		{"*", ">", true},
		{">", "*", false},
		{"*", "foo", false},
		{"foo.*", "foo.*", true},
		{"foo.*", "foo.>", true},
		{"foo.>", "foo.*", false},
		{"foo.>", "foo.>", true},
		{"foo.bar.>", "foo.>", true},
		{"foo.>", "foo.bar.>", false},
		{"foo.*.baz", "foo.>", true},
		{"foo.*.baz", "*.*.baz", true},
		{"foo.*.baz", "foo.bar.baz", false},
		{"foo.bar", "foo.bar.baz", false},
		{"foo.bar.baz", "foo.bar", false},
		{"foo", "foo.>", false},
		{"*.>", ">", true},
		{">", "*.>", false},
		{"foo..bar", ">", false},
		{"foo", "foo..bar", false},
		{"", ">", false},
	}
	for _, tt := range tests {
		if got := SubsetOf(tt.sub, tt.super); got != tt.want {
			t.Errorf("SubsetOf(%q, %q) = %v, want %v", tt.sub, tt.super, got, tt.want)
		}
	}
}

func TestCollide(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"foo", "foo", true},
		{"foo", "bar", false},
		{"foo", "*", true},
		{"foo", ">", true},
		{"foo.bar", "*", false},
		{"foo.bar", "*.>", true},
		{"foo.*", "*.bar", true},
		{"foo.*", "bar.*", false},
		{"foo.>", "foo", false},
		{"foo.>", "foo.bar.baz", true},
		{"foo.*.baz", "foo.bar.*", true},
		{"foo.*.baz", "foo.bar.qux", false},
		{"*.*", "*.*.*", false},
		{"*.>", "*", false},
		{"foo..bar", ">", false},
	}
	for _, tt := range tests {
		if got := Collide(tt.a, tt.b); got != tt.want {
			t.Errorf("Collide(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := Collide(tt.b, tt.a); got != tt.want {
			t.Errorf("Collide(%q, %q) = %v, want %v (swapped)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestNumTokens(t *testing.T) {
	tests := []struct {
		s    string
		want int
	}{
		{"", 0},
		{"foo", 1},
		{"foo.bar", 2},
		{"foo.*.>", 3},
	}
	for _, tt := range tests {
		if got := NumTokens(tt.s); got != tt.want {
			t.Errorf("NumTokens(%q) = %d, want %d", tt.s, got, tt.want)
		}
	}
}
