package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

// prof_port serves Go's pprof index, and the listener goes with the server.
func TestProfPort(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, func(o *server.Options) { o.ProfPort = server.RandomPort })
	addr := s.ProfilerAddr()
	if addr == nil {
		t.Fatal("no profiling listener with ProfPort -1")
	}
	url := "http://" + addr.String() + "/debug/pprof/"
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine") {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, body)
	}
	s.Shutdown()
	if _, err := http.Get(url); err == nil {
		t.Error("profiling port still answers after Shutdown")
	}
}

func TestProfPortConfig(t *testing.T) {
	t.Parallel()
	var o server.Options
	if _, err := o.ProcessConfigFile(writeConf(t, "prof_port: -1\n"), false); err != nil || o.ProfPort != -1 {
		t.Fatalf("prof_port: %v, %d", err, o.ProfPort)
	}
	var bad server.Options
	if _, err := bad.ProcessConfigFile(writeConf(t, "prof_port: 70000\n"), false); err == nil {
		t.Error("prof_port 70000 accepted")
	}
}
