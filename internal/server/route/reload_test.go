package route_test

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/server/auth"
	"github.com/sluicehq/sluice/internal/testutil"
)

// reload applies mutate to a copy of s's options.
func reload(t *testing.T, s *server.Server, mutate func(o *server.Options)) error {
	t.Helper()
	o := s.Options()
	c := *o.Cluster
	o.Cluster = &c
	mutate(&o)
	_, err := s.ReloadOptions(o)
	return err
}

func mustReload(t *testing.T, s *server.Server, mutate func(o *server.Options)) {
	t.Helper()
	if err := reload(t, s, mutate); err != nil {
		t.Fatalf("reload %s: %v", s.Name(), err)
	}
}

func waitPeers(t *testing.T, s *server.Server, n int) {
	t.Helper()
	testutil.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if got := len(s.Routes().Remotes()); got != n {
			return fmt.Errorf("%s has %d peers, want %d", s.Name(), got, n)
		}
		return nil
	})
}

func TestReloadRoutesAddRemove(t *testing.T) {
	s1 := node(t, "s1", nil)
	s2 := node(t, "s2", nil)
	mustReload(t, s2, func(o *server.Options) { o.Cluster.Routes = []*url.URL{routeURL(s1)} })
	waitMesh(t, s1, s2)
	sub, _ := connect(t, s1).SubscribeSync("added")
	waitInterest(t, s2, "added", 1)
	connect(t, s2).Publish("added", []byte("x"))
	next(t, sub)

	// Removed: every connection of that route closes and none comes back
	// (s1 only accepted, so it does not dial).
	mustReload(t, s2, func(o *server.Options) { o.Cluster.Routes = nil })
	waitPeers(t, s1, 0)
	waitPeers(t, s2, 0)
	waitInterest(t, s2, "added", 0)

	// Added again: it comes back.
	mustReload(t, s2, func(o *server.Options) { o.Cluster.Routes = []*url.URL{routeURL(s1)} })
	waitMesh(t, s1, s2)
}

// A route removed while its peer is down stops being dialed: when the
// peer comes up, nobody connects to it.
func TestReloadRemovesDownRoute(t *testing.T) {
	s1 := node(t, "s1", nil)
	port := s1.Routes().Port()
	u := routeURL(s1)
	s1.Shutdown()
	s2 := node(t, "s2", func(o *server.Options) { o.Cluster.Routes = []*url.URL{u} })
	mustReload(t, s2, func(o *server.Options) { o.Cluster.Routes = nil })
	s3 := testutil.RunServer(t, func(o *server.Options) { o.ServerName = "s3"; o.Cluster = clusterAt(port) })
	// s4 joins s3 on purpose: when its mesh is up, s2 had every chance
	// to dial s3 on a 50ms redial.
	s4 := node(t, "s4", nil, s3)
	waitMesh(t, s3, s4)
	if n := len(s2.Routes().Remotes()); n != 0 {
		t.Fatalf("s2 dialed a removed route: %d peers", n)
	}
}

func TestReloadRefusesListenerChanges(t *testing.T) {
	s1 := node(t, "s1", nil)
	s2 := node(t, "s2", nil, s1)
	waitMesh(t, s1, s2)
	port := s1.Routes().Port()
	for _, tc := range []struct {
		mutate func(o *server.Options)
		want   string
	}{
		{func(o *server.Options) { o.Cluster.Port = port + 1 }, "config reload not supported for cluster port: old=-1, new=" + strconv.Itoa(port+1)},
		{func(o *server.Options) { o.Cluster.Host = "0.0.0.0" }, "config reload not supported for cluster host: old=127.0.0.1, new=0.0.0.0"},
		{func(o *server.Options) { o.Cluster = nil }, "config reload not supported for cluster port: old=-1, new=0"},
		{func(o *server.Options) { o.Cluster.Advertise = "a:b:c" }, "invalid Cluster.Advertise value of a:b:c"},
		{func(o *server.Options) { o.Cluster.Name = "bad name" }, "cluster name cannot contain spaces"},
		{func(o *server.Options) { o.Cluster.Compression = "fastest" }, "unsupported route compression mode"},
	} {
		err := reload(t, s1, tc.mutate)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
	// Nothing changed: the same listener, the same peer.
	if s1.Routes().Port() != port || len(s1.Routes().Remotes()) != 1 || s1.ClusterName() != "c" {
		t.Fatalf("a refused reload changed the cluster")
	}
	// A server without clustering cannot start it by reload.
	lone := testutil.RunServer(t)
	o := lone.Options()
	o.Cluster = clusterAt(-1)
	if _, err := lone.ReloadOptions(o); err == nil || !strings.Contains(err.Error(), "config reload not supported for cluster port: old=0, new=-1") {
		t.Fatalf("enabling clustering: %v", err)
	}
	o.Cluster = clusterAt(0)
	o.Cluster.Routes = []*url.URL{routeURL(s1)}
	if _, err := lone.ReloadOptions(o); err == nil || !strings.Contains(err.Error(), "turning clustering on or off") {
		t.Fatalf("enabling routes: %v", err)
	}
}

func TestReloadRouteAuthorization(t *testing.T) {
	s1 := node(t, "s1", withRouteUser)
	creds := func(pass string) []*url.URL {
		u, _ := url.Parse("nats-route://ruser:" + pass + "@127.0.0.1:" + strconv.Itoa(s1.Routes().Port()))
		return []*url.URL{u}
	}
	s2 := node(t, "s2", func(o *server.Options) { withRouteUser(o); o.Cluster.Routes = creds("rpass") })
	waitMesh(t, s1, s2)

	// Unrelated changes keep the route.
	mustReload(t, s1, func(o *server.Options) { o.Cluster.PingInterval = 20 * time.Second })
	if n := len(s1.Routes().Remotes()); n != 1 {
		t.Fatalf("route lost on an unrelated reload")
	}
	// A new password cuts the route that joined with the old one, and
	// its redials fail.
	mustReload(t, s1, func(o *server.Options) { o.Cluster.Password = "rpass2" })
	waitPeers(t, s1, 0)
	waitPeers(t, s2, 0)
	// The peer given the new password joins again.
	mustReload(t, s2, func(o *server.Options) { o.Cluster.Password = "rpass2"; o.Cluster.Routes = creds("rpass2") })
	waitMesh(t, s1, s2)
	// Authorization removed: routes stay (nothing to fail).
	mustReload(t, s1, func(o *server.Options) { o.Cluster.Username, o.Cluster.Password = "", "" })
	if n := len(s1.Routes().Remotes()); n != 1 {
		t.Fatalf("route lost when authorization was removed")
	}
}

func TestReloadRoutePermissions(t *testing.T) {
	s1 := node(t, "s1", nil)
	s2 := node(t, "s2", nil, s1)
	waitMesh(t, s1, s2)
	c1, c2 := connect(t, s1), connect(t, s2)
	foo, _ := c2.SubscribeSync("foo")
	c2.SubscribeSync("bar")
	c1.SubscribeSync("baz")
	c1.Flush()
	c2.Flush()
	waitInterest(t, s1, "foo", 1)
	waitInterest(t, s1, "bar", 1)
	waitInterest(t, s2, "baz", 1)

	// Export narrowed on s1: it drops s2's interest in foo and so stops
	// sending it; bar still flows.
	mustReload(t, s1, func(o *server.Options) { o.Cluster.Export = &auth.SubjectPermission{Deny: []string{"foo"}} })
	waitInterest(t, s1, "foo", 0)
	waitInterest(t, s1, "bar", 1)
	c1.Publish("foo", []byte("no"))
	c1.Flush()
	noMore(t, foo)

	// Import narrowed on s1: it withdraws its interest in baz from s2;
	// widened again, it announces it again.
	mustReload(t, s1, func(o *server.Options) {
		o.Cluster.Export = nil
		o.Cluster.Import = &auth.SubjectPermission{Deny: []string{"baz"}}
	})
	waitInterest(t, s2, "baz", 0)
	mustReload(t, s1, func(o *server.Options) { o.Cluster.Import, o.Cluster.Export = nil, nil })
	waitInterest(t, s2, "baz", 1)
	if n := len(s1.Routes().Remotes()); n != 1 {
		t.Fatalf("permission reloads cost the route")
	}
}

func TestReloadPoolSizeAndCompression(t *testing.T) {
	ss := mesh(t, 3, nil)
	pooled := func(s *server.Server, peer string) (n int, modes []string) {
		for _, c := range s.Routes().Conns() {
			if c.RemoteName == peer && c.Account == "" {
				n++
				modes = append(modes, c.Compression)
			}
		}
		return n, modes
	}
	for _, s := range ss {
		mustReload(t, s, func(o *server.Options) { o.Cluster.PoolSize = 5 })
	}
	waitMesh(t, ss...)
	testutil.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if n, _ := pooled(ss[0], "s2"); n != 5 {
			return fmt.Errorf("s1 has %d pooled connections to s2, want 5", n)
		}
		return nil
	})
	sub, _ := connect(t, ss[2]).SubscribeSync("after.pool")
	waitInterest(t, ss[0], "after.pool", 1)
	connect(t, ss[0]).Publish("after.pool", nil)
	next(t, sub)

	for _, s := range ss {
		mustReload(t, s, func(o *server.Options) { o.Cluster.Compression = "s2_fast" })
	}
	testutil.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		for _, s := range ss {
			for _, c := range s.Routes().Conns() {
				if c.Compression != "s2_fast" {
					return fmt.Errorf("%s->%s: compression %q", s.Name(), c.RemoteName, c.Compression)
				}
			}
		}
		return nil
	})
	waitMesh(t, ss...)
	sub, _ = connect(t, ss[1]).SubscribeSync("after.s2")
	waitInterest(t, ss[0], "after.s2", 1)
	connect(t, ss[0]).Publish("after.s2", []byte(strings.Repeat("z", 1000)))
	next(t, sub)
}

func TestReloadClusterName(t *testing.T) {
	s1 := node(t, "s1", nil)
	s2 := node(t, "s2", nil, s1)
	waitMesh(t, s1, s2)
	mustReload(t, s1, func(o *server.Options) { o.Cluster.Name = "renamed" })
	if got := s1.ClusterName(); got != "renamed" {
		t.Fatalf("cluster name %q", got)
	}
	if got := connect(t, s1).ConnectedClusterName(); got != "renamed" {
		t.Fatalf("clients told %q", got)
	}
	// Established routes stay; the name only matters to new ones.
	if n := len(s1.Routes().Remotes()); n != 1 {
		t.Fatalf("rename cost the route")
	}
}

func TestReloadPinnedCerts(t *testing.T) {
	ca := testutil.NewCA(t, "routes")
	l1, l2 := routeLeaf(ca, testutil.LeafSpec{Name: "s1"}), routeLeaf(ca, testutil.LeafSpec{Name: "s2"})
	s1 := node(t, "s1", func(o *server.Options) {
		o.Cluster.TLSConfig, o.Cluster.TLSPinnedCerts = routeTLS(ca, l1), pins(l1, l2)
	})
	s2 := node(t, "s2", func(o *server.Options) { o.Cluster.TLSConfig = routeTLS(ca, l2) }, s1)
	waitMesh(t, s1, s2)
	mustReload(t, s1, func(o *server.Options) { o.Cluster.TLSPinnedCerts = pins(l1) })
	waitPeers(t, s1, 0)
	waitPeers(t, s2, 0)
	mustReload(t, s1, func(o *server.Options) { o.Cluster.TLSPinnedCerts = pins(l1, l2) })
	waitMesh(t, s1, s2)
}

// Pinned accounts reloaded one server after the other, as an operator
// rolls a change through a cluster: once both have it, the account has
// its own connection and its traffic flows.
func TestReloadPinnedAccounts(t *testing.T) {
	s1 := node(t, "s1", withAccountA)
	s2 := node(t, "s2", withAccountA, s1)
	waitMesh(t, s1, s2)
	// s2 first, and s1 once s2 is back in touch: in between they differ.
	mustReload(t, s2, func(o *server.Options) { o.Cluster.PinnedAccounts = append(o.Cluster.PinnedAccounts, "A") })
	waitPeers(t, s2, 1)
	mustReload(t, s1, func(o *server.Options) { o.Cluster.PinnedAccounts = append(o.Cluster.PinnedAccounts, "A") })
	waitMesh(t, s1, s2)
	testutil.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		for _, s := range []*server.Server{s1, s2} {
			n := 0
			for _, c := range s.Routes().Conns() {
				if c.Account == "A" {
					n++
				}
			}
			if n != 1 {
				return fmt.Errorf("%s: %d connections pinned to A", s.Name(), n)
			}
		}
		return nil
	})
	a1 := connect(t, s1, nats.UserInfo("a", "a"))
	a2 := connect(t, s2, nats.UserInfo("a", "a"))
	sub, _ := a2.SubscribeSync("pinned.later")
	a2.Flush()
	testutilWait(t, func() error {
		if s1.LookupAccount("A").Match("pinned.later") != 1 {
			return fmt.Errorf("no interest in A yet")
		}
		return nil
	})
	a1.Publish("pinned.later", nil)
	next(t, sub)

	// And back: unpinned on both, A goes over the pool again.
	for _, s := range []*server.Server{s1, s2} {
		mustReload(t, s, func(o *server.Options) { o.Cluster.PinnedAccounts = []string{"$SYS"} })
	}
	waitMesh(t, s1, s2)
	sub2, _ := a2.SubscribeSync("unpinned")
	a2.Flush()
	testutilWait(t, func() error {
		if s1.LookupAccount("A").Match("unpinned") != 1 {
			return fmt.Errorf("no interest in A yet")
		}
		return nil
	})
	a1.Publish("unpinned", nil)
	next(t, sub2)
	testutil.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		for _, s := range []*server.Server{s1, s2} {
			for _, c := range s.Routes().Conns() {
				if c.Account == "A" {
					return fmt.Errorf("A still pinned on %s", s.Name())
				}
			}
		}
		return nil
	})
}

func TestReloadRefusesUnknownPinnedAccount(t *testing.T) {
	s1 := node(t, "s1", nil)
	err := reload(t, s1, func(o *server.Options) { o.Cluster.PinnedAccounts = append(o.Cluster.PinnedAccounts, "NOPE") })
	if err == nil || !strings.Contains(err.Error(), `unable to add account "NOPE" to the list of dedicated routes`) {
		t.Fatalf("got %v", err)
	}
	// An account the same reload defines may be pinned.
	mustReload(t, s1, func(o *server.Options) {
		withAccountA(o)
		o.Cluster.PinnedAccounts = append(o.Cluster.PinnedAccounts, "A")
	})
	if got := s1.Routes().Config().PinnedAccounts; !slices.Contains(got, "A") {
		t.Fatalf("pinned accounts in force: %v", got)
	}
}
