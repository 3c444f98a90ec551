package conf

import (
	"reflect"
	"testing"
	"time"
)

// m and a shorten expected values in tables.
type m = map[string]any
type a = []any

func TestParseGrammar(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]any
	}{
		// Key/value separators.
		{"equals", "port = 4222", m{"port": int64(4222)}},
		{"colon", "port: 4222", m{"port": int64(4222)}},
		{"whitespace", "port 4222", m{"port": int64(4222)}},
		{"tab", "port\t4222", m{"port": int64(4222)}},
		{"no space", "port=4222", m{"port": int64(4222)}},
		{"separator on next line", "port\n= 4222", m{"port": int64(4222)}},
		{"value on next line without separator", "port\n4222", m{"port": int64(4222)}},
		{"empty", "", m{}},
		{"only comments", "# a\n// b\n\n", m{}},

		// Comments.
		{"hash comment", "# comment\nport: 1", m{"port": int64(1)}},
		{"slash comment", "// comment\nport: 1", m{"port": int64(1)}},
		{"comment after value", "port: 1 # one\nhost: h // h", m{"port": int64(1), "host": "h"}},
		{"hash right after digits is text", "port: 1#one", m{"port": "1#one"}},
		{"hash inside bare string", "a: b#c", m{"a": "b#c"}},
		{"slashes inside bare string", "url: nats://h:4222//x", m{"url": "nats://h:4222//x"}},
		{"hash starts a bare value", "a: #b", m{"a": "#b"}},
		{"indented comment", "  # x\n\t// y\na=1", m{"a": int64(1)}},

		// Terminators.
		{"semicolons", "a = 1; b = 2;", m{"a": int64(1), "b": int64(2)}},
		{"commas", "a = 1, b = 2", m{"a": int64(1), "b": int64(2)}},
		{"crlf", "a = 1\r\nb = two\r\n", m{"a": int64(1), "b": "two"}},
		{"stray separators", "a = 1;;\n,b = 2", m{"a": int64(1), "b": int64(2)}},
		{"later key wins", "a = 1\na = 2", m{"a": int64(2)}},

		// Keys.
		{"double-quoted key", `"a b" = 1`, m{"a b": int64(1)}},
		{"single-quoted key", `'a b': 1`, m{"a b": int64(1)}},
		{"quoted key keeps backslash", `"a\tb": 1`, m{`a\tb`: int64(1)}},
		{"key case kept", "Port: 1", m{"Port": int64(1)}},
		{"key with dots and dashes", "a.b-c_d: 1", m{"a.b-c_d": int64(1)}},
		{"key ends at brace", "a{b=1}", m{"a": m{"b": int64(1)}}},
		{"unicode key", "größe: 1", m{"größe": int64(1)}},
		{"byte order mark", "\uFEFFport: 1", m{"port": int64(1)}},

		// Strings.
		{"double-quoted", `a = "hello world"`, m{"a": "hello world"}},
		{"single-quoted", `a = 'hello world'`, m{"a": "hello world"}},
		{"empty quoted", `a = ""; b = ''`, m{"a": "", "b": ""}},
		{"escapes", `a = "t\tn\nr\rq\"b\\x\x41"`, m{"a": "t\tn\nr\rq\"b\\xA"}},
		{"single quotes are raw", `a = 'C:\path\n'`, m{"a": `C:\path\n`}},
		{"quoted multi-line", "a = \"x\ny\"", m{"a": "x\ny"}},
		{"quoted hash", `a = "#1"`, m{"a": "#1"}},
		{"quoted dollar", `a = "$X"`, m{"a": "$X"}},
		{"bare", "a = hello", m{"a": "hello"}},
		{"bare with colon and equals", "a = k=v:w", m{"a": "k=v:w"}},
		{"bare with escape", `a = x\ty`, m{"a": "x\ty"}},
		{"bare ends at quote", "a = it'", m{"a": "it"}},
		{"bare unicode", "a = héllo", m{"a": "héllo"}},
		{"bare non-breaking space kept", "a = x\u00a0y", m{"a": "x\u00a0y"}},
		{"url", "a = nats://user:pw@127.0.0.1:4222", m{"a": "nats://user:pw@127.0.0.1:4222"}},
		{"resolver URL", `resolver: URL("http://h:9090/jwt/v1/accounts/")`, m{"resolver": `URL("http://h:9090/jwt/v1/accounts/")`}},
		{"subject wildcards", "a = foo.*.>", m{"a": "foo.*.>"}},

		// Block strings.
		{"block", "a (\nline 1\nline 2\n)\n", m{"a": "\nline 1\nline 2\n"}},
		{"block with separator", "a = (\nx\n)\nb = 1", m{"a": "\nx\n", "b": int64(1)}},
		{"block keeps inner parens", "a = (\n(x)\n )\n)", m{"a": "\n(x)\n )\n"}},
		{"block at end of file", "a = (\nx\n)", m{"a": "\nx\n"}},
		{"block crlf", "a = (\r\nx\r\n)\r\n", m{"a": "\r\nx\r\n"}},
		{"block in map", "m {\n a = (\n-----BEGIN-----\n)\n}", m{"m": m{"a": "\n-----BEGIN-----\n"}}},

		// Integers and sizes.
		{"int", "a = 42", m{"a": int64(42)}},
		{"zero", "a = 0", m{"a": int64(0)}},
		{"leading zero", "a = 007", m{"a": int64(7)}},
		{"negative", "a = -1", m{"a": int64(-1)}},
		{"max int64", "a = 9223372036854775807", m{"a": int64(9223372036854775807)}},
		{"min int64", "a = -9223372036854775808", m{"a": int64(-9223372036854775808)}},
		{"k", "a = 1k", m{"a": int64(1000)}},
		{"K", "a = 1K", m{"a": int64(1000)}},
		{"kb", "a = 1kb", m{"a": int64(1024)}},
		{"KB", "a = 1KB", m{"a": int64(1024)}},
		{"Ki", "a = 1Ki", m{"a": int64(1024)}},
		{"KiB", "a = 1KiB", m{"a": int64(1024)}},
		{"m is mega", "a = 2m", m{"a": int64(2000000)}},
		{"MB", "a = 9MB", m{"a": int64(9437184)}},
		{"mib", "a = 1mib", m{"a": int64(1 << 20)}},
		{"g", "a = 1g", m{"a": int64(1e9)}},
		{"GB", "a = 4GB", m{"a": int64(4 << 30)}},
		{"gi", "a = 1gi", m{"a": int64(1 << 30)}},
		{"t", "a = 1t", m{"a": int64(1e12)}},
		{"TB", "a = 1TB", m{"a": int64(1 << 40)}},
		{"p", "a = 1p", m{"a": int64(1e15)}},
		{"PiB", "a = 1PiB", m{"a": int64(1 << 50)}},
		{"e", "a = 1e", m{"a": int64(1e18)}},
		{"EB", "a = 7EB", m{"a": int64(7 << 60)}},
		{"negative size", "a = -1k", m{"a": int64(-1000)}},
		{"size before brace", "m {a = 1k}", m{"m": m{"a": int64(1000)}}},
		{"size before comma", "a = 1k, b = 2", m{"a": int64(1000), "b": int64(2)}},

		// Strings that start with digits.
		{"duration seconds", "a = 10s", m{"a": "10s"}},
		{"duration h m", "a = 1h30m", m{"a": "1h30m"}},
		{"duration m s", "a = 1m30s", m{"a": "1m30s"}},
		{"duration ms", "a = 250ms", m{"a": "250ms"}},
		{"exponent is a string", "a = 5e7", m{"a": "5e7"}},
		{"hex is a string", "a = 0x10", m{"a": "0x10"}},
		{"underscores", "a = 1_000", m{"a": "1_000"}},
		{"ip and port", "a = 127.0.0.1:4222", m{"a": "127.0.0.1:4222"}},
		{"ip", "a = 10.0.0.1", m{"a": "10.0.0.1"}},
		{"host:port", "a = 0:4222", m{"a": "0:4222"}},
		{"size then text", "a = 1kx", m{"a": "1kx"}},
		{"size in array before bracket", "a = [1k]", m{"a": a{"1k"}}},

		// Floats.
		{"float", "a = 1.5", m{"a": 1.5}},
		{"negative float", "a = -0.25", m{"a": -0.25}},
		{"float zero", "a = 0.0", m{"a": 0.0}},

		// Booleans.
		{"true", "a = true", m{"a": true}},
		{"false", "a = false", m{"a": false}},
		{"yes", "a = yes", m{"a": true}},
		{"no", "a = no", m{"a": false}},
		{"on", "a = on", m{"a": true}},
		{"off", "a = off", m{"a": false}},
		{"upper", "a = TRUE; b = NO; c = Off", m{"a": true, "b": false, "c": false}},
		{"mixed case", "a = tRuE; b = yEs; c = oN", m{"a": true, "b": true, "c": true}},
		{"quoted bool is a string", `a = "true"; b = 'on'`, m{"a": "true", "b": "on"}},
		{"escaped bool is a string", `a = tru\x65`, m{"a": "true"}},
		{"bool prefix is a string", "a = truely", m{"a": "truely"}},

		// Datetimes.
		{"datetime", "a = 2024-01-31T12:34:56Z", m{"a": time.Date(2024, 1, 31, 12, 34, 56, 0, time.UTC)}},

		// Arrays.
		{"array", "a = [1, 2, 3]", m{"a": a{int64(1), int64(2), int64(3)}}},
		{"empty array", "a = []", m{"a": a{}}},
		{"array trailing comma", "a = [x, y,]", m{"a": a{"x", "y"}}},
		{"array newlines", "a = [\n  x\n  y\n]", m{"a": a{"x", "y"}}},
		{"array newlines and commas", "a [\n  x,\n  y,\n]", m{"a": a{"x", "y"}}},
		{"array comments", "a = [ # first\n x, // x\n y # y\n]", m{"a": a{"x", "y"}}},
		{"array mixed", `a = [1, "s", true, 1.5, -2, 1k, {b: 1}, [c]]`,
			m{"a": a{int64(1), "s", true, 1.5, int64(-2), int64(1000), m{"b": int64(1)}, a{"c"}}}},
		{"nested arrays", "a = [[1], [2, [3]]]", m{"a": a{a{int64(1)}, a{int64(2), a{int64(3)}}}}},
		{"array of maps", "a = [{x: 1}, {x: 2}]", m{"a": a{m{"x": int64(1)}, m{"x": int64(2)}}}},
		{"array of quoted", `a = ["x y", 'z']`, m{"a": a{"x y", "z"}}},

		// Maps.
		{"map", "a { b = 1 }", m{"a": m{"b": int64(1)}}},
		{"map with colon", "a: { b: 1 }", m{"a": m{"b": int64(1)}}},
		{"map with equals", "a = { b: 1 }", m{"a": m{"b": int64(1)}}},
		{"empty map", "a {}", m{"a": m{}}},
		{"map brace on next line", "a\n{\n b = 1\n}", m{"a": m{"b": int64(1)}}},
		{"map multi-line", "a {\n  b = 1\n  c: two\n}", m{"a": m{"b": int64(1), "c": "two"}}},
		{"map separators", "a { b = 1; c = 2, d = 3 }", m{"a": m{"b": int64(1), "c": int64(2), "d": int64(3)}}},
		{"map trailing comma", "a { b = 1, }", m{"a": m{"b": int64(1)}}},
		{"map value on next line", "a {\n b =\n  1\n}", m{"a": m{"b": int64(1)}}},
		{"map comments", "a { # c\n b = 1 # d\n // e\n}", m{"a": m{"b": int64(1)}}},
		{"map quoted keys", `a { "x y": 1, 'z': 2 }`, m{"a": m{"x y": int64(1), "z": int64(2)}}},
		{"nested maps", "a { b { c { d = 1 } } }", m{"a": m{"b": m{"c": m{"d": int64(1)}}}}},
		{"map then entry", "a { b = 1 }\nc = 2", m{"a": m{"b": int64(1)}, "c": int64(2)}},
		{"map then comma", "a { b = 1 }, c = 2", m{"a": m{"b": int64(1)}, "c": int64(2)}},

		// The whole file in braces (JSON style).
		{"top braces", "{ port: 4222 }", m{"port": int64(4222)}},
		{"top braces multi-line", "{\n  port: 4222\n  debug: true\n}\n", m{"port": int64(4222), "debug": true}},
		{"json", `{"port": 4222, "cluster": {"routes": ["nats://a:6222"], "port": 6222}, "list": [1, 2]}`,
			m{"port": int64(4222), "cluster": m{"routes": a{"nats://a:6222"}, "port": int64(6222)}, "list": a{int64(1), int64(2)}}},
		{"stray closing brace", "a {\n b = 1\n}\n}\n", m{"a": m{"b": int64(1)}}},

		// Variables from blocks.
		{"top-level variable", "TOKEN: abc\nauth { token: $TOKEN }", m{"TOKEN": "abc", "auth": m{"token": "abc"}}},
		{"variable in same map", "a { x = 1; y = $x }", m{"a": m{"x": int64(1), "y": int64(1)}}},
		{"inner shadows outer", "x = 1\na { x = 2; y = $x }\nz = $x",
			m{"x": int64(1), "a": m{"x": int64(2), "y": int64(2)}, "z": int64(1)}},
		{"variable in array", "x = 1\na = [$x, $x]", m{"x": int64(1), "a": a{int64(1), int64(1)}}},
		{"variable holds a map", "p = {sub: x}\nu = {perms: $p}", m{"p": m{"sub": "x"}, "u": m{"perms": m{"sub": "x"}}}},
		{"variable of variable", "a = 1\nb = $a\nc = $b", m{"a": int64(1), "b": int64(1), "c": int64(1)}},
		{"variable redefined", "a = 1\nb = $a\na = 2\nc = $a", m{"a": int64(2), "b": int64(1), "c": int64(2)}},
		{"variable case matters", "a = 1\nA = 2\nb = $A", m{"a": int64(1), "A": int64(2), "b": int64(2)}},
		{"variable inside map inside array", "x = 1\na = [{y: $x}]", m{"x": int64(1), "a": a{m{"y": int64(1)}}}},

		// Bcrypt hashes are strings.
		{"bcrypt 2a", "pass: $2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG",
			m{"pass": "$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG"}},
		{"bcrypt 2b", "pass: $2b$10$abc", m{"pass": "$2b$10$abc"}},
		{"bcrypt 2y", "pass: $2y$10$abc", m{"pass": "$2y$10$abc"}},

		// "include:" with a separator is an ordinary key.
		{"include as a key", "include: foo", m{"include": "foo"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Parse(%q)\n got  %#v\n want %#v", tc.in, got, tc.want)
			}
			// The position-aware parse must agree once unwrapped.
			pos, err := ParseWithPositions(tc.in)
			if err != nil {
				t.Fatalf("ParseWithPositions(%q): %v", tc.in, err)
			}
			if u := UnwrapMap(pos); !reflect.DeepEqual(u, tc.want) {
				t.Fatalf("UnwrapMap(ParseWithPositions(%q))\n got  %#v\n want %#v", tc.in, u, tc.want)
			}
		})
	}
}

// TestDurationsAreNotNumbers pins the trap the option layer must know
// about: some durations lex as sizes.
func TestDurationsAreNotNumbers(t *testing.T) {
	got, err := Parse("a = 2m\nb = \"2m\"\nc = 10s\nd = 1h\ne = 30")
	if err != nil {
		t.Fatal(err)
	}
	want := m{"a": int64(2000000), "b": "2m", "c": "10s", "d": "1h", "e": int64(30)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
}
