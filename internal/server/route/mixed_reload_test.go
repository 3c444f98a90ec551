package route_test

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/server/auth"
	"github.com/sluicehq/sluice/internal/server/tlsconf"
	"github.com/sluicehq/sluice/internal/testutil"
	"github.com/sluicehq/sluice/internal/testutil/refbin"
)

// startRefCluster runs nats-server named name with the given cluster {}
// block body (cluster name c, a random port on 127.0.0.1).
func startRefCluster(t *testing.T, name, body string) *refNode {
	t.Helper()
	dir := t.TempDir()
	conf := fmt.Sprintf("listen: \"127.0.0.1:-1\"\nserver_name: %s\nports_file_dir: %q\ncluster { name: c, listen: \"127.0.0.1:-1\"\n%s\n}\n",
		name, dir, body)
	cf := filepath.Join(dir, "ref.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &refNode{t: t, bin: refbin.NATSServer(t), conf: cf, dir: dir}
	r.start()
	t.Cleanup(r.stop)
	return r
}

// Route TLS with verify_and_map, pinned_certs and a TLS timeout between
// sluice and nats-server, both ways (each dials the other through
// gossip-free explicit routes).
func TestMixedClusterRouteTLSMapAndPins(t *testing.T) {
	ca := testutil.NewCA(t, "routes")
	const user = "routes@example.com"
	sl := routeLeaf(ca, testutil.LeafSpec{Name: "sluice", Emails: []string{user}})
	rl := routeLeaf(ca, testutil.LeafSpec{Name: "ref", Emails: []string{user}})
	other := routeLeaf(ca, testutil.LeafSpec{Name: "other", Emails: []string{"other@example.com"}})
	s1 := node(t, "s1", func(o *server.Options) {
		o.Cluster.TLSConfig, o.Cluster.TLSMap, o.Cluster.Username = routeTLS(ca, sl), true, user
		o.Cluster.TLSPinnedCerts, o.Cluster.TLSTimeout = pins(sl, rl), 3*time.Second
	})
	ref := startRefCluster(t, "ref1", fmt.Sprintf(`authorization { user: %q }
  tls { cert_file: %q, key_file: %q, ca_file: %q, verify_and_map: true, timeout: 3, pinned_certs: [%q, %q, %q] }
  routes: ["nats-route://127.0.0.1:%d"]`, user, rl.CertFile, rl.KeyFile, ca.File,
		tlsconf.KeyID(sl.Cert), tlsconf.KeyID(rl.Cert), tlsconf.KeyID(other.Cert), s1.Routes().Port()))
	testutil.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if n := len(s1.Routes().Remotes()); n != 1 || !s1.Routes().PoolsFull() {
			return fmt.Errorf("s1: %d peers\n%s", n, ref.logs.String())
		}
		return nil
	})
	r, a := ref.connect(t), connect(t, s1)
	flows(t, r, a, "tls.ref.to.sluice", ref.logs.String)
	flows(t, a, r, "tls.sluice.to.ref", ref.logs.String)

	// A sluice server whose certificate names someone else is refused by
	// nats-server's verify_and_map, as it is by sluice's.
	u, _ := url.Parse(ref.route)
	s2 := node(t, "s2", func(o *server.Options) {
		o.Cluster.TLSConfig, o.Cluster.Username = routeTLS(ca, other), user
		o.Cluster.Routes = []*url.URL{u}
	})
	testutil.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if !strings.Contains(ref.logs.String(), "authentication error") {
			return fmt.Errorf("nats-server has not refused s2 yet\n%s", ref.logs.String())
		}
		return nil
	})
	// s2 may count the peer from its INFO until the refusal closes the
	// connection; it must not stay joined.
	testutil.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		if n := len(s2.Routes().Remotes()); n != 0 {
			return fmt.Errorf("s2 joined with a certificate naming another user")
		}
		return nil
	})
}

// Reloading sluice's cluster block in a cluster with nats-server: a
// route added and removed, and export permissions narrowed then widened
// (nats-server sends its interest again when sluice's INFO allows it).
func TestMixedClusterReload(t *testing.T) {
	s1 := node(t, "s1", nil)
	ref := startRefCluster(t, "ref1", "")
	u, err := url.Parse(ref.route)
	if err != nil {
		t.Fatal(err)
	}
	mustReload(t, s1, func(o *server.Options) { o.Cluster.Routes = []*url.URL{u} })
	testutil.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if n := len(s1.Routes().Remotes()); n != 1 || !s1.Routes().PoolsFull() {
			return fmt.Errorf("s1: %d peers\n%s", n, ref.logs.String())
		}
		return nil
	})
	r, a := ref.connect(t), connect(t, s1)
	flows(t, a, r, "reload.added", ref.logs.String)

	sub, _ := r.SubscribeSync("perm.x")
	r.Flush()
	waitInterest(t, s1, "perm.x", 1)
	mustReload(t, s1, func(o *server.Options) { o.Cluster.Export = &auth.SubjectPermission{Deny: []string{"perm.>"}} })
	waitInterest(t, s1, "perm.x", 0)
	a.Publish("perm.x", []byte("denied"))
	a.Flush()
	noMore(t, sub)
	mustReload(t, s1, func(o *server.Options) { o.Cluster.Export = nil })
	waitInterest(t, s1, "perm.x", 1)
	a.Publish("perm.x", []byte("allowed"))
	if m := next(t, sub); string(m.Data) != "allowed" {
		t.Fatalf("got %q", m.Data)
	}

	// Import narrowed: nats-server is told sluice no longer wants perm.in.
	in, _ := a.SubscribeSync("perm.in")
	a.Flush()
	flows(t, r, a, "perm.in.before", ref.logs.String)
	mustReload(t, s1, func(o *server.Options) { o.Cluster.Import = &auth.SubjectPermission{Deny: []string{"perm.in"}} })
	// What nats-server publishes on perm.in no longer reaches sluice: poll
	// until it stops, then check it stays stopped for a round trip.
	testutil.CheckFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		for {
			if _, err := in.NextMsg(0); err != nil {
				break
			}
		}
		r.Publish("perm.in", []byte("late"))
		r.Flush()
		a.Flush()
		if _, err := in.NextMsg(200 * time.Millisecond); err == nil {
			return fmt.Errorf("perm.in still crosses")
		}
		return nil
	})

	// The route removed: the reference server is let go.
	mustReload(t, s1, func(o *server.Options) { o.Cluster.Routes, o.Cluster.Import = nil, nil })
	waitPeers(t, s1, 0)
}

// A new route password on sluice cuts the nats-server route that joined
// with the old one; nats-server is told why and its redials fail until
// its own file has the new password.
func TestMixedClusterReloadRouteAuthorization(t *testing.T) {
	s1 := node(t, "s1", withRouteUser)
	ref := startRefCluster(t, "ref1", fmt.Sprintf(`routes: ["nats-route://ruser:rpass@127.0.0.1:%d"]`, s1.Routes().Port()))
	testutil.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if n := len(s1.Routes().Remotes()); n != 1 || !s1.Routes().PoolsFull() {
			return fmt.Errorf("s1: %d peers\n%s", n, ref.logs.String())
		}
		return nil
	})
	mustReload(t, s1, func(o *server.Options) { o.Cluster.Password = "rpass2" })
	waitPeers(t, s1, 0)
	testutil.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if !strings.Contains(ref.logs.String(), "Authorization Violation") {
			return fmt.Errorf("nats-server was not told\n%s", ref.logs.String())
		}
		return nil
	})
	if n := len(s1.Routes().Remotes()); n != 0 {
		t.Fatalf("nats-server came back with the old password")
	}
}
