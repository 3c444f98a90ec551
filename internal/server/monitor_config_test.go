package server_test

// Monitoring configuration keys, and what a reload does to monitoring and
// the $SYS services.

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
	"github.com/sluicehq/sluice/pkg/api"
)

func TestConfigMonitorKeys(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		text              string
		host              string
		httpPort, https   int
		base              string
		maxClosedConnsSet int
	}{
		{"http_port: 8222", "", 8222, 0, "", 0},
		{"monitor_port: -1", "", -1, 0, "", 0},
		{"https_port: 8443", "", 0, 8443, "", 0},
		{"http: 8222", "", 8222, 0, "", 0},
		{`http: "10.0.0.1:8222"`, "10.0.0.1", 8222, 0, "", 0},
		{"http: 127.0.0.1:8222", "127.0.0.1", 8222, 0, "", 0},
		{`https: "[::1]:8443"`, "::1", 0, 8443, "", 0},
		{"http_port: 8222\nhttp_host: 0.0.0.0\nhttp_base_path: /mon", "0.0.0.0", 8222, 0, "/mon", 0},
		{"max_closed_clients: 5", "", 0, 0, "", 5},
	} {
		var o server.Options
		if _, err := o.ProcessConfigFile(writeConf(t, c.text), true); err != nil {
			t.Errorf("%q: %v", c.text, err)
			continue
		}
		if o.HTTPHost != c.host || o.HTTPPort != c.httpPort || o.HTTPSPort != c.https || o.HTTPBasePath != c.base ||
			o.MaxClosedClients != c.maxClosedConnsSet {
			t.Errorf("%q: host %q http %d https %d base %q closed %d", c.text, o.HTTPHost, o.HTTPPort, o.HTTPSPort, o.HTTPBasePath, o.MaxClosedClients)
		}
	}
	for _, c := range []struct{ text, want string }{
		{"http_port: 70000", "'http_port' must be between -1 and 65535, got 70000"},
		{"monitor_port: -2", "'monitor_port' must be between -1 and 65535, got -2"},
		{"https_port: \"x\"", "'https_port' must be a whole number"},
		{"http: 99999", "'http' port must be between -1 and 65535, got 99999"},
		{`http: "nowhere"`, `'http' must be host:port, got "nowhere"`},
		{`https: "h:port"`, `'https' must be host:port, got "h:port"`},
		{"http: true", "'http' must be host:port or a port, not a bool"},
		{"http_base_path: 5", "'http_base_path' must be a string"},
	} {
		var o server.Options
		_, err := o.ProcessConfigFile(writeConf(t, c.text), true)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.text, err, c.want)
		}
	}
}

func TestMonitorFromConfigFile(t *testing.T) {
	t.Parallel()
	s := runConf(t, "http: 127.0.0.1:-1\nhttp_base_path: /status\n")
	if u := s.MonitorURL(); !strings.HasPrefix(u, "http://127.0.0.1:") || !strings.HasSuffix(u, "/status") {
		t.Fatalf("MonitorURL %q", u)
	}
	if v := monJSON[api.Varz](t, s, "/varz"); v.HTTPHost != "127.0.0.1" || v.HTTPBasePath != "/status" || v.ConfigDigest == "" {
		t.Errorf("varz: host %q base %q digest %q", v.HTTPHost, v.HTTPBasePath, v.ConfigDigest)
	}
	// Monitoring off: no listener, no URL.
	off := runConf(t, "port: -1\n")
	if off.MonitorAddr() != nil || off.MonitorURL() != "" {
		t.Errorf("monitoring off: addr %v url %q", off.MonitorAddr(), off.MonitorURL())
	}
}

func TestReloadKeepsMonitoringAndSysServices(t *testing.T) {
	t.Parallel()
	s := runSys(t, withMonitor)
	url := s.MonitorURL()
	before := monJSON[api.Varz](t, s, "/varz")

	var next server.Options
	if _, err := next.ProcessConfigFile(writeConf(t, sysConf), true); err != nil {
		t.Fatal(err)
	}
	next.Host, next.Port = "127.0.0.1", server.RandomPort
	next.MaxClosedClients = 1
	next.HTTPPort = 1 // cannot change at runtime
	res, err := s.ReloadOptions(next)
	if err != nil {
		t.Fatal(err)
	}
	if !contains(res.Kept, "HTTPPort") || !contains(res.Changed, "MaxClosedClients") {
		t.Errorf("changed %v kept %v", res.Changed, res.Kept)
	}
	if s.MonitorURL() != url {
		t.Errorf("monitor moved from %s to %s", url, s.MonitorURL())
	}
	after := monJSON[api.Varz](t, s, "/varz")
	if !after.ConfigLoadTime.After(before.ConfigLoadTime) || !after.Start.Equal(before.Start) {
		t.Errorf("config_load_time %v -> %v, start %v -> %v", before.ConfigLoadTime, after.ConfigLoadTime, before.Start, after.Start)
	}
	// The services every account gets are rebuilt with the accounts.
	app := appUser(t, s)
	if cz := sysData[api.Connz](t, s, app, "$SYS.REQ.SERVER.PING.CONNZ", ""); cz.NumConns != 1 {
		t.Errorf("CONNZ from APP after reload: %+v", cz)
	}
	sys := sysUser(t, s)
	if hs := sysData[api.HealthStatus](t, s, sys, "$SYS.REQ.SERVER.PING.HEALTHZ", ""); hs.Status != "ok" {
		t.Errorf("HEALTHZ after reload: %+v", hs)
	}
	// The closed ring shrinks to the new size. Each close is awaited:
	// the server sees EOFs in any order.
	for i := 0; i < 3; i++ {
		nc := mustDial(t, s, nats.UserInfo("other", "other"))
		cid := clientID(t, nc)
		nc.Close()
		testutil.CheckFor(t, waitLong, pollStep, func() error {
			if got := cids(monJSON[api.Connz](t, s, "/connz?state=closed")); !slices.Equal(got, []uint64{cid}) {
				return fmt.Errorf("closed %v, want only %d", got, cid)
			}
			return nil
		})
	}
}
