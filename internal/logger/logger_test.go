package logger

import (
	"bytes"
	"regexp"
	"testing"
)

func TestLineFormat(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, Options{Time: true, PID: true})
	l.Noticef("Listening for client connections on %s", "0.0.0.0:4222")
	l.Debugf("hidden")
	l.Tracef("hidden")
	re := regexp.MustCompile(`^\[\d+\] \d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{6} \[INF\] Listening for client connections on 0\.0\.0\.0:4222\n$`)
	if !re.Match(buf.Bytes()) {
		t.Fatalf("unexpected line %q", buf.String())
	}
}

func TestLevels(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, Options{Debug: true, Trace: true})
	l.Warnf("w")
	l.Errorf("e")
	l.Debugf("d")
	l.Tracef("t")
	want := "[WRN] w\n[ERR] e\n[DBG] d\n[TRC] t\n"
	if buf.String() != want {
		t.Fatalf("got %q want %q", buf.String(), want)
	}
}
