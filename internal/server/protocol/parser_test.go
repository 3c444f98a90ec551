package protocol

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unsafe"
)

// errFail is returned by recorder for any operation naming "fail", to
// check that handler errors stop parsing and come back unchanged.
var errFail = errors.New("handler failed")

// errBadHeaderLen flags an HPUB whose header length does not fit its
// message; tests and the fuzz target treat it as a parser bug.
var errBadHeaderLen = errors.New("header length out of range")

// recorder is a Handler that logs every call as a string.
type recorder struct {
	calls []string
	// p, when set, gets AwaitConnect cleared by CONNECT.
	p *Parser
}

var _ Handler = (*recorder)(nil)

func (r *recorder) add(fail bool, format string, args ...any) error {
	r.calls = append(r.calls, fmt.Sprintf(format, args...))
	if fail {
		return errFail
	}
	return nil
}

func (r *recorder) ProcessConnect(arg []byte) error {
	if r.p != nil {
		r.p.AwaitConnect = false
	}
	return r.add(string(arg) == "fail", "CONNECT %q", arg)
}

func (r *recorder) ProcessPub(subject, reply, payload []byte) error {
	return r.add(string(subject) == "fail", "PUB %q %q %q", subject, reply, payload)
}

func (r *recorder) ProcessHPub(subject, reply []byte, hdrLen int, msg []byte) error {
	if hdrLen < 0 || hdrLen > len(msg) {
		r.add(false, "HPUB bad header length %d of %d", hdrLen, len(msg))
		return errBadHeaderLen
	}
	return r.add(string(subject) == "fail", "HPUB %q %q %q %q", subject, reply, msg[:hdrLen], msg[hdrLen:])
}

func (r *recorder) ProcessSub(subject, queue, sid []byte) error {
	return r.add(string(subject) == "fail", "SUB %q %q %q", subject, queue, sid)
}

func (r *recorder) ProcessUnsub(sid []byte, max int64) error {
	return r.add(string(sid) == "fail", "UNSUB %q %d", sid, max)
}

func (r *recorder) ProcessPing() error           { return r.add(false, "PING") }
func (r *recorder) ProcessPong() error           { return r.add(false, "PONG") }
func (r *recorder) ProcessOK() error             { return r.add(false, "OK") }
func (r *recorder) ProcessInfo(arg []byte) error { return r.add(false, "INFO %q", arg) }
func (r *recorder) ProcessErr(arg []byte) error {
	return r.add(string(arg) == "fail", "ERR %q", arg)
}

// parseChunks feeds chunks to a fresh parser, each from its own buffer
// that is overwritten after Parse returns, so a slice of an earlier read
// kept by the parser shows up as garbage.
func parseChunks(mcl, mpay int, chunks ...[]byte) ([]string, error) {
	r := &recorder{}
	p := NewParser(r, mcl, mpay)
	for _, c := range chunks {
		buf := append([]byte(nil), c...)
		err := p.Parse(buf)
		for i := range buf {
			buf[i] = '#'
		}
		if err != nil {
			return r.calls, err
		}
	}
	return r.calls, nil
}

// checkAllSplits parses in whole, split in two at every index, and one
// byte at a time; every way must give the same calls and error.
func checkAllSplits(t *testing.T, in string, mcl, mpay int, want []string, wantErr error) {
	t.Helper()
	check := func(how string, got []string, err error) {
		t.Helper()
		if err != wantErr {
			t.Fatalf("%s: error = %v, want %v", how, err, wantErr)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("%s: calls\n%s\nwant\n%s", how, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	b := []byte(in)
	got, err := parseChunks(mcl, mpay, b)
	check("whole", got, err)
	for k := 0; k <= len(b); k++ {
		got, err := parseChunks(mcl, mpay, b[:k], b[k:])
		check(fmt.Sprintf("split at %d", k), got, err)
	}
	bytewise := make([][]byte, len(b))
	for i := range b {
		bytewise[i] = b[i : i+1]
	}
	got, err = parseChunks(mcl, mpay, bytewise...)
	check("byte by byte", got, err)
}

// opTests are valid streams and the calls they produce.
var opTests = []struct {
	name string
	in   string
	want []string
}{
	{"connect", "CONNECT {\"verbose\":false}\r\n", []string{`CONNECT "{\"verbose\":false}"`}},
	{"connect lower, bare LF", "connect {}\n", []string{`CONNECT "{}"`}},
	{"connect no blank", "CONNECT{}\r\n", []string{`CONNECT "{}"`}},
	{"connect tabs and spaces", "Connect \t  {} \r\n", []string{`CONNECT "{} "`}},
	{"connect empty", "CONNECT\r\n", []string{`CONNECT ""`}},
	{"pub", "PUB foo 5\r\nhello\r\n", []string{`PUB "foo" "" "hello"`}},
	{"pub reply", "PUB foo bar 5\r\nhello\r\n", []string{`PUB "foo" "bar" "hello"`}},
	{"pub tabs", "pub\tfoo\t\t5\r\nhello\r\n", []string{`PUB "foo" "" "hello"`}},
	{"pub many blanks", "Pub  foo \t bar   5  \r\nhello\r\n", []string{`PUB "foo" "bar" "hello"`}},
	{"pub bare LF", "PUB foo 5\nhello\r\n", []string{`PUB "foo" "" "hello"`}},
	{"pub payload with CRLF", "PUB foo 6\r\na\r\nb\r\n\r\n", []string{`PUB "foo" "" "a\r\nb\r\n"`}},
	{"pub payload looks like ops", "PUB foo 12\r\nPING\r\nPONG\r\n\r\n", []string{`PUB "foo" "" "PING\r\nPONG\r\n"`}},
	{"pub zero", "PUB foo 0\r\n\r\n", []string{`PUB "foo" "" ""`}},
	{"pub zero reply", "PUB foo r 0\r\n\r\nPING\r\n", []string{`PUB "foo" "r" ""`, "PING"}},
	{"pub leading zeros", "PUB foo 005\r\nhello\r\n", []string{`PUB "foo" "" "hello"`}},
	{"hpub", "HPUB foo 12 17\r\nNATS/1.0\r\n\r\nhello\r\n", []string{`HPUB "foo" "" "NATS/1.0\r\n\r\n" "hello"`}},
	{"hpub reply", "hpub foo r 12 12\r\nNATS/1.0\r\n\r\n\r\n", []string{`HPUB "foo" "r" "NATS/1.0\r\n\r\n" ""`}},
	{"hpub zero", "HPUB foo 0 0\r\n\r\n", []string{`HPUB "foo" "" "" ""`}},
	{"hpub tabs", "HPub\tfoo\t\t2  3\r\nabc\r\n", []string{`HPUB "foo" "" "ab" "c"`}},
	{"sub", "SUB foo 1\r\n", []string{`SUB "foo" "" "1"`}},
	{"mixed case", "pUb a 1\r\nx\r\nSuB a 1\r\nhPuB a 0 0\r\n\r\npInG\r\nPoNG\r\ncOnNeCt {}\r\nUnSuB 1\r\niNfO {}\r\n+oK\r\n-eRr x\r\n",
		[]string{`PUB "a" "" "x"`, `SUB "a" "" "1"`, `HPUB "a" "" "" ""`, "PING", "PONG", `CONNECT "{}"`, `UNSUB "1" 0`, `INFO "{}"`, "OK", `ERR "x"`}},
	{"sub queue", "SUB foo q 1\r\n", []string{`SUB "foo" "q" "1"`}},
	{"sub lower bare LF", "sub foo.* 22\n", []string{`SUB "foo.*" "" "22"`}},
	{"sub blanks", "SuB \t foo\t \tbar  x  \r\n", []string{`SUB "foo" "bar" "x"`}},
	{"unsub", "UNSUB 1\r\n", []string{`UNSUB "1" 0`}},
	{"unsub max", "UNSUB 1 10\r\n", []string{`UNSUB "1" 10`}},
	{"unsub tabs", "unsub\t1\t5\n", []string{`UNSUB "1" 5`}},
	// nats-server reads an unparsable max as "remove now".
	{"unsub bad max", "UNSUB 1 x\r\n", []string{`UNSUB "1" 0`}},
	{"unsub negative max", "UNSUB 1 -5\r\n", []string{`UNSUB "1" 0`}},
	{"ping", "PING\r\n", []string{"PING"}},
	{"ping lower bare LF", "ping\n", []string{"PING"}},
	{"pong", "PoNg\r\n", []string{"PONG"}},
	// nats-server ignores anything between PING/PONG/+OK and the newline.
	{"ping trailing", "PINGX\r\nPING foo\r\n", []string{"PING", "PING"}},
	{"pong trailing", "PONG \r\n", []string{"PONG"}},
	{"info", "INFO {\"a\":1}\r\n", []string{`INFO "{\"a\":1}"`}},
	{"info lower", "info {}\n", []string{`INFO "{}"`}},
	{"ok", "+OK\r\n", []string{"OK"}},
	{"ok lower", "+ok\n", []string{"OK"}},
	{"err", "-ERR 'Unknown Protocol Operation'\r\n", []string{`ERR "'Unknown Protocol Operation'"`}},
	{"err lower tab", "-err\t'x'\n", []string{`ERR "'x'"`}},
	{"err empty", "-ERR \r\n", []string{`ERR ""`}},
	{"stream", "CONNECT {}\r\nPING\r\nSUB foo 1\r\nPUB foo r 2\r\nhi\r\nHPUB foo 12 12\r\nNATS/1.0\r\n\r\n\r\nUNSUB 1 3\r\nPONG\r\n+OK\r\n",
		[]string{`CONNECT "{}"`, "PING", `SUB "foo" "" "1"`, `PUB "foo" "r" "hi"`, `HPUB "foo" "" "NATS/1.0\r\n\r\n" ""`, `UNSUB "1" 3`, "PONG", "OK"}},
}

func TestParseOps(t *testing.T) {
	tests := opTests
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkAllSplits(t, tt.in, 4096, 1<<20, tt.want, nil)
		})
	}
}

// errorTests are streams that fail, with the calls made before.
var errorTests = []struct {
	name    string
	in      string
	mcl     int
	mpay    int
	want    []string
	wantErr error
}{
	// Unknown operations.
	{"garbage", "XYZ\r\n", 0, 0, nil, ErrUnknownOp},
	{"empty line", "\r\n", 0, 0, nil, ErrUnknownOp},
	{"bare LF", "\n", 0, 0, nil, ErrUnknownOp},
	{"leading blank", " PING\r\n", 0, 0, nil, ErrUnknownOp},
	{"pub no args", "PUB\r\n", 0, 0, nil, ErrUnknownOp},
	{"pub bare LF no args", "PUB\n", 0, 0, nil, ErrUnknownOp},
	{"pubx", "PUBX foo 1\r\n", 0, 0, nil, ErrUnknownOp},
	{"split ping", "PI NG\r\n", 0, 0, nil, ErrUnknownOp},
	{"pinf", "PINF\r\n", 0, 0, nil, ErrUnknownOp},
	{"p", "P\r\n", 0, 0, nil, ErrUnknownOp},
	{"unsub no args", "UNSUB\r\n", 0, 0, nil, ErrUnknownOp},
	{"sub no args", "SUB\r\n", 0, 0, nil, ErrUnknownOp},
	{"hpub no args", "HPUB\r\n", 0, 0, nil, ErrUnknownOp},
	{"err no blank", "-ERR\r\n", 0, 0, nil, ErrUnknownOp},
	{"plus other", "+OX\r\n", 0, 0, nil, ErrUnknownOp},
	{"msg", "MSG foo 1 5\r\nhello\r\n", 0, 0, nil, ErrUnknownOp},
	{"hmsg", "HMSG foo 1 12 12\r\n", 0, 0, nil, ErrUnknownOp},
	{"rmsg", "RMSG $G foo 5\r\n", 0, 0, nil, ErrUnknownOp},
	{"rs+", "RS+ $G foo\r\n", 0, 0, nil, ErrUnknownOp},
	{"ls+", "LS+ $G foo\r\n", 0, 0, nil, ErrUnknownOp},
	{"a+", "A+ foo\r\n", 0, 0, nil, ErrUnknownOp},
	{"lmsg", "LMSG foo 5\r\n", 0, 0, nil, ErrUnknownOp},
	{"after good op", "PING\r\nBAD\r\n", 0, 0, []string{"PING"}, ErrUnknownOp},
	{"pub NUL not a blank", "PUB\x00foo 1\r\nx\r\n", 0, 0, nil, ErrUnknownOp},
	{"sub NUL not a blank", "SUB\x00foo 1\r\n", 0, 0, nil, ErrUnknownOp},
	{"hpubx", "HPUBX foo 0 0\r\n", 0, 0, nil, ErrUnknownOp},
	{"pubs", "PUBS foo 1\r\n", 0, 0, nil, ErrUnknownOp},
	{"connect misspelt", "CONECT {}\r\n", 0, 0, nil, ErrUnknownOp},
	{"info misspelt", "INF0 {}\r\n", 0, 0, nil, ErrUnknownOp},
	{"unsub misspelt", "UNSUV 1\r\n", 0, 0, nil, ErrUnknownOp},

	// Bad payload terminators.
	{"payload too long", "PUB foo 5\r\nhelloX\r\n", 0, 0, nil, ErrUnknownOp},
	{"payload bare LF", "PUB foo 5\r\nhello\n", 0, 0, nil, ErrUnknownOp},
	{"payload CR then junk", "PUB foo 5\r\nhello\rX", 0, 0, nil, ErrUnknownOp},
	{"payload too short", "PUB foo 5\r\nhi\r\nPING\r\n", 0, 0, nil, ErrUnknownOp},
	{"hpub terminator", "HPUB foo 0 1\r\nab\r\n", 0, 0, nil, ErrUnknownOp},

	// Bad arguments.
	{"pub one arg", "PUB foo\r\n", 0, 0, nil, ErrBadArgs},
	{"pub blank only", "PUB \r\n", 0, 0, nil, ErrBadArgs},
	{"pub four args", "PUB foo bar baz 5\r\n", 0, 0, nil, ErrBadArgs},
	{"pub five args", "PUB a b c d e\r\n", 0, 0, nil, ErrBadArgs},
	{"pub negative", "PUB foo -1\r\n", 0, 0, nil, ErrBadArgs},
	{"pub not a number", "PUB foo x\r\n", 0, 0, nil, ErrBadArgs},
	{"pub size with junk", "PUB foo 5x\r\n", 0, 0, nil, ErrBadArgs},
	{"pub plus sign", "PUB foo +5\r\n", 0, 0, nil, ErrBadArgs},
	{"pub ten digits", "PUB foo 1234567890\r\n", 0, 0, nil, ErrBadArgs},
	{"hpub two args", "HPUB foo 5\r\n", 0, 0, nil, ErrBadArgs},
	{"hpub five args", "HPUB a b c d e\r\n", 0, 0, nil, ErrBadArgs},
	{"hpub header over total", "HPUB foo 6 5\r\n", 0, 0, nil, ErrBadArgs},
	{"hpub bad header", "HPUB foo x 5\r\n", 0, 0, nil, ErrBadArgs},
	{"hpub negative header", "HPUB foo -1 5\r\n", 0, 0, nil, ErrBadArgs},
	{"hpub bad total", "HPUB foo 1 y\r\n", 0, 0, nil, ErrBadArgs},
	{"sub one arg", "SUB foo\r\n", 0, 0, nil, ErrBadArgs},
	{"sub four args", "SUB a b c d\r\n", 0, 0, nil, ErrBadArgs},
	{"sub blank only", "SUB  \r\n", 0, 0, nil, ErrBadArgs},
	{"unsub blank only", "UNSUB \r\n", 0, 0, nil, ErrBadArgs},
	{"unsub three args", "UNSUB 1 2 3\r\n", 0, 0, nil, ErrBadArgs},

	// Max payload: checked on the control line, payload never read.
	{"max payload equal", "PUB foo 5\r\nhello\r\n", 0, 5, []string{`PUB "foo" "" "hello"`}, nil},
	{"max payload over", "PUB foo 6\r\n", 0, 5, nil, ErrMaxPayload},
	{"max payload over with body", "PUB foo 6\r\nhello!\r\n", 0, 5, nil, ErrMaxPayload},
	{"hpub max payload equal", "HPUB foo 2 5\r\nhello\r\n", 0, 5, []string{`HPUB "foo" "" "he" "llo"`}, nil},
	{"hpub max payload over", "HPUB foo 2 6\r\n", 0, 5, nil, ErrMaxPayload},
	{"bad args before max payload", "HPUB foo 7 6\r\n", 0, 5, nil, ErrBadArgs},
	{"no payload limit", "PUB foo 10\r\n0123456789\r\n", 0, -1, []string{`PUB "foo" "" "0123456789"`}, nil},

	// Max control line: the argument part, without the CR.
	{"control line equal", "SUB foo 123456\r\n", 10, 0, []string{`SUB "foo" "" "123456"`}, nil},
	{"control line over", "SUB foo 1234567\r\n", 10, 0, nil, ErrMaxControlLine},
	{"control line over bare LF", "SUB foo 1234567\n", 10, 0, nil, ErrMaxControlLine},
	{"control line over no newline", "SUB foo 1234567890", 10, 0, nil, ErrMaxControlLine},
	{"control line excludes blanks after op", "SUB     foo 123456\r\n", 10, 0, []string{`SUB "foo" "" "123456"`}, nil},
	{"pub control line equal", "PUB foo 5\r\nhello\r\n", 5, 0, []string{`PUB "foo" "" "hello"`}, nil},
	{"pub control line over", "PUB foo 10\r\n", 5, 0, nil, ErrMaxControlLine},
	{"connect control line over", "CONNECT {\"verbose\":false}\r\n", 10, 0, nil, ErrMaxControlLine},
	{"ping trailing past the limit", "PINGxxxxx\r\n", 4, 0, []string{"PING"}, nil},
	{"ping trailing equal", "PINGxxxx\r\n", 4, 0, []string{"PING"}, nil},
	{"no control line limit", "SUB " + strings.Repeat("a", 5000) + " 1\r\n", 0, 0, []string{`SUB "` + strings.Repeat("a", 5000) + `" "" "1"`}, nil},

	// Handler errors come back unchanged and stop parsing.
	{"handler error sub", "SUB fail 1\r\nPING\r\n", 0, 0, []string{`SUB "fail" "" "1"`}, errFail},
	{"handler error pub", "PUB fail 2\r\nhi\r\nPING\r\n", 0, 0, []string{`PUB "fail" "" "hi"`}, errFail},
	{"handler error connect", "CONNECT fail\r\nPING\r\n", 0, 0, []string{`CONNECT "fail"`}, errFail},
}

func TestParseErrors(t *testing.T) {
	tests := errorTests
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkAllSplits(t, tt.in, tt.mcl, tt.mpay, tt.want, tt.wantErr)
		})
	}
}

// TestMaxControlLineSplit checks the limit is enforced while a line is
// still arriving, before any newline.
func TestMaxControlLineSplit(t *testing.T) {
	r := &recorder{}
	p := NewParser(r, 10, 0)
	if err := p.Parse([]byte("SUB foo 1234")); err != nil {
		t.Fatalf("first read: %v", err)
	}
	if err := p.Parse([]byte("56")); err != nil {
		t.Fatalf("second read (\"foo 123456\", at the limit): %v", err)
	}
	if err := p.Parse([]byte("7")); err != ErrMaxControlLine {
		t.Fatalf("third read: error = %v, want ErrMaxControlLine", err)
	}

	// A CR at the end of a read is not counted against the limit.
	p = NewParser(r, 10, 0)
	for _, s := range []string{"SUB foo 123456", "\r", "\n"} {
		if err := p.Parse([]byte(s)); err != nil {
			t.Fatalf("read %q: %v", s, err)
		}
	}

	// One huge read with no newline fails at once.
	p = NewParser(r, 4096, 0)
	if err := p.Parse([]byte("PUB " + strings.Repeat("x", 5000))); err != ErrMaxControlLine {
		t.Fatalf("huge read: error = %v, want ErrMaxControlLine", err)
	}
}

func TestAwaitConnect(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr error
	}{
		{"PING\r\n", nil, ErrConnectRequired},
		{"SUB foo 1\r\n", nil, ErrConnectRequired},
		{"XYZ\r\n", nil, ErrConnectRequired},
		{"connect {}\r\nPING\r\n", []string{`CONNECT "{}"`, "PING"}, nil},
		{"CONX\r\n", nil, ErrUnknownOp},
	}
	for _, tt := range tests {
		r := &recorder{}
		p := NewParser(r, 0, 0)
		r.p, p.AwaitConnect = p, true
		err := p.Parse([]byte(tt.in))
		if err != tt.wantErr || strings.Join(r.calls, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%q: calls %q, error %v; want %q, %v", tt.in, r.calls, err, tt.want, tt.wantErr)
		}
	}
}

// TestLargeSplitPayload sends a payload bigger than the kept scratch in
// several reads, twice, to check scratch release and reuse.
func TestLargeSplitPayload(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdef"), (maxKeptScratch+100)/16)
	msg := fmt.Appendf(nil, "PUB big r %d\r\n%s\r\n", len(payload), payload)
	stream := append(append(append([]byte(nil), msg...), msg...), "PUB small 3\r\nabc\r\n"...)

	var got [][]byte
	h := &funcHandler{pub: func(subject, reply, data []byte) error {
		got = append(got, append([]byte(nil), data...))
		return nil
	}}
	p := NewParser(h, 0, 0)
	for len(stream) > 0 {
		n := min(len(stream), 4093)
		if err := p.Parse(stream[:n]); err != nil {
			t.Fatal(err)
		}
		stream = stream[n:]
	}
	if len(got) != 3 || !bytes.Equal(got[0], payload) || !bytes.Equal(got[1], payload) || string(got[2]) != "abc" {
		t.Fatalf("got %d messages", len(got))
	}
	if cap(p.msgBuf) > maxKeptScratch {
		t.Fatalf("kept a %d byte payload buffer", cap(p.msgBuf))
	}
}

// funcHandler is a Handler that counts calls and optionally runs a
// function for PUB. It never allocates.
type funcHandler struct {
	pub func(subject, reply, payload []byte) error
	n   int
}

func (h *funcHandler) ProcessConnect([]byte) error { h.n++; return nil }
func (h *funcHandler) ProcessPub(s, r, p []byte) error {
	h.n++
	if h.pub != nil {
		return h.pub(s, r, p)
	}
	return nil
}
func (h *funcHandler) ProcessHPub([]byte, []byte, int, []byte) error { h.n++; return nil }
func (h *funcHandler) ProcessSub([]byte, []byte, []byte) error       { h.n++; return nil }
func (h *funcHandler) ProcessUnsub([]byte, int64) error              { h.n++; return nil }
func (h *funcHandler) ProcessPing() error                            { h.n++; return nil }
func (h *funcHandler) ProcessPong() error                            { h.n++; return nil }
func (h *funcHandler) ProcessInfo([]byte) error                      { h.n++; return nil }
func (h *funcHandler) ProcessOK() error                              { h.n++; return nil }
func (h *funcHandler) ProcessErr([]byte) error                       { h.n++; return nil }

func TestZeroAllocs(t *testing.T) {
	var stream []byte
	for range 50 {
		stream = append(stream, "PUB foo.bar reply.to 16\r\n0123456789abcdef\r\n"...)
		stream = append(stream, "HPUB foo 12 20\r\nNATS/1.0\r\n\r\n01234567\r\n"...)
		stream = append(stream, "SUB foo q 1\r\nUNSUB 1 5\r\nPING\r\nPONG\r\n"...)
	}
	h := &funcHandler{}
	p := NewParser(h, 4096, 1<<20)

	whole := testing.AllocsPerRun(100, func() {
		if err := p.Parse(stream); err != nil {
			t.Fatal(err)
		}
	})
	// Odd chunk sizes split control lines and payloads everywhere.
	split := testing.AllocsPerRun(100, func() {
		for rest := stream; len(rest) > 0; {
			n := min(len(rest), 37)
			if err := p.Parse(rest[:n]); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
	})
	if whole != 0 || split != 0 {
		t.Fatalf("allocs per stream: whole %v, split %v; want 0", whole, split)
	}
}

// TestZeroCopy checks that an operation wholly inside buf reaches the
// handler as slices of buf, not copies.
func TestZeroCopy(t *testing.T) {
	buf := []byte("PING\r\nPUB foo.bar _INBOX.1 5\r\nhello\r\n")
	inBuf := func(b []byte) bool {
		p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
		start := uintptr(unsafe.Pointer(&buf[0]))
		return p >= start && p+uintptr(len(b)) <= start+uintptr(len(buf))
	}
	called := false
	h := &funcHandler{pub: func(subject, reply, payload []byte) error {
		called = true
		if !inBuf(subject) || !inBuf(reply) || !inBuf(payload) {
			t.Errorf("PUB arguments copied out of the read buffer")
		}
		return nil
	}}
	if err := NewParser(h, 0, 0).Parse(buf); err != nil || !called {
		t.Fatalf("Parse: %v, called %v", err, called)
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"0", 0}, {"7", 7}, {"42", 42}, {"00042", 42}, {"999999999", 999999999},
		{"", -1}, {"1234567890", -1}, {"-1", -1}, {"+1", -1}, {"1a", -1}, {" 1", -1},
	}
	for _, tt := range tests {
		if got := parseSize([]byte(tt.in)); got != tt.want {
			t.Errorf("parseSize(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// TestTakePayload: a large split payload is handed over once and never
// written again by the parser; a small one (scratch the parser reuses)
// and one read whole are not.
func TestTakePayload(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), (maxKeptScratch+100)/16)
	msg := fmt.Appendf(nil, "PUB big %d\r\n%s\r\n", len(big), big)
	small := "PUB s 5\r\nhello\r\n"
	stream := append(append(append(append([]byte(nil), msg...), small...), msg...), small...)
	var p *Parser
	var kept [][]byte
	var taken []bool
	h := &funcHandler{pub: func(_, _, data []byte) error {
		ok := p.TakePayload(data)
		taken = append(taken, ok)
		if ok {
			if p.TakePayload(data) {
				t.Error("taken twice")
			}
			kept = append(kept, data)
		}
		return nil
	}}
	p = NewParser(h, 0, 0)
	for len(stream) > 0 {
		n := min(len(stream), 1000)
		if err := p.Parse(stream[:n]); err != nil {
			t.Fatal(err)
		}
		stream = stream[n:]
	}
	if len(taken) != 4 || !taken[0] || taken[1] || !taken[2] || taken[3] {
		t.Fatalf("taken %v", taken)
	}
	for _, k := range kept {
		if !bytes.Equal(k, big) {
			t.Fatal("a payload handed over was written again")
		}
	}
	// Read whole in one buffer, the payload points into it: not given.
	taken = nil
	if err := p.Parse(msg); err != nil {
		t.Fatal(err)
	}
	if len(taken) != 1 || taken[0] {
		t.Fatalf("a payload inside the read buffer was handed over: %v", taken)
	}
}

// TestPayloadSpace: the rest of a large payload can be read straight into
// its buffer between Parse calls; the message arrives whole, and small
// payloads offer no space.
func TestPayloadSpace(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), (maxKeptScratch+100)/16)
	msg := fmt.Appendf(nil, "PUB big %d\r\n%s\r\nPUB s 5\r\nhello\r\n", len(big), big)
	var got [][]byte
	h := &funcHandler{pub: func(_, _, data []byte) error {
		got = append(got, append([]byte(nil), data...))
		return nil
	}}
	p := NewParser(h, 0, 0)
	rest := msg
	direct := 0
	for len(rest) > 0 {
		if space := p.PayloadSpace(); len(space) > 0 {
			n := copy(space[:min(len(space), 7000)], rest)
			p.PayloadRead(n)
			rest = rest[n:]
			direct += n
			continue
		}
		n := min(len(rest), 3000)
		if err := p.Parse(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if len(got) != 2 || !bytes.Equal(got[0], big) || string(got[1]) != "hello" {
		t.Fatalf("got %d messages", len(got))
	}
	if direct < len(big)-3000 {
		t.Fatalf("only %d bytes read directly", direct)
	}
	if p.PayloadSpace() != nil {
		t.Fatal("space offered between messages")
	}
}
