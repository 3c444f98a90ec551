package protocol

import (
	"strings"
	"testing"
)

// errClass names the kind of a Parse error for comparing runs.
func errClass(t *testing.T, err error) string {
	t.Helper()
	switch err {
	case nil:
		return "nil"
	case ErrUnknownOp, ErrMaxControlLine, ErrMaxPayload, ErrBadArgs, errFail:
		return err.Error()
	}
	t.Fatalf("unexpected error %v", err)
	return ""
}

// FuzzParser checks that no input panics and that parsing a stream whole,
// split in two, or one byte at a time makes the same calls and fails the
// same way.
func FuzzParser(f *testing.F) {
	for _, tt := range opTests {
		f.Add([]byte(tt.in), uint16(len(tt.in)/2), uint8(0), uint8(0))
	}
	for _, tt := range errorTests {
		f.Add([]byte(tt.in), uint16(len(tt.in)/3), uint8(tt.mcl), uint8(tt.mpay))
	}
	f.Add([]byte("PUB foo 5\r\nhello\r\nPUB foo bar 6\r\nhello!\r\n"), uint16(15), uint8(8), uint8(5))
	f.Add([]byte("SUB a 1\r\nSUB a q 2\r\nUNSUB 1\r\nPING\r\n"), uint16(7), uint8(4), uint8(0))

	f.Fuzz(func(t *testing.T, data []byte, split uint16, mcl, mpay uint8) {
		k := int(split) % (len(data) + 1)
		wantCalls, wantErr := parseChunks(int(mcl), int(mpay), data)
		want := strings.Join(wantCalls, "\n")
		wantClass := errClass(t, wantErr)

		runs := map[string][][]byte{"split": {data[:k], data[k:]}}
		var bytewise [][]byte
		for i := range data {
			bytewise = append(bytewise, data[i:i+1])
		}
		runs["byte by byte"] = bytewise
		for how, chunks := range runs {
			calls, err := parseChunks(int(mcl), int(mpay), chunks...)
			if got := strings.Join(calls, "\n"); got != want {
				t.Fatalf("%s (k=%d): calls\n%s\nwhole\n%s", how, k, got, want)
			}
			if class := errClass(t, err); class != wantClass {
				t.Fatalf("%s (k=%d): error %s, whole %s", how, k, class, wantClass)
			}
		}
	})
}
