package route_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/server/subject"
	"github.com/sluicehq/sluice/internal/testutil"
)

// scopedMapping maps "orders" to orders.fixed in cluster "fixed" and to
// orders.any elsewhere.
var scopedMapping = []subject.Mapping{{Source: "orders", Dests: []subject.MapDest{
	{Subject: "orders.fixed", Weight: 100, Cluster: "fixed"},
	{Subject: "orders.any", Weight: 100},
}}}

func dynamicName(o *server.Options) {
	o.Cluster.Name = ""
	o.Mappings = scopedMapping
}

func waitName(t *testing.T, name string, ss ...*server.Server) {
	t.Helper()
	testutil.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		for _, s := range ss {
			if got := s.ClusterName(); got != name {
				return fmt.Errorf("%s: cluster name %q, want %q", s.Name(), got, name)
			}
		}
		return nil
	})
}

// Servers without a cluster name agree on one generated name, and all
// take a configured name when a server that has one joins; the routes
// that were dropped to agree on it come back, and cluster-scoped
// mappings follow the name.
func TestClusterNameAdoption(t *testing.T) {
	s1 := node(t, "s1", dynamicName)
	s2 := node(t, "s2", dynamicName, s1)
	waitMesh(t, s1, s2)
	if !s1.Routes().Dynamic() || s1.ClusterName() != s2.ClusterName() {
		t.Fatalf("dynamic names not agreed: %q %q", s1.ClusterName(), s2.ClusterName())
	}
	c2 := connect(t, s2)
	fixed, _ := c2.SubscribeSync("orders.fixed")
	anyc, _ := c2.SubscribeSync("orders.any")
	c2.Flush()
	c2.Publish("orders", nil)
	c2.Flush()
	next(t, anyc)

	s3 := node(t, "s3", func(o *server.Options) { o.Cluster.Name = "fixed" }, s1)
	waitName(t, "fixed", s1, s2, s3)
	waitMesh(t, s1, s2, s3)
	for _, s := range []*server.Server{s1, s2} {
		if s.Routes().Dynamic() {
			t.Fatalf("%s: name still counted as generated", s.Name())
		}
	}
	if nc := connect(t, s1); nc.ConnectedClusterName() != "fixed" {
		t.Fatalf("client INFO says cluster %q", nc.ConnectedClusterName())
	}
	c2.Publish("orders", nil)
	c2.Flush()
	next(t, fixed)
	noMore(t, anyc)

	// Messages cross the re-established routes.
	c3 := connect(t, s3)
	sub, _ := c3.SubscribeSync("after")
	c3.Flush()
	waitInterest(t, s2, "after", 1)
	c2.Publish("after", nil)
	next(t, sub)
}

// A generated name gives way to nats-server's configured one, and
// nats-server takes sluice's configured name.
func TestClusterNameAdoptionWithNATSServer(t *testing.T) {
	s1 := node(t, "s1", dynamicName)
	s2 := node(t, "s2", dynamicName, s1)
	waitMesh(t, s1, s2)
	ref := startRefConf(t, fmt.Sprintf(`listen: "127.0.0.1:-1"
server_name: ref1
cluster { name: fixed, listen: "127.0.0.1:-1", routes: ["nats-route://127.0.0.1:%d"] }
`, s1.Routes().Port()))
	waitName(t, "fixed", s1, s2)
	testutil.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		for _, s := range []*server.Server{s1, s2} {
			if n := len(s.Routes().Remotes()); n != 2 || !s.Routes().PoolsFull() {
				return fmt.Errorf("%s: %d peers\n%s", s.Name(), n, ref.logs.String())
			}
		}
		return nil
	})
	r := ref.connect(t)
	flows(t, r, connect(t, s2), "ref.to.s2", ref.logs.String)

	// A nats-server without a name joins: it takes "fixed" from s1.
	ref2 := startRefConf(t, fmt.Sprintf(`listen: "127.0.0.1:-1"
server_name: ref2
cluster { listen: "127.0.0.1:-1", routes: ["nats-route://127.0.0.1:%d"] }
`, s1.Routes().Port()))
	ref2.waitLog("Cluster name updated to fixed")
	flows(t, ref2.connect(t), connect(t, s2), "ref2.to.s2", ref2.logs.String)
}
