package conf

import (
	"reflect"
	"testing"
)

func TestEnvironmentVariables(t *testing.T) {
	t.Setenv("SLUICE_T_PORT", "4444")
	t.Setenv("SLUICE_T_NAME", "node-1")
	t.Setenv("SLUICE_T_QUOTED", `"hello world"`)
	t.Setenv("SLUICE_T_BOOL", "yes")
	t.Setenv("SLUICE_T_SIZE", "1MB")
	t.Setenv("SLUICE_T_FLOAT", "0.5")
	t.Setenv("SLUICE_T_LIST", "[a, b]")
	t.Setenv("SLUICE_T_MAP", "{user: u, password: p}")
	t.Setenv("SLUICE_T_EMPTY", "")
	t.Setenv("SLUICE_T_PADDED", "  7  ")
	t.Setenv("SLUICE_T_INDIRECT", "$SLUICE_T_PORT")
	t.Setenv("SLUICE_T_BCRYPT", "$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG")
	t.Setenv("SLUICE_T_SHADOWED", "from-env")

	tests := []struct {
		name string
		in   string
		want map[string]any
	}{
		{"integer", "port: $SLUICE_T_PORT", m{"port": int64(4444)}},
		{"string", "name: $SLUICE_T_NAME", m{"name": "node-1"}},
		{"quoted string", "s: $SLUICE_T_QUOTED", m{"s": "hello world"}},
		{"bool", "b: $SLUICE_T_BOOL", m{"b": true}},
		{"size", "max_payload: $SLUICE_T_SIZE", m{"max_payload": int64(1 << 20)}},
		{"float", "f: $SLUICE_T_FLOAT", m{"f": 0.5}},
		{"array", "l: $SLUICE_T_LIST", m{"l": a{"a", "b"}}},
		{"map", "u: $SLUICE_T_MAP", m{"u": m{"user": "u", "password": "p"}}},
		{"empty", "e: $SLUICE_T_EMPTY", m{"e": ""}},
		{"padded", "p: $SLUICE_T_PADDED", m{"p": int64(7)}},
		{"variable in the environment", "i: $SLUICE_T_INDIRECT", m{"i": int64(4444)}},
		{"bcrypt in the environment", "pw: $SLUICE_T_BCRYPT", m{"pw": "$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG"}},
		{"in a block", "cluster { port: $SLUICE_T_PORT }", m{"cluster": m{"port": int64(4444)}}},
		{"in an array", "a: [$SLUICE_T_NAME, x]", m{"a": a{"node-1", "x"}}},
		{"config key shadows the environment", "SLUICE_T_SHADOWED: conf\nv: $SLUICE_T_SHADOWED",
			m{"SLUICE_T_SHADOWED": "conf", "v": "conf"}},
		{"environment used before the key is set", "v: $SLUICE_T_SHADOWED\nSLUICE_T_SHADOWED: conf",
			m{"SLUICE_T_SHADOWED": "conf", "v": "from-env"}},
		{"quoted reference is text", `v: "$SLUICE_T_PORT"`, m{"v": "$SLUICE_T_PORT"}},
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
		})
	}
}

func TestEnvironmentVariableErrors(t *testing.T) {
	t.Setenv("SLUICE_T_SPACES", "two words")
	t.Setenv("SLUICE_T_BAD", `"open`)
	t.Setenv("SLUICE_T_SELF", "$SLUICE_T_SELF")
	t.Setenv("SLUICE_T_A", "$SLUICE_T_B")
	t.Setenv("SLUICE_T_B", "$SLUICE_T_A")
	t.Setenv("SLUICE_T_NL", "\nx")
	// The environment does not see the configuration's keys.
	t.Setenv("SLUICE_T_USES_KEY", "$SLUICE_T_KEY_ONLY")

	tests := []struct {
		name string
		in   string
		want string
	}{
		{"two words", "a: 1\nb: $SLUICE_T_SPACES",
			`2:4: cannot use environment variable SLUICE_T_SPACES="two words" as a value: at column 5: expected a single value, found 'w' after it (quote the value to make it one string)`},
		{"syntax error", "a: $SLUICE_T_BAD",
			`1:4: cannot use environment variable SLUICE_T_BAD="\"open" as a value: at column 1: unterminated string: expected a closing '"' before end of file`},
		{"new line", "a: $SLUICE_T_NL",
			`1:4: cannot use environment variable SLUICE_T_NL="\nx" as a value: at column 1: expected a value for '$SLUICE_T_NL', found end of line`},
		{"self reference", "a: $SLUICE_T_SELF",
			`1:4: cannot use environment variable SLUICE_T_SELF="$SLUICE_T_SELF" as a value: at column 1: variable reference cycle: $SLUICE_T_SELF -> $SLUICE_T_SELF`},
		{"cycle", "a: $SLUICE_T_A",
			`1:4: cannot use environment variable SLUICE_T_A="$SLUICE_T_B" as a value: at column 1: cannot use environment variable SLUICE_T_B="$SLUICE_T_A" as a value: at column 1: variable reference cycle: $SLUICE_T_A -> $SLUICE_T_B -> $SLUICE_T_A`},
		{"environment cannot see keys", "SLUICE_T_KEY_ONLY: 1\na: $SLUICE_T_USES_KEY",
			`2:4: cannot use environment variable SLUICE_T_USES_KEY="$SLUICE_T_KEY_ONLY" as a value: at column 1: undefined variable '$SLUICE_T_KEY_ONLY': no key "SLUICE_T_KEY_ONLY" is set earlier in this or an enclosing block, and there is no environment variable SLUICE_T_KEY_ONLY`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.in)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("Parse(%q) error\n got  %v\n want %s", tc.in, err, tc.want)
			}
		})
	}
}
