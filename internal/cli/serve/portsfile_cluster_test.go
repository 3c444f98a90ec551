package servecmd

import (
	"encoding/json"
	"os"
	"strconv"
	"testing"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/server/route"
	"github.com/sluicehq/sluice/internal/testutil"
)

// The ports file lists the route listener under "cluster", as
// nats-server's does (nats://, tls:// with a cluster tls block).
func TestPortsFileCluster(t *testing.T) {
	s := testutil.RunServer(t, func(o *server.Options) {
		o.Cluster = &route.Config{Name: "c", Host: "127.0.0.1", Port: -1}
	})
	path, err := writePortsFile(t.TempDir(), s)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var p map[string][]string
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	want := "nats://127.0.0.1:" + strconv.Itoa(s.Routes().Port())
	if len(p["cluster"]) != 1 || p["cluster"][0] != want {
		t.Fatalf("cluster = %v, want [%s]", p["cluster"], want)
	}
}
