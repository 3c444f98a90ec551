package route_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/server/route"
)

func loadConf(t *testing.T, text string) (server.Options, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.conf")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	var o server.Options
	_, err := o.ProcessConfigFile(p, true)
	return o, err
}

func TestClusterBlock(t *testing.T) {
	o, err := loadConf(t, `
cluster {
  name: prod
  listen: 127.0.0.1:6333
  advertise: "10.0.0.1:6333"
  no_advertise: true
  connect_retries: 5
  connect_backoff: true
  pool_size: 5
  accounts: [A, B]
  compression: s2_fast
  ping_interval: "10s"
  ping_max: 3
  authorization { user: ruser, password: rpass, timeout: 2 }
  permissions { import: "foo.>", export: { allow: ["bar.>"], deny: ["bar.secret"] } }
  routes: [ "nats-route://ruser:rpass@127.0.0.1:6334", "127.0.0.1:6335" ]
}
`)
	if err != nil {
		t.Fatal(err)
	}
	c := o.Cluster
	if c == nil || c.Name != "prod" || c.Host != "127.0.0.1" || c.Port != 6333 || c.Advertise != "10.0.0.1:6333" ||
		!c.NoAdvertise || c.ConnectRetries != 5 || !c.ConnectBackoff || c.PoolSize != 5 ||
		strings.Join(c.PinnedAccounts, ",") != "A,B" || c.Compression != route.CompressionS2Fast ||
		c.MaxPingsOut != 3 || c.Username != "ruser" || c.Password != "rpass" {
		t.Fatalf("cluster read as %+v", c)
	}
	if len(c.Routes) != 2 || c.Routes[0].User.Username() != "ruser" || c.Routes[1].Host != "127.0.0.1:6335" {
		t.Fatalf("routes read as %v", c.Routes)
	}
	if c.Import == nil || c.Import.Allow[0] != "foo.>" || c.Export == nil || c.Export.Deny[0] != "bar.secret" {
		t.Fatalf("permissions read as %+v %+v", c.Import, c.Export)
	}
}

func TestClusterBlockErrors(t *testing.T) {
	for _, tc := range []struct{ conf, want string }{
		{"cluster { name: \"a b\" }", "cluster name cannot contain spaces"},
		{"cluster { port: 6222, authorization { token: x } }", "Cluster authorization does not support tokens"},
		{"cluster { port: 6222, authorization { users: [{user: a}] } }", "does not allow multiple users"},
		{"cluster { port: 6222, compression: zstd }", `unsupported route compression mode "zstd"`},
		{"cluster { port: 6222, colour: blue }", `unknown field "colour" in cluster`},
		{"cluster { port: 99999 }", "cluster port must be between"},
		{"cluster { routes: 5 }", "'routes' must be a list of URLs"},
		{"cluster { port: 6222, permissions { allow_responses: true } }", "do not support dynamic responses"},
		{"cluster: 5", "'cluster' must be a block"},
	} {
		_, err := loadConf(t, tc.conf)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.conf, err, tc.want)
		}
	}
}

func TestClusterValidate(t *testing.T) {
	_, err := server.New(server.Options{Cluster: &route.Config{Port: -1, PoolSize: -1, PinnedAccounts: []string{"A"}}})
	if err == nil || !strings.Contains(err.Error(), "pinned accounts need pooling") {
		t.Fatalf("got %v", err)
	}
}

// Duplicate pinned accounts and a non-numeric advertise port are refused
// at start and on reload, with nats-server's wording.
func TestClusterValidateAccountsAndAdvertise(t *testing.T) {
	o, err := loadConf(t, "cluster { port: -1, name: c, accounts: [A, B, A] }\naccounts { A {}, B {} }\n")
	if err != nil {
		t.Fatal(err)
	}
	_, err = server.New(o)
	if err == nil || !strings.Contains(err.Error(), `found duplicate account name "A" in pinned accounts list ["A" "B" "A" "$SYS"]`) {
		t.Fatalf("duplicate account: %v", err)
	}
	s0, err := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort, Cluster: &route.Config{Host: "127.0.0.1", Port: -1, Advertise: "host:abc"}})
	if err != nil {
		t.Fatal(err)
	}
	err = s0.Start()
	s0.Shutdown()
	if err == nil || !strings.Contains(err.Error(), `Error setting route INFO with Cluster.Advertise value of host:abc, err=strconv.Atoi: parsing "abc": invalid syntax`) {
		t.Fatalf("advertise: %v", err)
	}
	for _, ok := range []string{"host", "host:4000", "10.0.0.1:0", "[::1]:7000"} {
		s, err := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort, Cluster: &route.Config{Host: "127.0.0.1", Port: -1, Advertise: ok}})
		if err == nil {
			err = s.Start()
			s.Shutdown()
		}
		if err != nil {
			t.Errorf("advertise %q refused: %v", ok, err)
		}
	}

	s := node(t, "s1", withAccountA)
	err = reload(t, s, func(o *server.Options) { o.Cluster.PinnedAccounts = []string{"A", "A"} })
	if err == nil || !strings.Contains(err.Error(), `found duplicate account name "A" in pinned accounts list ["A" "A"`) {
		t.Fatalf("reload duplicate account: %v", err)
	}
	err = reload(t, s, func(o *server.Options) { o.Cluster.Advertise = "host:abc" })
	if err == nil || !strings.Contains(err.Error(), `invalid Cluster.Advertise value of host:abc, err=strconv.Atoi: parsing "abc": invalid syntax`) {
		t.Fatalf("reload advertise: %v", err)
	}
}
