//go:build !windows && !plan9

package logger

import (
	"net"
	"strings"
	"testing"
	"time"
)

func TestRemoteSyslogUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	l, err := NewSyslog("udp://"+pc.LocalAddr().String(), "sluice", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Warnf("disk %s", "low")
	pc.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 2048)
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	msg := string(buf[:n])
	// <28> is facility daemon (3) * 8 + severity warning (4).
	if !strings.HasPrefix(msg, "<28>") || !strings.Contains(msg, "sluice") || !strings.HasSuffix(strings.TrimSpace(msg), "disk low") {
		t.Fatalf("syslog packet %q", msg)
	}
}

func TestRemoteSyslogBadURL(t *testing.T) {
	for _, u := range []string{"ftp://host:1", "::bad"} {
		if _, err := NewSyslog(u, "sluice", Options{}); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
}
