package logger

import (
	"bytes"
	"io"
	"regexp"
	"sync"
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

func TestSetOptionsAndRedirect(t *testing.T) {
	var a, b bytes.Buffer
	l := New(&a, Options{})
	l.Debugf("hidden")
	l.SetOptions(Options{Debug: true})
	l.Debugf("shown")
	l.Redirect(New(&b, Options{Trace: true}))
	l.Tracef("moved")
	l.Debugf("hidden again")
	if a.String() != "[DBG] shown\n" || b.String() != "[TRC] moved\n" {
		t.Fatalf("first %q, second %q", a.String(), b.String())
	}
}

func TestConcurrentSetOptions(t *testing.T) {
	l := New(io.Discard, Options{})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 1000 {
				if i == 0 {
					l.SetOptions(Options{Debug: j%2 == 0, Time: true})
				}
				l.Debugf("line %d", j)
			}
		}()
	}
	wg.Wait()
}
